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



def _depthwise_quant(x, wt, chan, nowrap, in_zp, geo, out_zp, lo, hi, rows, keys, acc, out, j0, j1):
    """Output rows j0..j1 of the N * OH (batch, row) pairs of an 8-bit depthwise layer, requantized
    in the same pass; out viewed as (N * OH, OW * OC).

    x (N,H,W,C) int8/uint8; geo int64 (SH, SW, DH, DW, pad top, pad left, KW, OC, OH, ring). The output columns go in tiles of T = wt.shape[1] // OC: wt
    (KH*KW, T*OC) float32 is the filter minus its zero point (tap fy*KW+fx) repeated T times,
    chan (5, T*OC) int32 the per-channel (bias, multiplier, left shift, right shift,
    2^right - 1) repeated the same way, so the inner loops run over a tile's T*OC outputs as one
    contiguous vector loop. rows (S, SW, WQ*OC) float32, zero on entry; keys (S,) int64 and acc
    (T*OC,) float32 scratch.

    Each input row a window needs is converted once to float32 x - in_zp, expanded to the output
    channels (c * dm + m), zero-padded (what TFLite's skipped taps contribute) and split by column
    phase (padded column ix at [ix % SW, (ix // SW) * OC]: a tap reads output column ox from
    [fx*DW % SW, (ox + fx*DW // SW) * OC], contiguous over the tile for any stride), into slot iy mod
    S (S = (KH-1)*DH + 1: a window's rows never share a slot, and the next output row finds most of
    its rows there already; without `ring`, S = KH and tap row fy's slot is fy: a huge dilation
    would make the ring too big). The caller checked that KH*KW*max|x - zp|*max|w| < 2^24: the float32
    sums are exact integers in any order. The requantization is TFLite's
    MultiplyByQuantizedMultiplier (double-rounding build) with int32 wraps."""
    n_, h_, w_, c_ = x.shape
    taps, tile = wt.shape
    kw, oc_, oh_, ring = geo[6], geo[7], geo[8], geo[9]
    kh = taps // kw
    dm = oc_ // c_
    sh, sw, dh, dw, pt, pl = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5]
    ow_ = out.shape[1] // oc_
    span = rows.shape[0]

    def slot(iy, fy):  # ring: iy mod S, shared by the next output rows; else the tap row's own
        return iy % span if ring else fy
    zf = np.float32(in_zp)
    for s in range(span):
        keys[s] = -1

    def requant_wrapping(v, c):  # exact integer sum (float32) -> clamped output; rows as requant.table
        a = np.int32(np.int64(np.int32(v)) + chan[0, c])
        a = np.int32(np.int64(a) << chan[2, c])
        hm = (np.int64(a) * np.int64(np.int32(chan[1, c])) + 1073741824) >> 31
        y = np.int32(((hm + chan[5, c] + ((hm >> 63) & chan[4, c])) >> chan[3, c]) + out_zp)
        return min(max(np.int64(y), lo), hi)

    def requant_no_wrap(v, c):  # prepare proved: acc + bias and q + zp inside int32, no left shift
        a = np.int64(np.int32(np.int64(np.int32(v)) + chan[0, c]))
        hm = (a * np.int64(np.int32(chan[1, c])) + 1073741824) >> 31
        return min(max((hm + chan[6, c] + ((hm >> 63) & chan[4, c])) >> chan[3, c], lo), hi)

    for job in range(j0, j1):
        n = job // oh_
        oy = job - n * oh_
        for fy in range(kh):  # the window's input rows, converted unless a slot holds them already
            iy = oy * sh - pt + fy * dh
            s = slot(iy, fy)
            key = n * 4294967296 + iy + 2147483648
            if keys[s] == key:
                continue
            keys[s] = key
            inside = 0 <= iy < h_
            for ix in range(w_):
                col = pl + ix
                o = (col // sw) * oc_
                dst = rows[s, col % sw, o:o + oc_]  # indexed by c alone (see below)
                if not inside:
                    for c in range(oc_):
                        dst[c] = 0.0
                elif dm == 1:
                    src = x[n, iy, ix]
                    for c in range(c_):
                        dst[c] = np.float32(src[c]) - zf
                else:
                    src = x[n, iy, ix]
                    for c in range(c_):
                        v = np.float32(src[c]) - zf
                        for m in range(dm):
                            dst[c * dm + m] = v
        base = oy * sh - pt
        for t0 in range(0, ow_ * oc_, tile):
            size = min(tile, ow_ * oc_ - t0)
            dst = out[job, t0:t0 + size]
            if kh == 3 and kw == 3:  # the common case: 9 taps summed in registers
                # (every array indexed by the loop counter alone: numba's negative-index
                # wraparound would otherwise turn the loads into gathers)
                a0, a1, a2 = rows[slot(base, 0)], rows[slot(base + dh, 1)], rows[slot(base + 2 * dh, 2)]
                o1, o2 = t0 + (dw // sw) * oc_, t0 + ((2 * dw) // sw) * oc_
                p1, p2 = dw % sw, (2 * dw) % sw
                r00, r01, r02 = a0[0, t0:], a0[p1, o1:], a0[p2, o2:]
                r10, r11, r12 = a1[0, t0:], a1[p1, o1:], a1[p2, o2:]
                r20, r21, r22 = a2[0, t0:], a2[p1, o1:], a2[p2, o2:]
                w0, w1, w2, w3, w4, w5, w6, w7, w8 = wt[0], wt[1], wt[2], wt[3], wt[4], wt[5], wt[6], wt[7], wt[8]
                for i in range(size):
                    acc[i] = (r00[i] * w0[i] + r01[i] * w1[i] + r02[i] * w2[i] + r10[i] * w3[i]
                              + r11[i] * w4[i] + r12[i] * w5[i] + r20[i] * w6[i] + r21[i] * w7[i]
                              + r22[i] * w8[i])
            else:
                for i in range(size):
                    acc[i] = 0.0
                for fy in range(kh):
                    a = rows[slot(base + fy * dh, fy)]
                    for fx in range(kw):
                        src = a[(fx * dw) % sw, t0 + ((fx * dw) // sw) * oc_:]
                        wk = wt[fy * kw + fx]
                        for i in range(size):
                            acc[i] += src[i] * wk[i]
            if nowrap:  # two loops, each vectorized on its own
                for i in range(size):
                    dst[i] = requant_no_wrap(acc[i], i)
            else:
                for i in range(size):
                    dst[i] = requant_wrapping(acc[i], i)


depthwise_quant = njit(_depthwise_quant)
