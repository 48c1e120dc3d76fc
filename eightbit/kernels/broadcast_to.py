"""BROADCAST_TO (TFLite kernels/broadcast_to.cc, reference BroadcastTo): numpy broadcasting, up to 8 dims."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.movement import Move, as_ints, fail

MAX_DIMS = 8


class BroadcastTo(Move):
    indices = ((1, "shape", ("INT32", "INT64")),)

    @staticmethod
    def eval(params, x, shape):
        target = as_ints(shape).tolist()
        if len(target) > MAX_DIMS or len(target) < x.ndim:
            raise fail(f"BROADCAST_TO: cannot broadcast {x.shape} to {target} (at most {MAX_DIMS} dims)")
        for d_in, d_out in zip(x.shape[::-1], target[::-1]):
            if d_in != 1 and d_in != d_out:
                raise fail(f"BROADCAST_TO: cannot broadcast {x.shape} to {target}")
        if any(d < 0 for d in target):
            raise fail(f"BROADCAST_TO: negative dimension in {target}")
        return np.array(np.broadcast_to(x, target), order="C")
