"""EXPAND_DIMS (TFLite kernels/expand_dims.cc): insert a size-1 dimension; any element type."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.movement import Move, as_ints, fail


class ExpandDims(Move):
    indices = ((1, "axis", ("INT32", "INT64")),)

    @staticmethod
    def eval(params, x, axis):
        a = as_ints(axis)
        if a.size != 1:
            raise fail(f"EXPAND_DIMS: axis must hold one value, got {a.size}")
        n = x.ndim
        k = int(a[0])
        if k < 0:
            k += n + 1
        if not 0 <= k <= n:
            raise fail(f"EXPAND_DIMS: axis {int(a[0])} out of range for rank {n}")
        return np.expand_dims(x, k)
