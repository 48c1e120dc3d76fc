"""BROADCAST_ARGS (TFLite kernels/broadcast_args.cc): the shape two shapes broadcast to. Inputs
and output are 1-D int32 or int64 tensors of one type; shapes that do not broadcast are a
run-time error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, require_arity

SHAPE_TYPES = ("INT32", "INT64")


@dataclass(frozen=True)
class BroadcastArgsParams:
    dtype: np.dtype


class BroadcastArgs(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> BroadcastArgsParams:
        require_arity(op, 2, "BROADCAST_ARGS takes two shapes and gives 1 output")
        a, b = op.inputs
        if a.type not in SHAPE_TYPES or b.type != a.type or op.outputs[0].type != a.type:
            raise op.unsupported(f"BROADCAST_ARGS needs INT32 or INT64 throughout, got {a.type}, {b.type} -> "
                                 f"{op.outputs[0].type}")
        if len(a.shape) != 1 or len(b.shape) != 1:
            raise ModelError(f"{op.where()}: BROADCAST_ARGS' inputs must be 1-D")
        return BroadcastArgsParams(np.dtype(op.outputs[0].dtype))

    @staticmethod
    def eval(p: BroadcastArgsParams, a, b):
        sa, sb = (tuple(int(v) for v in as_ints(s)) for s in (a, b))
        try:
            return np.array(np.broadcast_shapes(sa, sb), p.dtype).reshape(-1)
        except ValueError as e:
            raise fail(f"BROADCAST_ARGS: shapes {list(sa)} and {list(sb)} do not broadcast") from e
