"""CONV_2D for the whole-graph runner (graph.py), one output pixel at a time, eight output channels
at a time, each sum over the valid taps in the reference order (filter_y, filter_x, in_channel):
- float32 with 4 or more input channels: the eight sums in one vector register (graph_simd.py);
- float32 with fewer (a first layer): eight scalar accumulators, the taps' bounds checked in the
  loops (the vector loop's per-tap overhead would exceed its work);
- int8 / uint8: with 4 or more input channels eight int32 lanes in one register (wrapping: the
  requantization wraps the sum to int32 anyway), else eight int64 accumulators; then the
  per-channel requantization.
Channels past a multiple of eight go one by one. Indices are unsigned (uint64) in the inner loops:
numba adds a negative-index wrap to every signed index, which cost more than the arithmetic.
Padding taps are skipped: the reference adds their zero products, which changes nothing (the
builder admits only finite float filters). The float bias and clamp come after the sums.

rec: op, len, x, w (K x OC), bias (-1: none), y, n h w c oc kh kw sh sw dh dw ph pw oh ow (6..20),
then float: lo/hi index into fpar; quantized: in_zp, mult, left, right, out_zp, lo, hi, flag (21..28).
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.fast.graph_ops import (
    bias_clamp_f32,
    bias_view_f32,
    bias_view_i64,
    f32_view,
    i32_view,
    i64_view,
    inline,
    jit,
    requant,
)
from eightbit.kernels.fast.graph_simd import block8_f32, block8_i32

F32 = np.float32
_U1, _U2, _U3, _U4, _U5, _U6, _U7 = (np.uint64(k) for k in range(1, 8))


@inline
def _taps(rec, b, oy, ox, tx, tw):
    """The valid taps of output pixel (b, oy, ox): input offsets tx, filter row offsets tw; count."""
    h, wd, c, oc = rec[7], rec[8], rec[9], rec[10]
    kh, kw, sh, sw, dh, dw, ph, pw = rec[11], rec[12], rec[13], rec[14], rec[15], rec[16], rec[17], rec[18]
    nt = 0
    for ky in range(kh):
        iy = oy * sh - ph + ky * dh
        if iy < 0 or iy >= h:
            continue
        for kx in range(kw):
            ix = ox * sw - pw + kx * dw
            if ix < 0 or ix >= wd:
                continue
            tx[nt] = np.uint64(((b * h + iy) * wd + ix) * c)
            tw[nt] = np.uint64((ky * kw + kx) * c * oc)
            nt += 1
    return nt


@jit
def conv_f32(rec, fpar, arena, consts):
    n, h, wd, c, oc, kh, kw, oh, ow = rec[6], rec[7], rec[8], rec[9], rec[10], rec[11], rec[12], rec[19], rec[20]
    x = f32_view(arena, rec[2], n * h * wd * c)
    w = f32_view(consts, rec[3], kh * kw * c * oc)
    y = f32_view(arena, rec[5], n * oh * ow * oc)
    bias = bias_view_f32(consts, rec[4], oc)
    lo, hi = fpar[rec[21]], fpar[rec[21] + 1]
    if c >= 4:  # enough work per tap for the vector loop; else the scalar one has less overhead
        _conv_f32_vector(x, w, y, rec)
    else:
        _conv_f32_scalar(x, w, y, rec)
    for p in range(n * oh * ow):
        bias_clamp_f32(y, np.uint64(p * oc), np.uint64(oc), bias, lo, hi)


@inline
def _conv_f32_vector(x, w, y, rec):
    n, c, oc, kh, kw, oh, ow = rec[6], rec[9], rec[10], rec[11], rec[12], rec[19], rec[20]
    tx, tw = np.empty(kh * kw, np.uint64), np.empty(kh * kw, np.uint64)
    full = oc - oc % 8
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                nt = _taps(rec, b, oy, ox, tx, tw)
                yb = ((b * oh + oy) * ow + ox) * oc
                for ob in range(0, full, 8):
                    block8_f32(x, w, tx, tw, nt, np.uint64(c), np.uint64(oc), np.uint64(ob), y, np.uint64(yb))
                for o in range(full, oc):
                    a = F32(0.0)
                    for t in range(nt):
                        for ci in range(np.uint64(c)):
                            a = F32(a + F32(x[tx[t] + ci] * w[tw[t] + ci * np.uint64(oc) + np.uint64(o)]))
                    y[yb + o] = a


@inline
def _conv_f32_scalar(x, w, y, rec):
    n, h, wd, c, oc, kh, kw = rec[6], rec[7], rec[8], rec[9], rec[10], rec[11], rec[12]
    sh, sw, dh, dw, ph, pw, oh, ow = rec[13], rec[14], rec[15], rec[16], rec[17], rec[18], rec[19], rec[20]
    full = oc - oc % 8
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                yb = ((b * oh + oy) * ow + ox) * oc
                for ob in range(0, full, 8):
                    _direct_block_f32(x, w, y, rec, b, oy, ox, ob, yb)
                for o in range(full, oc):
                    a = F32(0.0)
                    for ky in range(kh):
                        iy = oy * sh - ph + ky * dh
                        if iy < 0 or iy >= h:
                            continue
                        for kx in range(kw):
                            ix = ox * sw - pw + kx * dw
                            if ix < 0 or ix >= wd:
                                continue
                            xb = np.uint64(((b * h + iy) * wd + ix) * c)
                            wb = np.uint64((ky * kw + kx) * c * oc + o)
                            for ci in range(np.uint64(c)):
                                a = F32(a + F32(x[xb + ci] * w[wb + ci * np.uint64(oc)]))
                    y[yb + o] = a


@inline
def _direct_block_f32(x, w, y, rec, b, oy, ox, ob, yb):
    """Eight output channels of one pixel, the taps' bounds checked in the loops (no tap list)."""
    h, wd, c, oc, kh, kw = rec[7], rec[8], rec[9], rec[10], rec[11], rec[12]
    sh, sw, dh, dw, ph, pw = rec[13], rec[14], rec[15], rec[16], rec[17], rec[18]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = F32(0.0)
    uc, uoc = np.uint64(c), np.uint64(oc)
    for ky in range(kh):
        iy = oy * sh - ph + ky * dh
        if iy < 0 or iy >= h:
            continue
        for kx in range(kw):
            ix = ox * sw - pw + kx * dw
            if ix < 0 or ix >= wd:
                continue
            xb = np.uint64(((b * h + iy) * wd + ix) * c)
            wb = np.uint64((ky * kw + kx) * c * oc + ob)
            for ci in range(uc):
                v = x[xb + ci]
                r = wb + ci * uoc
                a0 = F32(a0 + F32(v * w[r]))
                a1 = F32(a1 + F32(v * w[r + _U1]))
                a2 = F32(a2 + F32(v * w[r + _U2]))
                a3 = F32(a3 + F32(v * w[r + _U3]))
                a4 = F32(a4 + F32(v * w[r + _U4]))
                a5 = F32(a5 + F32(v * w[r + _U5]))
                a6 = F32(a6 + F32(v * w[r + _U6]))
                a7 = F32(a7 + F32(v * w[r + _U7]))
    y[yb + ob], y[yb + ob + 1], y[yb + ob + 2], y[yb + ob + 3] = a0, a1, a2, a3
    y[yb + ob + 4], y[yb + ob + 5], y[yb + ob + 6], y[yb + ob + 7] = a4, a5, a6, a7


@inline
def _block_q(x, w, tx, tw, nt, c, oc, ob, in_zp, acc):
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = np.int64(0)
    uc, uoc = np.uint64(c), np.uint64(oc)
    for t in range(nt):
        xb, wb = tx[t], tw[t] + np.uint64(ob)
        for ci in range(uc):
            v = np.int64(x[xb + ci]) - in_zp
            r = wb + ci * uoc
            a0 += v * w[r]
            a1 += v * w[r + _U1]
            a2 += v * w[r + _U2]
            a3 += v * w[r + _U3]
            a4 += v * w[r + _U4]
            a5 += v * w[r + _U5]
            a6 += v * w[r + _U6]
            a7 += v * w[r + _U7]
    acc[ob], acc[ob + 1], acc[ob + 2], acc[ob + 3] = a0, a1, a2, a3
    acc[ob + 4], acc[ob + 5], acc[ob + 6], acc[ob + 7] = a4, a5, a6, a7


@jit
def _conv_q(x, y, rec, consts):
    n, c, oc, kh, kw, oh, ow = rec[6], rec[9], rec[10], rec[11], rec[12], rec[19], rec[20]
    in_zp = rec[21]
    w = i32_view(consts, rec[3], kh * kw * c * oc)
    bias = bias_view_i64(consts, rec[4], oc)
    mult, left, right = i64_view(consts, rec[22], oc), i64_view(consts, rec[23], oc), i64_view(consts, rec[24], oc)
    out_zp, lo, hi = rec[25], rec[26], rec[27]
    tx, tw = np.empty(kh * kw, np.uint64), np.empty(kh * kw, np.uint64)
    acc = np.empty(oc, np.int64)
    acc32 = np.empty(oc, np.int32)
    full = oc - oc % 8
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                nt = _taps(rec, b, oy, ox, tx, tw)
                if c >= 4:  # int32 lanes that wrap: the same sum modulo 2^32, all the requantization takes
                    for ob in range(0, full, 8):
                        block8_i32(x, w, tx, tw, nt, np.uint64(c), np.uint64(oc), np.uint64(ob), in_zp, acc32)
                    for o in range(full):
                        acc[o] = acc32[o]
                else:
                    for ob in range(0, full, 8):
                        _block_q(x, w, tx, tw, nt, c, oc, ob, in_zp, acc)
                for o in range(full, oc):
                    a = np.int64(0)
                    for t in range(nt):
                        for ci in range(np.uint64(c)):
                            a += (np.int64(x[tx[t] + ci]) - in_zp) * w[tw[t] + ci * np.uint64(oc) + np.uint64(o)]
                    acc[o] = a
                yb = ((b * oh + oy) * ow + ox) * oc
                for o in range(oc):
                    a = acc[o] + bias[o] if bias.size else acc[o]
                    y[yb + o] = requant(a, mult[o], left[o], right[o], out_zp, lo, hi)


@jit
def conv_q(rec, fpar, arena, consts):
    nx = rec[6] * rec[7] * rec[8] * rec[9]
    ny = rec[6] * rec[19] * rec[20] * rec[10]
    if rec[28] == 0:
        _conv_q(arena[rec[2]:rec[2] + nx].view(np.int8), arena[rec[5]:rec[5] + ny].view(np.int8), rec, consts)
    else:
        _conv_q(arena[rec[2]:rec[2] + nx], arena[rec[5]:rec[5] + ny], rec, consts)
