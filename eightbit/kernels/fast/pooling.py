"""Fast AVERAGE_POOL_2D and MAX_POOL_2D: the reference arithmetic of kernels/pooling.py as
compiled loops over the valid taps of each window (in (filter_y, filter_x) order), with the
geometry worked out once in prepare."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.fast import workspace
from eightbit.kernels.fast.conv import Fallback
from eightbit.kernels.fast.jit import HAVE_NUMBA, njit, parallel, work_ranges
from eightbit.kernels.padding import compute_padding_height_width
from eightbit.kernels.pooling import AveragePool2D, MaxPool2D, PoolParams


def _pool(x, geo, is_max, is_float, unsigned, lowest, lo, hi, out, j0, j1):
    """Returns False when a window covers no input element (AVERAGE_POOL_2D's error)."""
    n_, h_, w_, c_ = x.shape
    sh, sw, fh, fw, pt, pl = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5]
    oh_, ow_ = out.shape[1], out.shape[2]
    ok = True
    for job in range(j0, j1):
        n = job // oh_
        oy = job % oh_
        facc = np.empty(c_, np.float32)
        iacc = np.empty(c_, np.int64)
        for ox in range(ow_):
            count = 0
            for c in range(c_):
                facc[c] = lowest if is_max else 0.0
                iacc[c] = np.int64(lowest) if is_max else 0
            for fy in range(fh):
                iy = oy * sh - pt + fy
                if iy < 0 or iy >= h_:
                    continue
                for fx in range(fw):
                    ix = ox * sw - pl + fx
                    if ix < 0 or ix >= w_:
                        continue
                    count += 1
                    for c in range(c_):
                        if is_float:
                            t = np.float32(x[n, iy, ix, c])
                            if is_max:
                                if t != t:
                                    t = np.float32(lowest)
                                facc[c] = facc[c] if facc[c] >= t else t
                            else:
                                facc[c] = facc[c] + t
                        else:
                            t = np.int64(x[n, iy, ix, c])
                            if is_max:
                                iacc[c] = iacc[c] if iacc[c] >= t else t
                            else:
                                iacc[c] += t
            if count == 0 and not is_max:
                ok = False
                count = 1
            for c in range(c_):
                if is_float:
                    v = facc[c] if is_max else facc[c] / np.float32(count)
                    v = v if (v >= lo or v != v) else np.float32(lo)
                    v = v if (v <= hi or v != v) else np.float32(hi)
                    out[n, oy, ox, c] = v
                else:
                    a = iacc[c]
                    if not is_max:
                        half = count // 2
                        if unsigned or a > 0:
                            a = (a + half) // count
                        else:
                            a = -((half - a) // count)
                    out[n, oy, ox, c] = min(max(a, np.int64(lo)), np.int64(hi))
    return ok


pool = njit(_pool)


@dataclass(frozen=True)
class FastPoolParams:
    ref: PoolParams
    x_shape: tuple
    geo: np.ndarray  # int64 (stride_h, stride_w, filter_h, filter_w, pad_top, pad_left)
    out_hw: tuple


def _geometry(p, x_shape):
    _, h, w, _ = x_shape
    g = compute_padding_height_width(p.stride_h, p.stride_w, 1, 1, h, w, p.filter_h, p.filter_w,
                                     p.padding)
    geo = np.array([p.stride_h, p.stride_w, p.filter_h, p.filter_w, g.height, g.width], np.int64)
    return geo, (max(g.out_height, 0), max(g.out_width, 0))


def _prepare(reference, op):
    p = reference.prepare(op)
    if not HAVE_NUMBA:
        return Fallback(p)
    x_shape = tuple(int(d) for d in op.inputs[0].shape)
    return FastPoolParams(p, x_shape, *_geometry(p, x_shape))


def _eval(params, x, is_max):
    p = params.ref
    geo, (oh, ow) = (params.geo, params.out_hw) if x.shape == params.x_shape else _geometry(p, x.shape)
    dtype = np.dtype(p.dtype)
    out = workspace.empty((x.shape[0], oh, ow, x.shape[3]), dtype)
    lowest = float(np.finfo(dtype).min) if p.float else float(np.iinfo(dtype).min)
    lo, hi = p.clamp
    x = np.ascontiguousarray(x)
    fn = pool.run()
    oks = []

    def rows(j0, j1):
        oks.append(fn(x, geo, is_max, p.float, p.unsigned, lowest, float(lo), float(hi), out, j0, j1))

    parallel(rows, work_ranges(x.shape[0] * oh, ow * x.shape[3] * int(geo[2] * geo[3])))
    if not all(oks) and x.size:
        raise ValueError("AVERAGE_POOL_2D: a pooling window covers no input element")
    return out


class FastAveragePool2D(AveragePool2D):
    @staticmethod
    def prepare(op):
        return _prepare(AveragePool2D, op)

    @staticmethod
    def eval(params, x):
        if type(params) is Fallback:
            return AveragePool2D.eval(params.params, x)
        with np.errstate(over="ignore", invalid="ignore"):
            return _eval(params, x, False)


class FastMaxPool2D(MaxPool2D):
    @staticmethod
    def prepare(op):
        return _prepare(MaxPool2D, op)

    @staticmethod
    def eval(params, x):
        if type(params) is Fallback:
            return MaxPool2D.eval(params.params, x)
        return _eval(params, x, True)
