"""REVERSE_V2 (TFLite kernels/reverse.cc): the input with the axes of input 1 (int32, negative
count from the end) reversed. LiteRT 2.3.0 takes only axes that, sorted, are consecutive
("Non-contiguous `axes` not supported"); we refuse the others the same way. Values are copied (quantized: same scale and zero point).
Types: float32, float16, uint8, int8, int16, int32, int64, bool."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, require_arity, require_same_type, require_type

REVERSE_TYPES = ("FLOAT32", "FLOAT16", "UINT8", "INT8", "INT16", "INT32", "INT64", "BOOL")


@dataclass(frozen=True)
class ReverseParams:
    dtype: np.dtype


class ReverseV2(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> ReverseParams:
        require_arity(op, 2, "REVERSE_V2 takes an input and an axis tensor, and gives 1 output")
        require_type(op, op.inputs[0], REVERSE_TYPES)
        require_type(op, op.inputs[1], ("INT32",), "axis")
        require_same_type(op, op.inputs[0], op.outputs[0])
        return ReverseParams(np.dtype(op.outputs[0].dtype))

    @staticmethod
    def eval(p: ReverseParams, x, axis):
        axes = as_ints(axis).tolist()
        for a in axes:
            if not -x.ndim <= a < x.ndim:
                raise fail(f"REVERSE_V2: axis {a} is out of range for a {x.ndim}-D input")
        resolved = sorted(a % x.ndim for a in axes)
        if any(b != a + 1 for a, b in zip(resolved, resolved[1:])):
            raise fail(f"REVERSE_V2: axes {axes} are not contiguous (TFLite reverses a run of adjacent axes)")
        return np.flip(x, axis=tuple(resolved)).copy() if axes else x.copy()
