"""SLICE (TFLite kernels/slice.cc, reference Slice): the block [begin, begin + size) of up to 5 dims."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.movement import Move, as_ints, fail


class Slice(Move):
    indices = ((1, "begin", ("INT32", "INT64")), (2, "size", ("INT32", "INT64")))

    @staticmethod
    def eval(params, x, begin, size):
        b, s = as_ints(begin), as_ints(size)
        n = x.ndim
        if n > 5:
            raise fail("SLICE: at most 5 dimensions")
        if b.size != n or s.size != n:
            raise fail(f"SLICE: begin {b.tolist()} and size {s.tolist()} must have {n} values")
        index = []
        for d in range(n):
            start = int(b[d])
            length = x.shape[d] - start if s[d] == -1 else int(s[d])
            if start < 0 or length < 0 or start + length > x.shape[d]:
                raise fail(f"SLICE: begin {b.tolist()} size {s.tolist()} out of range for {x.shape}")
            index.append(slice(start, start + length))
        return np.array(x[tuple(index)], order="C")
