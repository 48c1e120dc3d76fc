"""LESS, LESS_EQUAL, GREATER, GREATER_EQUAL, EQUAL, NOT_EQUAL (TFLite kernels/comparisons.cc,
internal/reference/comparisons.h). Output BOOL, inputs broadcast.

float32 / int32 / int64 (and bool for EQUAL / NOT_EQUAL): compared directly; int16 ordering
comparisons (and unquantized int16 EQUAL) too, as LiteRT does.
int8 / uint8: each input is brought to a common real scale on its own: (x - zp) << 8 times
its scale as a Q31 multiplier (QuantizeMultiplierSmallerThanOneExp, so scales must be < 1),
and the two int32 results are compared.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from eightbit.kernels import binary_common as bc
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import OpContext
from eightbit.kernels.opdata import Rescale

_PLAIN = ("FLOAT32", "INT32", "INT64")
_LEFT_SHIFT = 8


@dataclass(frozen=True, eq=False)
class Compare:
    """fn on the raw values, or (quantized) on both inputs rescaled to a common scale (left shift 8)."""

    fn: object
    quant: tuple | None = None  # (Rescale of input 1, of input 2)


def _prepare(op: OpContext, name: str, fn, allow_bool: bool) -> Compare:
    t = bc.binary_input_type(op, output="BOOL")
    if t in _PLAIN or (allow_bool and t == "BOOL"):
        return Compare(fn)
    if t == "INT16":
        # What LiteRT 2.3.0's reference does with int16 (measured, no source at hand): the
        # ordering comparisons compare raw values whatever the scales; EQUAL compares raw values
        # when unquantized. Quantized EQUAL / NOT_EQUAL rescale in a way we do not reproduce
        # exactly, and unquantized NOT_EQUAL leaves its output unwritten: both refused.
        if name not in ("EQUAL", "NOT_EQUAL"):
            return Compare(fn)
        if name == "EQUAL" and not any(inp.quantized for inp in op.inputs):
            return Compare(fn)
        raise op.unsupported(f"{name} on int16 is not reproducible against TFLite's reference")
    if t not in ("INT8", "UINT8"):
        raise op.unsupported(f"{name} has no kernel for {t}")
    quant = []
    for inp in op.inputs:
        if not inp.quantized or not 0.0 < inp.scale < 1.0:
            raise op.unsupported(f"quantized {name} needs input scales in (0, 1), got {inp.scale}")
        m, s = fp.quantize_multiplier(inp.scale)
        quant.append(Rescale(-inp.zero_point, m, s))
    return Compare(fn, tuple(quant))


def _eval(params, x1, x2):
    if params.quant is not None:
        x1 = bc.rescaled(x1, params.quant[0], _LEFT_SHIFT)
        x2 = bc.rescaled(x2, params.quant[1], _LEFT_SHIFT)
    return np.asarray(params.fn(x1, x2), dtype=np.bool_)


class _Comparison(bc.Binary):
    """One comparison kernel: the subclasses differ only in op name, operator and bool support."""

    name = ""
    fn = None
    allow_bool = False

    @classmethod
    def prepare(cls, op: OpContext):
        return _prepare(op, cls.name, cls.fn, cls.allow_bool)

    eval = staticmethod(_eval)


class Less(_Comparison):
    name, fn, allow_bool = "LESS", staticmethod(operator.lt), False


class LessEqual(_Comparison):
    name, fn, allow_bool = "LESS_EQUAL", staticmethod(operator.le), False


class Greater(_Comparison):
    name, fn, allow_bool = "GREATER", staticmethod(operator.gt), False


class GreaterEqual(_Comparison):
    name, fn, allow_bool = "GREATER_EQUAL", staticmethod(operator.ge), False


class Equal(_Comparison):
    name, fn, allow_bool = "EQUAL", staticmethod(operator.eq), True


class NotEqual(_Comparison):
    name, fn, allow_bool = "NOT_EQUAL", staticmethod(operator.ne), True
