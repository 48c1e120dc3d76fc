"""TILE (TFLite kernels/tile.cc, reference Tile): repeat the input multiples[i] times along axis i."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.movement import Move, as_ints, fail


class Tile(Move):
    indices = ((1, "multiples", ("INT32", "INT64")),)

    @staticmethod
    def eval(params, x, multiples):
        m = as_ints(multiples)
        if m.size != x.ndim:
            raise fail(f"TILE: {m.size} multiples for a rank-{x.ndim} input")
        if np.any(m < 0):
            raise fail(f"TILE: negative multiples {m.tolist()}")
        return np.tile(x, m.tolist()) if x.ndim else x.copy()
