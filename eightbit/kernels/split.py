"""SPLIT (TFLite kernels/split.cc): cut input 1 into num_splits equal parts along the axis of input 0."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, index_operand, require_type

SPLIT_TYPES = frozenset({"FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64"})


@dataclass(frozen=True, eq=False)
class SplitParams:
    """num_splits (= the number of outputs)."""

    n: int


class Split(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        index_operand(op, 0, what="axis")
        x = op.inputs[1]
        require_type(op, x, SPLIT_TYPES)
        n = int(op.options.get("num_splits", 0))
        if n != len(op.outputs) or n <= 0:
            raise ModelError(f"{op.where()}: num_splits {n} but {len(op.outputs)} outputs")
        for t in op.outputs:
            if t.type != x.type:
                raise ModelError(f"{op.where()}: output type {t.type} differs from the input's {x.type}")
        return SplitParams(n=n)

    @staticmethod
    def eval(params, axis, x):
        a = as_ints(axis)
        if a.size != 1:
            raise fail("SPLIT: the axis must be a single value")
        k = int(a[0])
        if k < 0:
            k += x.ndim
        if not 0 <= k < x.ndim:
            raise fail(f"SPLIT: axis {int(a[0])} out of range for rank {x.ndim}")
        n = params.n
        if x.shape[k] % n:
            raise fail(f"SPLIT: dimension {x.shape[k]} is not divisible by num_splits {n}")
        return tuple(np.ascontiguousarray(p) for p in np.split(x, n, axis=k))
