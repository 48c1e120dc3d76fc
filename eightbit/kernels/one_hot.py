"""ONE_HOT (TFLite kernels/one_hot.cc): indices (int32 / int64), depth (int32 scalar), on_value
and off_value (scalars of the output's type: float32, int8, uint8, int32, int64, bool).
The output has a new dimension of size depth at OneHotOptions.axis (-1: last), holding on_value
where the position equals the index and off_value elsewhere; an index outside [0, depth) gives
off_value everywhere. Values are copied (no rescaling)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_arity, require_type

VALUE_TYPES = ("FLOAT32", "INT8", "UINT8", "INT32", "INT64", "BOOL")  # LiteRT 2.3.0 has no int16


@dataclass(frozen=True)
class OneHotParams:
    axis: int
    dtype: np.dtype


class OneHot(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> OneHotParams:
        require_arity(op, 4, "ONE_HOT takes indices, depth, on_value and off_value")
        indices, depth, on, off = op.inputs
        require_type(op, indices, ("INT32", "INT64"), "indices")
        require_type(op, depth, ("INT32",), "depth")
        require_type(op, on, VALUE_TYPES, "on_value")
        out = op.outputs[0]
        if off.type != on.type or out.type != on.type:
            raise ModelError(f"{op.where()}: on_value, off_value and the output must share a type "
                             f"({on.type}, {off.type}, {out.type})")
        rank = len(indices.shape) + 1
        axis = int(op.options.get("axis", -1))
        if not -1 <= axis < rank:
            raise ModelError(f"{op.where()}: OneHotOptions.axis {axis} is outside [-1, {rank})")
        return OneHotParams(axis if axis >= 0 else rank - 1, np.dtype(out.dtype))

    @staticmethod
    def eval(p: OneHotParams, indices, depth, on_value, off_value):
        d = int(np.asarray(depth).reshape(-1)[0])
        if d < 0:
            raise fail(f"ONE_HOT: depth {d} is negative")
        idx = np.expand_dims(np.asarray(indices).astype(np.int64), p.axis)
        shape = [1] * idx.ndim
        shape[p.axis] = d
        hot = idx == np.arange(d, dtype=np.int64).reshape(shape)
        on, off = (np.asarray(v).reshape(-1)[0] for v in (on_value, off_value))
        return np.where(hot, on, off).astype(p.dtype)
