"""Fast float32 RESIZE_BILINEAR, bit-identical to kernels/resize_bilinear.py.

The reference's own coordinate tables (_float_coords: source rows / columns and fractions, in
float32) and, per output element, the same float32 operations in the same order:
v00 * wy0 * wx0 + v10 * wy1 * wx0 + v01 * wy0 * wx1 + v11 * wy1 * wx1, left to right (no fused
multiply-add: numba without fastmath). One compiled pass over the output instead of four
gathered copies of it; rows split over the threads. uint8 / int8 / int16 keep the reference eval.
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.fast.jit import HAVE_NUMBA, njit, parallel, work_ranges
from eightbit.kernels.resize_bilinear import ResizeBilinear, _float_coords

F32 = np.float32


def _resize(x, y0, y1, dy, x0, x1, dx, out, j0, j1):
    c_ = x.shape[3]
    oh_, ow_ = out.shape[1], out.shape[2]
    one = np.float32(1.0)
    for job in range(j0, j1):
        n = job // oh_
        oy = job % oh_
        wy1 = dy[oy]
        wy0 = one - wy1
        ya, yb = y0[oy], y1[oy]
        for ox in range(ow_):
            wx1 = dx[ox]
            wx0 = one - wx1
            xa, xb = x0[ox], x1[ox]
            for c in range(c_):
                r = x[n, ya, xa, c] * wy0 * wx0
                r = r + x[n, yb, xa, c] * wy1 * wx0
                r = r + x[n, ya, xb, c] * wy0 * wx1
                r = r + x[n, yb, xb, c] * wy1 * wx1
                out[n, oy, ox, c] = r


resize = njit(_resize)


class FastResizeBilinear(ResizeBilinear):
    @staticmethod
    def eval(p, x, size):
        if not HAVE_NUMBA or p.integer or p.dtype != np.float32 or x.dtype != np.float32:
            return ResizeBilinear.eval(p, x, size)
        out_h, out_w = (int(v) for v in np.asarray(size).reshape(-1)[:2])
        if out_h <= 0 or out_w <= 0:
            raise ValueError(f"output size must be positive, got {out_h}x{out_w}")
        n, h, w, c = x.shape
        flags = (p.align_corners, p.half_pixel_centers)
        _, y0, y1, dy = _float_coords(h, out_h, *flags)
        _, x0, x1, dx = _float_coords(w, out_w, *flags)
        out = np.empty((n, out_h, out_w, c), F32)
        xc, fn = np.ascontiguousarray(x), resize.run()
        parallel(lambda j0, j1: fn(xc, y0, y1, dy, x0, x1, dx, out, j0, j1), work_ranges(n * out_h, out_w * c * 4))
        return out
