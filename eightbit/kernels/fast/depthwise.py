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




TILE = 2064  # the row stride of depthwise_quant's filter and requantization tables: a constant (one
# base register addresses all their rows), not a power of two (rows 2^k bytes apart would share
# cache sets)


def _depthwise_quant(x, wt, chan, geo, scal, rows, keys, acc, out, j0, j1, xf, rf, of):
    """Output rows j0..j1 of the N * OH (batch, row) pairs of an 8-bit depthwise layer, requantized
    in the same pass; out viewed as (N * OH, OW * OC).

    x (N,H,W,C) int8/uint8; geo int64 (SH, SW, DH, DW, pad top, pad left, KW, OC, OH, ring, T*OC);
    scal int64 (in_zp, out_zp, lo, hi, no_wrap). The output columns go in tiles of T (T*OC <= TILE):
    wt (KH*KW*TILE,) float32 holds at [k*TILE + t*OC + c] the filter minus its zero point (tap
    k = fy*KW + fx, channel c) for t < T, chan (6*TILE,) int32 the rows of requant.table the same
    way (int32: the loops then run 8 lanes wide), so the inner loops run over a tile's T*OC
    outputs as one contiguous vector loop. rows (S, SW, WQ*OC) float32, zero outside the image
    columns; keys (S,) int64 and acc (TILE,) float32 scratch. xf, rf, of: x, rows and out
    flattened by the caller (a reshape inside compiled code needs numba's runtime helper, which
    keeps the kernel out of the ahead-of-time library).

    Each input row a window needs is converted once to float32 x - in_zp, expanded to the output
    channels (c * dm + m), zero-padded (what TFLite's skipped taps contribute) and split by column
    phase (padded column ix at [ix % SW, (ix // SW) * OC]: a tap reads output column ox from
    [fx*DW % SW, (ox + fx*DW // SW) * OC], contiguous over the tile for any stride), into slot iy mod
    S (ring: S = (KH-1)*DH + 1, a window's rows never share a slot and the next output row finds most
    of its rows there already; else S = KH and tap row fy's slot is fy, for a huge dilation). The
    caller checked that KH*KW*max|x - zp|*max|w| < 2^24: the float32 sums are exact integers in any
    order. The requantization is TFLite's MultiplyByQuantizedMultiplier (double-rounding build):
    with int32 wraps, or without them and the left shift (no_wrap, proved by requant.no_wrap)."""
    n_, h_, w_, c_ = x.shape
    sh, sw, dh, dw, pt, pl = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5]
    kw, oc_, oh_, ring, tile = geo[6], geo[7], geo[8], geo[9], geo[10]
    kh = wt.size // TILE // kw
    dm = oc_ // c_
    zf = np.float32(scal[0])
    out_zp, lo, hi, nowrap = scal[1], scal[2], scal[3], scal[4]
    ow_ = out.shape[1] // oc_
    span, psz = rows.shape[0], rows.shape[2]
    ssz = rows.shape[1] * psz
    for s in range(span):
        keys[s] = -1

    def slot(iy, fy):
        return iy % span if ring else fy

    def requant_no_wrap(v, i):
        p = np.int64(np.int32(np.int64(np.int32(v)) + chan[i])) * np.int64(chan[TILE + i])
        h = (p + 1073741824) >> 31
        q = (h + chan[5 * TILE + i] - ((h < 0) & chan[4 * TILE + i])) >> chan[3 * TILE + i]
        return min(max(q + out_zp, lo), hi)

    def requant_wrapping(v, i):
        a = np.int32(np.int64(np.int32(v)) + chan[i])
        a = np.int32(np.int64(a) << chan[2 * TILE + i])
        h = (np.int64(a) * np.int64(chan[TILE + i]) + 1073741824) >> 31
        y = np.int32(((h + chan[5 * TILE + i] - ((h < 0) & chan[4 * TILE + i])) >> chan[3 * TILE + i]) + out_zp)
        return min(max(np.int64(y), lo), hi)

    def convert(s, n, iy):  # input row iy of image n into slot s (its padding columns stay zero)
        inside = 0 <= iy < h_
        xrow = (n * h_ + iy) * w_ * c_
        if inside and sw == 1 and dm == 1:  # the row's destination is contiguous: one loop
            q = (s * ssz + pl * oc_) & 4294967295
            xo = xrow & 4294967295
            for j in range(w_ * c_):
                rf[q + j] = np.float32(xf[xo + j]) - zf
            return
        phase, pos = pl % sw, pl // sw  # of column pl + ix, stepped without dividing
        for ix in range(w_):
            q = (s * ssz + phase * psz + pos * oc_) & 4294967295  # (see below)
            phase += 1
            if phase == sw:
                phase = 0
                pos += 1
            if not inside:
                for c in range(oc_):
                    rf[q + c] = 0.0
                continue
            xo = (xrow + ix * c_) & 4294967295
            if dm == 1:
                for c in range(c_):
                    rf[q + c] = np.float32(xf[xo + c]) - zf
                continue
            for c in range(c_):
                v = np.float32(xf[xo + c]) - zf
                for m in range(dm):
                    rf[q + c * dm + m] = v

    def taps3x3(q00, q01, q02, q10, q11, q12, q20, q21, q22, i):
        return (rf[q00 + i] * wt[i] + rf[q01 + i] * wt[TILE + i] + rf[q02 + i] * wt[2 * TILE + i]
                + rf[q10 + i] * wt[3 * TILE + i] + rf[q11 + i] * wt[4 * TILE + i] + rf[q12 + i] * wt[5 * TILE + i]
                + rf[q20 + i] * wt[6 * TILE + i] + rf[q21 + i] * wt[7 * TILE + i] + rf[q22 + i] * wt[8 * TILE + i])

    for job in range(j0, j1):
        n = job // oh_
        oy = job - n * oh_
        for fy in range(kh):  # the window's input rows, converted unless a slot holds them already
            iy = oy * sh - pt + fy * dh
            s = slot(iy, fy)
            key = n * 4294967296 + iy + 2147483648
            if keys[s] != key:
                keys[s] = key
                convert(s, n, iy)
        base = oy * sh - pt
        for t0 in range(0, ow_ * oc_, tile):
            # Offsets and counts masked to 32 bits: numba then proves every index non-negative and
            # skips its negative-index wraparound (which turns vector loads into gathers).
            cnt = min(tile, ow_ * oc_ - t0) & 4294967295
            d = (job * ow_ * oc_ + t0) & 4294967295
            if kh == 3 and kw == 3:  # the common case: 9 taps summed in registers, requantized at once
                r0, r1, r2 = slot(base, 0) * ssz + t0, slot(base + dh, 1) * ssz + t0, slot(base + 2 * dh, 2) * ssz + t0
                c1 = (dw % sw) * psz + (dw // sw) * oc_
                c2 = ((2 * dw) % sw) * psz + ((2 * dw) // sw) * oc_
                q00, q01, q02 = r0 & 4294967295, (r0 + c1) & 4294967295, (r0 + c2) & 4294967295
                q10, q11, q12 = r1 & 4294967295, (r1 + c1) & 4294967295, (r1 + c2) & 4294967295
                q20, q21, q22 = r2 & 4294967295, (r2 + c1) & 4294967295, (r2 + c2) & 4294967295
                if nowrap:  # one loop per variant: each vectorizes on its own
                    for i in range(cnt):
                        of[d + i] = requant_no_wrap(taps3x3(q00, q01, q02, q10, q11, q12, q20, q21, q22, i), i)
                else:
                    for i in range(cnt):
                        of[d + i] = requant_wrapping(taps3x3(q00, q01, q02, q10, q11, q12, q20, q21, q22, i), i)
                continue
            for i in range(cnt):
                acc[i] = 0.0
            for fy in range(kh):
                srow = slot(base + fy * dh, fy) * ssz + t0
                for fx in range(kw):
                    q = (srow + ((fx * dw) % sw) * psz + ((fx * dw) // sw) * oc_) & 4294967295
                    k = ((fy * kw + fx) * TILE) & 4294967295
                    for i in range(cnt):
                        acc[i] += rf[q + i] * wt[k + i]
            if nowrap:
                for i in range(cnt):
                    of[d + i] = requant_no_wrap(acc[i], i)
            else:
                for i in range(cnt):
                    of[d + i] = requant_wrapping(acc[i], i)

depthwise_quant = njit(_depthwise_quant)
