"""SPLIT_V (TFLite kernels/split_v.cc): cut input 0 along the axis (input 2) into size_splits (input 1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, index_operand, require_type
from eightbit.kernels.split import SPLIT_TYPES


@dataclass(frozen=True, eq=False)
class SplitVParams:
    """The number of outputs."""

    n: int


class SplitV(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x = op.inputs[0]
        require_type(op, x, SPLIT_TYPES)
        index_operand(op, 1, what="size_splits")
        index_operand(op, 2, ("INT32",), "axis")
        for t in op.outputs:
            if t.type != x.type:
                raise ModelError(f"{op.where()}: output type {t.type} differs from the input's {x.type}")
        return SplitVParams(n=len(op.outputs))

    @staticmethod
    def eval(params, x, size_splits, axis):
        a = as_ints(axis)
        if a.size != 1:
            raise fail("SPLIT_V: the axis must be a single value")
        k = int(a[0])
        if k < 0:
            k += x.ndim
        if not 0 <= k < x.ndim:
            raise fail(f"SPLIT_V: axis {int(a[0])} out of range for rank {x.ndim}")
        sizes = as_ints(size_splits).copy()
        n = params.n
        if sizes.size != n:
            raise fail(f"SPLIT_V: {sizes.size} size_splits for {n} outputs")
        dim = x.shape[k]
        unknown = np.flatnonzero(sizes == -1)
        if unknown.size > 1:
            raise fail("SPLIT_V: at most one size_split may be -1")
        if unknown.size == 1:
            sizes[unknown[0]] = dim - (int(sizes.sum()) + 1)
        if np.any(sizes < 0) or int(sizes.sum()) != dim:
            raise fail(f"SPLIT_V: size_splits {as_ints(size_splits).tolist()} do not add up to {dim}")
        cuts = np.cumsum(sizes)[:-1]
        return tuple(np.ascontiguousarray(p) for p in np.split(x, cuts, axis=k))
