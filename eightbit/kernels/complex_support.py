"""REAL, IMAG, COMPLEX_ABS (TFLite kernels/complex_support.cc): the real part, the imaginary part
or the magnitude of each element of a complex64 (complex128) tensor, as float32 (float64) of the
same shape. The magnitude is std::abs, a hypot: no overflow for parts near the float range."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext

_PART_TYPE = {"COMPLEX64": ("FLOAT32", np.float32), "COMPLEX128": ("FLOAT64", np.float64)}


@dataclass(frozen=True)
class ComplexParams:
    dtype: np.dtype


class _ComplexPart(Kernel):
    name = ""

    @classmethod
    def prepare(cls, op: OpContext) -> ComplexParams:
        if len(op.inputs) != 1 or op.inputs[0] is None or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: {cls.name} takes one complex input and gives one output")
        x, out = op.inputs[0], op.outputs[0]
        if x.type not in _PART_TYPE:
            raise op.unsupported(f"{cls.name} runs COMPLEX64 or COMPLEX128 inputs, not {x.type}")
        want, dtype = _PART_TYPE[x.type]
        if out.type != want:
            raise ModelError(f"{op.where()}: {cls.name} of {x.type} gives {want}, but the output is {out.type}")
        return ComplexParams(np.dtype(dtype))

    @classmethod
    def eval(cls, p: ComplexParams, x):
        return np.array(cls.part(x), dtype=p.dtype)

    @staticmethod
    def part(x):
        raise NotImplementedError


class Real(_ComplexPart):
    name = "REAL"
    part = staticmethod(np.real)


class Imag(_ComplexPart):
    name = "IMAG"
    part = staticmethod(np.imag)


class ComplexAbs(_ComplexPart):
    name = "COMPLEX_ABS"
    # std::abs of std::complex is the C library's hypot; numpy's complex abs differs in the last
    # bit on ~7% of float32 values, np.hypot of the parts does not (measured on LiteRT 2.3.0).
    part = staticmethod(lambda x: np.hypot(x.real, x.imag))
