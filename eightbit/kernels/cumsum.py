"""CUMSUM (TFLite kernels/cumsum.cc, reference CumSum): running sums along the axis of input 1
(an int32 scalar, negative counts from the end). CumsumOptions: `exclusive` (each sum leaves out
its own element, the first is 0), `reverse` (sums run from the end). float32 sums in float32, one
element after the other; int32 / int64 wrap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, require_arity, require_same_type, require_type

CUMSUM_TYPES = ("FLOAT32", "INT32", "INT64")


@dataclass(frozen=True)
class CumsumParams:
    exclusive: bool
    reverse: bool
    dtype: np.dtype


class Cumsum(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> CumsumParams:
        require_arity(op, 2, "CUMSUM takes an input and an axis, and gives 1 output")
        require_type(op, op.inputs[0], CUMSUM_TYPES)
        require_type(op, op.inputs[1], ("INT32",), "axis")
        require_same_type(op, op.inputs[0], op.outputs[0])
        return CumsumParams(bool(op.options.get("exclusive", False)), bool(op.options.get("reverse", False)),
                            np.dtype(op.outputs[0].dtype))

    @staticmethod
    def eval(p: CumsumParams, x, axis):
        a = as_ints(axis)
        if a.size != 1 or not -x.ndim <= int(a[0]) < x.ndim:
            raise fail(f"CUMSUM: axis {a.tolist()} is not one axis of a {x.ndim}-D input")
        ax = int(a[0]) % x.ndim
        v = np.flip(x, ax) if p.reverse else x
        with np.errstate(over="ignore", invalid="ignore"):
            s = np.cumsum(v, axis=ax, dtype=p.dtype)  # add.accumulate: one element after the other
            if p.exclusive:
                s = np.concatenate([np.zeros_like(np.take(s, [0], axis=ax)), np.delete(s, -1, axis=ax)], axis=ax) \
                    if x.shape[ax] else s
        return np.ascontiguousarray(np.flip(s, ax) if p.reverse else s)
