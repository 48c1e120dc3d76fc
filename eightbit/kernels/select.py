"""SELECT and SELECT_V2 (TFLite kernels/select.cc, reference select).

out = x where condition else y, on raw values of any dtype (quantized x, y and output share
one scale, so nothing is requantized).
SELECT: condition has x's shape, or is a scalar, or is rank 1 and picks whole rows along x's
first dimension; x and y have the same shape.
SELECT_V2: condition, x and y broadcast together.
When every tensor has one element, TFLite keeps the output's declared shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels import binary_common as bc
from eightbit.kernels.base import Kernel, OpContext


def _prepare(op: OpContext, v2: bool) -> dict:
    bc.check_inputs(op, 3)
    cond, x, y = op.inputs
    out = op.outputs[0]
    if cond.type != "BOOL":
        raise op.unsupported(f"condition is {cond.type}, must be BOOL")
    if x.type != y.type or out.type != x.type:
        raise op.unsupported(f"value types differ (x {x.type}, y {y.type}, output {out.type})")
    if x.dtype == np.object_:
        raise op.unsupported(f"no kernel for {x.type}")
    shapes = [tuple(t.shape) for t in (cond, x, y)]
    if v2:
        bc.broadcast_shape(op, cond, x, y)
    elif not (shapes[0] == shapes[1] == shapes[2]) and not all(int(np.prod(s)) == 1 for s in shapes):
        if shapes[1] != shapes[2]:
            raise ModelError(f"{op.where()}: x {shapes[1]} and y {shapes[2]} must have the same shape")
        low_rank = len(shapes[0]) == 0 or (
            len(shapes[0]) == 1 and len(shapes[1]) >= 1 and shapes[0][0] == shapes[1][0]
        )
        if not low_rank:
            raise ModelError(
                f"{op.where()}: condition {shapes[0]} must match x {shapes[1]}, be a scalar, "
                "or be rank 1 along x's first dimension"
            )
    return SelectParams(v2=v2, out_shape=tuple(out.shape), dtype=out.dtype)


def _eval(params, cond, x, y):
    cond = np.asarray(cond, dtype=np.bool_)
    if cond.size == 1 and x.size == 1 and y.size == 1 and int(np.prod(params.out_shape)) == 1:
        return np.asarray(np.where(cond, x, y), dtype=params.dtype).reshape(params.out_shape)
    if not params.v2 and cond.ndim == 1 and x.ndim > 1:
        cond = cond.reshape(cond.shape + (1,) * (x.ndim - 1))  # rank-1 condition selects rows
    return np.asarray(np.where(cond, x, y), dtype=params.dtype)


@dataclass(frozen=True, eq=False)
class SelectParams:
    """SELECT_V2 broadcasting (or SELECT's rank-1 condition), the output shape and type."""

    v2: bool
    out_shape: tuple
    dtype: object


class Select(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        return _prepare(op, v2=False)

    eval = staticmethod(_eval)


class SelectV2(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        return _prepare(op, v2=True)

    eval = staticmethod(_eval)
