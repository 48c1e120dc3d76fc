"""BITWISE_XOR and RIGHT_SHIFT (TFLite kernels/bitwise_xor.cc, right_shift.cc): elementwise on two
same-typed integer tensors (int8, uint8, int16, uint16, int32, uint32), numpy broadcasting (TFLite's
BroadcastBinaryFunction4DSlow: broadcasts up to 4-D). RIGHT_SHIFT clamps the shift to
[0, bits - 1] first (arithmetic shift for signed types)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_type

INTEGERS = ("INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32")


@dataclass(frozen=True)
class BitwiseParams:
    dtype: np.dtype


class _IntegerBinary(Kernel):
    name = ""

    @classmethod
    def prepare(cls, op: OpContext) -> BitwiseParams:
        if len(op.inputs) != 2 or any(t is None for t in op.inputs) or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: {cls.name} takes two inputs and gives one output")
        a, b = op.inputs
        require_type(op, a, INTEGERS, "input 0")
        if b.type != a.type or op.outputs[0].type != a.type:
            raise ModelError(f"{op.where()}: {cls.name}'s inputs and output must share one type, got "
                             f"{a.type}, {b.type}, {op.outputs[0].type}")
        return BitwiseParams(np.dtype(a.dtype))

    @classmethod
    def eval(cls, p: BitwiseParams, a, b):
        if a.shape != b.shape and max(a.ndim, b.ndim) > 4:
            raise fail(f"{cls.name}: broadcasting above 4-D is not supported (TFLite's 4-D broadcast)")
        return np.asarray(cls.function(a, b), dtype=p.dtype)


class BitwiseXor(_IntegerBinary):
    name = "BITWISE_XOR"
    function = staticmethod(np.bitwise_xor)


def _right_shift(a, b):
    bits = a.dtype.itemsize * 8
    return np.right_shift(a, np.clip(b.astype(np.int64), 0, bits - 1).astype(a.dtype))


class RightShift(_IntegerBinary):
    name = "RIGHT_SHIFT"
    function = staticmethod(_right_shift)
