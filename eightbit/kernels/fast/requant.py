"""Compiled requantization of GEMM accumulators, fused with the bias and the clamp.

TFLite's MultiplyByQuantizedMultiplier (the double-rounding build LiteRT ships) on an int32
accumulator, per output channel, exactly as kernels/fixedpoint.py computes it in numpy:
  a = wrap32(wrap32(acc + bias) << left)          (left = shift & 31 when shift > 0)
  h = (a * multiplier + 2^30) >> 31                (SaturatingRoundingDoublingHighMul; the
                                                   saturating case needs multiplier == INT32_MIN,
                                                   which quantize_multiplier never gives)
  h = (h + 2^(right-1) - [h < 0 and right > 0]) >> right   (RoundingDivideByPOT, right <= 31)
  y = clamp(wrap32(h + out_zp), lo, hi)
`fits(mult, shift)` says whether a layer's multipliers are within these bounds (else the kernel
runs the numpy reference path). The accumulator arrives as float32/float64 holding exact
integers (a BLAS GEMM) or as an integer array.

requant_rows takes the per-channel arrays; requant_table_rows the same arithmetic from the
int32 rows of table(bias, mult, shift), 8 lanes wide, and with nowrap = no_wrap(bound, bias,
shift, out_zp) (prepare proves that accumulators |acc| <= bound never make an int32 wrap and no
channel shifts left) without the wraps and the left shift: about 1.8x faster on a float32 or int32
accumulator, the same results.
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.fast.jit import njit

INT32_MIN = -(1 << 31)


def fits(mult, shift) -> bool:
    mult = np.asarray(mult, np.int64)
    shift = np.asarray(shift, np.int64)
    return bool(np.all((mult >= 0) & (mult < (1 << 31)) & (shift >= -31)))


def split_shift(shift):
    """(left, right) shift counts per channel: x86 masks the left count to 5 bits."""
    shift = np.asarray(shift, np.int64)
    return np.where(shift > 0, shift & 31, 0).astype(np.int64), np.maximum(-shift, 0).astype(np.int64)


def _requant_rows(acc, bias, mult, left, right, out_zp, lo, hi, out):
    # Branch-free over the channels (a shift by 0 and a rounding divide by 2^0 change nothing),
    # so the compiler vectorizes the inner loop.
    rows, cols = acc.shape
    half = (np.int64(1) << right) >> 1
    for r in range(rows):
        for c in range(cols):
            a = np.int64(acc[r, c]) + bias[c]
            a = ((a + 2147483648) & 4294967295) - 2147483648
            a = (((a << left[c]) + 2147483648) & 4294967295) - 2147483648
            h = (a * mult[c] + 1073741824) >> 31
            h = (h + half[c] - ((h < 0) & (right[c] > 0))) >> right[c]
            y = h + out_zp
            y = ((y + 2147483648) & 4294967295) - 2147483648
            out[r, c] = min(max(y, lo), hi)


requant_rows = njit(_requant_rows)


def _requant_double_rows(acc, bias, scale, out_zp, lo, hi, out):
    """LiteRT's reference FULLY_CONNECTED: int32(round(double(wrap32(acc + bias)) * scale[c])) +
    out_zp, clamped (std::round: halves away from zero; the caller checked that every product
    stays inside int32)."""
    rows, cols = acc.shape
    for r in range(rows):
        for c in range(cols):
            a = np.int64(acc[r, c]) + bias[c]
            a = ((a + 2147483648) & 4294967295) - 2147483648
            v = np.float64(a) * scale[c]
            m = abs(v)
            f = np.floor(m)
            if m - f >= 0.5:
                f += 1.0
            y = np.int64(f if v >= 0 else -f) + out_zp
            y = ((y + 2147483648) & 4294967295) - 2147483648
            if y < lo:
                y = lo
            elif y > hi:
                y = hi
            out[r, c] = y


requant_double_rows = njit(_requant_double_rows)


def _bias_clamp_rows(acc, bias, has_bias, lo, hi):
    """The float kernels' epilogue, in place: v + bias (float32), then std::min(std::max(v, lo),
    hi) as numpy's maximum/minimum compute it (NaN stays NaN)."""
    rows, cols = acc.shape
    for r in range(rows):
        for c in range(cols):
            v = acc[r, c]
            if has_bias:
                v = v + bias[c]
            v = v if (v >= lo or v != v) else lo
            v = v if (v <= hi or v != v) else hi
            acc[r, c] = v


bias_clamp_rows = njit(_bias_clamp_rows)


def table(bias, mult, shift) -> np.ndarray:
    """(6, C) int32 per-channel rows of the compiled per-element requantization (see
    requant_table_rows): bias wrapped to int32 (acc + bias wraps the same either way), multiplier,
    left shift, right shift, 1 where right > 0 else 0, 2^(right-1) (0 for right 0). int32, so
    that loops reading them vectorize 8 lanes wide. The caller checked fits(mult, shift)."""
    mult = np.asarray(mult, np.int64)
    bias = np.broadcast_to(np.asarray(bias, np.int64), mult.shape)
    left, right = split_shift(np.broadcast_to(np.asarray(shift, np.int64), mult.shape))
    half = (np.int64(1) << right) >> 1
    return np.stack([((bias + (1 << 31)) & 0xFFFFFFFF) - (1 << 31), mult, left, right, np.where(right > 0, 1, 0),
                     half]).astype(np.int32)


def no_wrap(acc_bound: int, bias, shift, out_zp: int) -> bool:
    """Whether requantizing accumulators |acc| <= acc_bound can skip every int32 wrap and the left
    shift: no channel shifts left, and |acc + bias| (so |h| and |h / 2^right|, which never
    exceed it by more than one) plus |out_zp| stays below 2^31."""
    bias = np.asarray(bias, np.int64)
    biggest = int(np.abs(bias).max(initial=0))
    return bool(np.all(np.asarray(shift) <= 0)) and acc_bound + biggest + abs(int(out_zp)) + 2 < (1 << 31)


def _requant_table_rows(acc, table, nowrap, out_zp, lo, hi, out):
    """requant_rows with the per-channel rows of `table` (6, cols) int32: the same results, fewer
    operations per element (the rounding by 2^right as (h + half - [h < 0 and right > 0]) >> right,
    one 32x32-bit product, int32 loads: 8 lanes wide). nowrap (no_wrap proved it for the layer's
    accumulator bound): no int32 wraps, no left shift.
    acc: integers, or floats holding exact integers (of magnitude below 2^63; nowrap: within the
    bound no_wrap was given)."""
    rows, cols = acc.shape
    if nowrap:
        for r in range(rows):
            for c in range(cols):
                p = np.int64(np.int32(np.int64(np.int32(acc[r, c])) + table[0, c])) * np.int64(table[1, c])
                h = (p + 1073741824) >> 31
                q = (h + table[5, c] - ((h < 0) & table[4, c])) >> table[3, c]
                out[r, c] = min(max(q + out_zp, lo), hi)
        return
    for r in range(rows):
        for c in range(cols):
            a = np.int32(np.int64(acc[r, c]) + table[0, c])
            a = np.int32(np.int64(a) << table[2, c])
            h = (np.int64(a) * np.int64(table[1, c]) + 1073741824) >> 31
            y = np.int32(((h + table[5, c] - ((h < 0) & table[4, c])) >> table[3, c]) + out_zp)
            out[r, c] = min(max(np.int64(y), lo), hi)


requant_table_rows = njit(_requant_table_rows)
