"""TRANSPOSE (TFLite kernels/transpose.cc, reference TransposeImpl): permute up to 6 dimensions."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.movement import Move, as_ints, fail


class Transpose(Move):
    indices = ((1, "perm", ("INT32",)),)  # TFLite reads perm as int32 whatever its declared type

    @staticmethod
    def eval(params, x, perm):
        p = as_ints(perm)
        n = x.ndim
        if n > 6:
            raise fail("TRANSPOSE: at most 6 dimensions")
        if p.size != n:
            raise fail(f"TRANSPOSE: perm {p.tolist()} does not match rank {n}")
        p = np.where(p < 0, p + n, p)  # TFLite counts negative entries from the end
        if np.any(p < 0) or np.any(p >= n) or len(set(p.tolist())) != n:
            raise fail(f"TRANSPOSE: perm {p.tolist()} is not a permutation of 0..{n - 1}")
        return np.array(np.transpose(x, p), order="C")
