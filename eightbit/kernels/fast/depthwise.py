"""Compiled DEPTHWISE_CONV_2D loops (integer with fused requantization, and float32).

Output channel oc = ic * dm + m reads input channel ic through filter tap [fy, fx, oc]. Taps that
fall outside the image are skipped, as TFLite's reference loops skip them (the numpy reference
adds them as zero contributions, which changes nothing). Integer accumulators are int32 and wrap
like the C++; float taps are summed in (fy, fx) order in float32, then the bias is added, the
order of the numpy reference.
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.fast.jit import njit


def _depthwise_int(x, w, bias, in_zp, geo, dm, mult, left, right, out_zp, lo, hi, out, j0, j1):
    """x (N,H,W,C) int8/uint8; w (KH,KW,OC) int32 (filter minus its zero point); bias (OC) int32;
    output rows j0..j1 of the N * OH (batch, row) pairs."""
    n_, h_, w_, c_ = x.shape
    kh, kw, oc_ = w.shape
    sh, sw, dh, dw, pt, pl = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5]
    oh_, ow_ = out.shape[1], out.shape[2]
    for job in range(j0, j1):
        n = job // oh_
        oy = job % oh_
        acc = np.empty(oc_, np.int32)
        xs = np.empty(c_, np.int32)
        for ox in range(ow_):
            for c in range(oc_):
                acc[c] = bias[c]
            for fy in range(kh):
                iy = oy * sh - pt + fy * dh
                if iy < 0 or iy >= h_:
                    continue
                for fx in range(kw):
                    ix = ox * sw - pl + fx * dw
                    if ix < 0 or ix >= w_:
                        continue
                    if dm == 1:
                        for c in range(c_):
                            acc[c] += (np.int32(x[n, iy, ix, c]) - in_zp) * w[fy, fx, c]
                    else:
                        for c in range(c_):
                            xs[c] = np.int32(x[n, iy, ix, c]) - in_zp
                        for c in range(c_):
                            for m in range(dm):
                                acc[c * dm + m] += xs[c] * w[fy, fx, c * dm + m]
            for c in range(oc_):
                a = np.int64(acc[c])
                if left[c]:
                    a = (((a << left[c]) + 2147483648) & 4294967295) - 2147483648
                hm = (a * mult[c] + 1073741824) >> 31
                s = right[c]
                if s:
                    hm = (hm + ((np.int64(1) << s) >> 1) - (1 if hm < 0 else 0)) >> s
                y = hm + out_zp
                y = ((y + 2147483648) & 4294967295) - 2147483648
                if y < lo:
                    y = lo
                elif y > hi:
                    y = hi
                out[n, oy, ox, c] = y


depthwise_int = njit(_depthwise_int)


def _depthwise_int_f32(x, w, bias, in_zp, geo, dm, mult, left, right, out_zp, lo, hi, out, j0, j1):
    """_depthwise_int with the taps summed in float32 (SIMD-friendly), exact because the caller
    checked that KH * KW * max|x - zp| * max|w| < 2^24; w (KH,KW,OC) float32 (filter minus its zero
    point), bias (OC) int64 added after, in integers. The KH input rows an output row reads are
    converted to float32 (x - zp) once per output row, not once per tap."""
    n_, h_, w_, c_ = x.shape
    kh, kw, oc_ = w.shape
    sh, sw, dh, dw, pt, pl = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5]
    oh_, ow_ = out.shape[1], out.shape[2]
    zp = np.float32(in_zp)
    rows = np.empty((kh, w_, c_), np.float32)
    valid = np.empty(kh, np.bool_)
    acc = np.empty(oc_, np.float32)
    for job in range(j0, j1):
        n = job // oh_
        oy = job % oh_
        for fy in range(kh):
            iy = oy * sh - pt + fy * dh
            valid[fy] = 0 <= iy < h_
            if valid[fy]:
                for ix in range(w_):
                    for c in range(c_):
                        rows[fy, ix, c] = np.float32(x[n, iy, ix, c]) - zp
        for ox in range(ow_):
            acc[:] = 0.0
            for fy in range(kh):
                if not valid[fy]:
                    continue
                for fx in range(kw):
                    ix = ox * sw - pl + fx * dw
                    if ix < 0 or ix >= w_:
                        continue
                    if dm == 1:
                        for c in range(c_):
                            acc[c] += rows[fy, ix, c] * w[fy, fx, c]
                    else:
                        for c in range(c_):
                            for m in range(dm):
                                acc[c * dm + m] += rows[fy, ix, c] * w[fy, fx, c * dm + m]
            for c in range(oc_):
                a = np.int64(acc[c]) + bias[c]
                a = ((a + 2147483648) & 4294967295) - 2147483648
                a = (((a << left[c]) + 2147483648) & 4294967295) - 2147483648
                hm = (a * mult[c] + 1073741824) >> 31
                s = right[c]
                hm = (hm + ((np.int64(1) << s) >> 1) - ((hm < 0) & (s > 0))) >> s
                y = hm + out_zp
                y = ((y + 2147483648) & 4294967295) - 2147483648
                out[n, oy, ox, c] = min(max(y, lo), hi)


depthwise_int_f32 = njit(_depthwise_int_f32)


def _depthwise_float(x, w, bias, has_bias, geo, dm, lo, hi, out, j0, j1):
    """x (N,H,W,C) float32; w (KH,KW,OC) float32; out = clamp(sum of taps + bias)."""
    n_, h_, w_, c_ = x.shape
    kh, kw, oc_ = w.shape
    sh, sw, dh, dw, pt, pl = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5]
    oh_, ow_ = out.shape[1], out.shape[2]
    for job in range(j0, j1):
        n = job // oh_
        oy = job % oh_
        acc = np.empty(oc_, np.float32)
        for ox in range(ow_):
            for c in range(oc_):
                acc[c] = 0.0
            for fy in range(kh):
                iy = oy * sh - pt + fy * dh
                if iy < 0 or iy >= h_:
                    continue
                for fx in range(kw):
                    ix = ox * sw - pl + fx * dw
                    if ix < 0 or ix >= w_:
                        continue
                    if dm == 1:
                        for c in range(c_):
                            acc[c] += x[n, iy, ix, c] * w[fy, fx, c]
                    else:
                        for c in range(c_):
                            for m in range(dm):
                                acc[c * dm + m] += x[n, iy, ix, c] * w[fy, fx, c * dm + m]
            for c in range(oc_):
                v = acc[c]
                if has_bias:
                    v = v + bias[c]
                # std::min(std::max(v, lo), hi): NaN stays NaN
                if v < lo:
                    v = lo
                if v > hi:
                    v = hi
                out[n, oy, ox, c] = v


depthwise_float = njit(_depthwise_float)
