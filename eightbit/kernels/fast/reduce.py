"""Fast MEAN (float32, int8, uint8, int16), bit-identical to kernels/reduce.py.

When the reduced axes form one block of consecutive axes (NHWC's (1, 2), the usual global
average pool), the input is viewed as (outer, reduced, inner) without a copy and one compiled
pass sums the reduced elements of every (outer, inner) output in the input's row-major order:
float32 one rounding per addition, as the reference's sequential sum (so the same bits), integers
in int64 (exact; the reference wraps the int64 total to int32 afterwards, as we do). The quantized
requantization then runs on the (small) totals with the reference's own fixed-point functions.
Other axis sets, empty tensors and int32 / int64 keep the reference eval.
"""

from __future__ import annotations

import functools

import numpy as np

from eightbit.kernels.fast.jit import HAVE_NUMBA, njit, parallel, work_ranges
from eightbit.kernels.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from eightbit.kernels.reduce import Mean, _axes, _out_shape

F32 = np.float32


def _sum_middle_f32(x, out, o0, o1):
    """out[o, c] = x[o, 0, c] + x[o, 1, c] + ... in float32, for o in o0..o1 (starting from the
    first element, as the reference's cumulative sum: a sum of -0.0 stays -0.0)."""
    _, r_, c_ = x.shape
    for o in range(o0, o1):
        for c in range(c_):
            out[o, c] = np.float32(x[o, 0, c])
        for r in range(1, r_):
            for c in range(c_):
                out[o, c] = out[o, c] + np.float32(x[o, r, c])


def _sum_middle_int(x, out, o0, o1):
    _, r_, c_ = x.shape
    for o in range(o0, o1):
        for c in range(c_):
            out[o, c] = 0
        for r in range(r_):
            for c in range(c_):
                out[o, c] += np.int64(x[o, r, c])


def _mean_quant(x, q, out, o0, o1):
    """The quantized MEAN of sum_middle_int's blocks, requantized in the same pass as the
    reference's QuantizedMeanOrSum: t = wrap32(wrap32(sum) - zp_in * n), then
    MultiplyByQuantizedMultiplier(t, mult, shift) (left = shift & 31 when shift > 0, right <= 31)
    + zp_out, clamped to the output type. q int64 (n, zp_in, mult, left, right, zp_out, lo, hi)."""
    _, r_, c_ = x.shape
    n, zp_in, mult, left, right, zp_out, lo, hi = q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]
    half = (np.int64(1) << right) >> 1
    for o in range(o0, o1):
        for c in range(c_):
            out[o, c] = 0
        for r in range(r_):
            for c in range(c_):
                out[o, c] += np.int64(x[o, r, c])
        for c in range(c_):
            t = np.int64(np.int32(np.int64(np.int32(out[o, c])) - zp_in * n))
            a = np.int64(np.int32(t << left))
            h = (a * mult + 1073741824) >> 31
            h = (h + half - ((h < 0) & (right > 0))) >> right
            out[o, c] = min(max(h + zp_out, lo), hi)


sum_middle_f32 = njit(_sum_middle_f32)
sum_middle_int = njit(_sum_middle_int)
mean_quant = njit(_mean_quant)


def _block(shape, axes):
    """(outer, reduced, inner) sizes when axes are consecutive, else None."""
    if not axes or tuple(axes) != tuple(range(axes[0], axes[-1] + 1)):
        return None
    outer = int(np.prod(shape[:axes[0]], dtype=np.int64))
    reduced = int(np.prod(shape[axes[0]:axes[-1] + 1], dtype=np.int64))
    inner = int(np.prod(shape[axes[-1] + 1:], dtype=np.int64))
    return outer, reduced, inner


@functools.lru_cache(maxsize=256)
def _block_of(shape: tuple, axes: tuple):
    return _block(shape, axes)


class FastMean(Mean):
    @staticmethod
    def eval(p, x, axis):
        axes = _axes(axis, x.ndim)
        block = _block_of(x.shape, axes)
        kind_ok = p.type == "FLOAT32" or p.quant
        if not HAVE_NUMBA or block is None or x.size == 0 or not kind_ok:
            return Mean.eval(p, x, axis)
        outer, n, inner = block
        view = np.ascontiguousarray(x).reshape(outer, n, inner)
        out_shape = _out_shape(x.shape, axes, p.keep_dims)
        jobs = work_ranges(outer, n * inner)
        if p.type == "FLOAT32":
            total = np.empty((outer, inner), F32)
            fn = sum_middle_f32.run()
            parallel(lambda o0, o1: fn(view, total, o0, o1), jobs)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                return np.asarray(total / F32(n), F32).reshape(out_shape)
        mult, shift = p.multiplier, p.shift
        s = min(n.bit_length() - 1, 32, 31 + shift)
        mult = (mult << s) // n
        shift -= s
        total = np.empty((outer, inner), np.int64)
        info = np.iinfo(p.dtype)
        if 0 <= mult < (1 << 31) and shift >= -31:  # the reference's arithmetic, compiled
            q = np.array([n, p.zp_in, mult, shift & 31 if shift > 0 else 0, max(-shift, 0), p.zp_out, info.min,
                          info.max], np.int64)
            fn = mean_quant.run()
            parallel(lambda o0, o1: fn(view, q, total, o0, o1), jobs)
            return total.astype(p.dtype).reshape(out_shape)
        fn = sum_middle_int.run()
        parallel(lambda o0, o1: fn(view, total, o0, o1), jobs)
        # The reference QuantizedMeanOrSum (kernels/reduce.py) on the totals.
        shifted = wrap_int32(wrap_int32(total) - p.zp_in * n)
        y = multiply_by_quantized_multiplier(shifted, mult, shift) + p.zp_out
        return np.asarray(np.clip(y, info.min, info.max), p.dtype).reshape(out_shape)
