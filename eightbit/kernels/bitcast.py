"""BITCAST (TFLite kernels/bitcast.cc): the input's bytes reinterpreted as the output's type.
Equal element sizes keep the shape; a wider input gains a last dimension (input size / output
size); a narrower one must end in a dimension of (output size / input size), which goes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import ANY_TYPE, fail, require_type


@dataclass(frozen=True)
class BitcastParams:
    dtype: np.dtype


class Bitcast(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> BitcastParams:
        if len(op.inputs) != 1 or op.inputs[0] is None or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: BITCAST takes one input and gives one output")
        require_type(op, op.inputs[0], ANY_TYPE - {"BOOL"})
        require_type(op, op.outputs[0], ANY_TYPE - {"BOOL"}, "output")
        return BitcastParams(np.dtype(op.outputs[0].dtype))

    @staticmethod
    def eval(p: BitcastParams, x):
        a, b = x.dtype.itemsize, p.dtype.itemsize
        data = np.ascontiguousarray(x)
        if a == b:
            return data.view(p.dtype).reshape(x.shape)
        if a > b:
            return data.reshape(-1).view(p.dtype).reshape(x.shape + (a // b,))
        if x.ndim == 0 or x.shape[-1] != b // a:
            raise fail(f"BITCAST: a {x.dtype} input of shape {x.shape} must end in a dimension of {b // a}")
        return data.reshape(-1).view(p.dtype).reshape(x.shape[:-1])
