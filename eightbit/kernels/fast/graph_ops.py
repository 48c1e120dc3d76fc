"""The operators of the whole-graph runner (graph.py), compiled once for every model.

Each operator is a function of (rec, fpar, arena, consts): `rec` its record in the program (the
int64 fields laid out by eightbit/interpreter/graph_runner.py, named by the constants of graph.py),
`fpar` the program's float32 scalars (clamp bounds, beta), `arena` the activations (bytes, each
tensor at a fixed offset), `consts` the constants (bytes: re-laid-out weights, int64 biases and
per-channel multipliers, tables). A tensor is a typed view of the arena at its offset.

The arithmetic is the reference kernels', element by element:
- float sums in TFLite's reference order (kernels/float_sequential.py: one float32 rounding per
  product and per addition, over (filter_y, filter_x, in_channel)), no fastmath, no FMA;
- float clamps as numpy's minimum(maximum(v, lo), hi) computes them (NaN stays, a bound wins a tie);
- integer accumulators exact in int64, wrapped to int32 where the reference wraps, requantized with
  the double-rounding MultiplyByQuantizedMultiplier of kernels/fast/requant.py (the builder admits
  only multipliers that `requant.fits`).
Integer activations come as int8 or uint8 (`flag` fields: 0 int8, 1 uint8): the typed views are
made here and the loops compiled once per type.
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.fast.jit import _import_numba

numba = _import_numba()
# Not cached on their own: numba's disk cache of a function checks only its own file, so a cached
# caller in another file would keep running an edited callee's old code. graph.py's run_graph is
# the one cached function, keyed on a digest of every graph*.py source (see there).
jit = numba.njit(nogil=True)
# Small helpers called in inner loops: inlined at numba's level (a call between compiled functions
# is not always inlined by LLVM, and passing arrays to one costs more than their loops here).
inline = numba.njit(nogil=True, inline="always")

F32 = np.float32


@inline
def f32_view(buf, off, n):
    return buf[off:off + 4 * n].view(np.float32)


@inline
def i64_view(buf, off, n):
    return buf[off:off + 8 * n].view(np.int64)


@inline
def i32_view(buf, off, n):
    return buf[off:off + 4 * n].view(np.int32)


@inline
def clamp_f32(v, lo, hi):
    """np.minimum(np.maximum(v, lo), hi): NaN passes, and where v equals a bound numpy returns it."""
    if not (v > lo or v != v):
        v = lo
    if not (v < hi or v != v):
        v = hi
    return v


@inline
def wrap32(v):
    return ((v + 2147483648) & 4294967295) - 2147483648


@inline
def requant(acc, mult, left, right, out_zp, lo, hi):
    """MultiplyByQuantizedMultiplier of an int32 accumulator (requant.py's _requant_rows), + out_zp, clamped."""
    a = wrap32(acc)
    a = wrap32(a << left)
    h = (a * mult + 1073741824) >> 31
    h = (h + ((np.int64(1) << right) >> 1) - ((h < 0) & (right > 0))) >> right
    y = wrap32(h + out_zp)
    return min(max(y, lo), hi)


# ---- epilogues shared by the convolutions and FULLY_CONNECTED -----------------------------

@inline
def bias_view_f32(consts, off, cols):
    return f32_view(consts, off if off >= 0 else 0, cols if off >= 0 else 0)


@inline
def bias_view_i64(consts, off, cols):
    return i64_view(consts, off if off >= 0 else 0, cols if off >= 0 else 0)


@inline
def bias_clamp_f32(y, yb, cols, bias, lo, hi):
    """y[yb:yb+cols] + bias (float32; an empty bias: none: adding a zero bias would turn -0.0
    into +0.0), then the clamp."""
    if bias.size:
        for o in range(cols):
            y[yb + o] = clamp_f32(F32(y[yb + o] + bias[o]), lo, hi)
    else:
        for o in range(cols):
            y[yb + o] = clamp_f32(y[yb + o], lo, hi)


@jit
def _init_acc(acc, bias):
    if bias.size:
        for o in range(acc.size):
            acc[o] = bias[o]
    else:
        acc[:] = 0


# ---- DEPTHWISE_CONV_2D ------------------------------------------------------------------
# rec as CONV_2D's (graph_conv.py) with c the input depth and oc = c * multiplier (offset 21: float lo/hi index,
# or quantized fields from 21 as CONV_2D's); the filter is (kh, kw, oc), as in the file.

@jit
def dw_f32(rec, fpar, arena, consts):
    n, h, wd, c, oc = rec[6], rec[7], rec[8], rec[9], rec[10]
    kh, kw, sh, sw, dh, dw, ph, pw, oh, ow = rec[11], rec[12], rec[13], rec[14], rec[15], rec[16], \
        rec[17], rec[18], rec[19], rec[20]
    mul = oc // c
    x = f32_view(arena, rec[2], n * h * wd * c)
    w = f32_view(consts, rec[3], kh * kw * oc)
    y = f32_view(arena, rec[5], n * oh * ow * oc)
    bias = bias_view_f32(consts, rec[4], oc)
    lo, hi = fpar[rec[21]], fpar[rec[21] + 1]
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                yb = ((b * oh + oy) * ow + ox) * oc
                for o in range(oc):
                    y[yb + o] = F32(0.0)
                for ky in range(kh):
                    iy = oy * sh - ph + ky * dh
                    if iy < 0 or iy >= h:
                        continue
                    for kx in range(kw):
                        ix = ox * sw - pw + kx * dw
                        if ix < 0 or ix >= wd:
                            continue
                        xb = ((b * h + iy) * wd + ix) * c
                        wb = (ky * kw + kx) * oc
                        for o in range(oc):
                            y[yb + o] = F32(y[yb + o] + F32(x[xb + o // mul] * w[wb + o]))
                bias_clamp_f32(y, yb, oc, bias, lo, hi)


@jit
def _dw_q(x, y, rec, consts):
    n, h, wd, c, oc = rec[6], rec[7], rec[8], rec[9], rec[10]
    kh, kw, sh, sw, dh, dw, ph, pw, oh, ow = rec[11], rec[12], rec[13], rec[14], rec[15], rec[16], \
        rec[17], rec[18], rec[19], rec[20]
    mul = oc // c
    in_zp = rec[21]
    w = i32_view(consts, rec[3], kh * kw * oc)
    mult, left, right = i64_view(consts, rec[22], oc), i64_view(consts, rec[23], oc), i64_view(consts, rec[24], oc)
    out_zp, lo, hi = rec[25], rec[26], rec[27]
    bias = bias_view_i64(consts, rec[4], oc)
    acc = np.empty(oc, np.int64)
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                _init_acc(acc, bias)
                for ky in range(kh):
                    iy = oy * sh - ph + ky * dh
                    if iy < 0 or iy >= h:
                        continue
                    for kx in range(kw):
                        ix = ox * sw - pw + kx * dw
                        if ix < 0 or ix >= wd:
                            continue
                        xb = ((b * h + iy) * wd + ix) * c
                        wb = (ky * kw + kx) * oc
                        for o in range(oc):
                            acc[o] += (np.int64(x[xb + o // mul]) - in_zp) * w[wb + o]
                yb = ((b * oh + oy) * ow + ox) * oc
                for o in range(oc):
                    y[yb + o] = requant(acc[o], mult[o], left[o], right[o], out_zp, lo, hi)


@jit
def dw_q(rec, fpar, arena, consts):
    nx = rec[6] * rec[7] * rec[8] * rec[9]
    ny = rec[6] * rec[19] * rec[20] * rec[10]
    if rec[28] == 0:
        _dw_q(arena[rec[2]:rec[2] + nx].view(np.int8), arena[rec[5]:rec[5] + ny].view(np.int8), rec, consts)
    else:
        _dw_q(arena[rec[2]:rec[2] + nx], arena[rec[5]:rec[5] + ny], rec, consts)


# ---- FULLY_CONNECTED --------------------------------------------------------------------
# rec: op, len, x, w (depth x units), bias, y, rows, depth, units, then float: lo/hi index;
# quantized: in_zp, scale (float64 per unit: the reference's effective_scale), out_zp, lo, hi, flag.

@jit
def fc_f32(rec, fpar, arena, consts):
    rows, depth, units = rec[6], rec[7], rec[8]
    x = f32_view(arena, rec[2], rows * depth)
    w = f32_view(consts, rec[3], depth * units)
    y = f32_view(arena, rec[5], rows * units)
    bias = bias_view_f32(consts, rec[4], units)
    lo, hi = fpar[rec[9]], fpar[rec[9] + 1]
    for r in range(rows):
        yb = r * units
        for u in range(units):
            y[yb + u] = F32(0.0)
        for t in range(depth):
            v = x[r * depth + t]
            for u in range(units):
                y[yb + u] = F32(y[yb + u] + F32(v * w[t * units + u]))
        bias_clamp_f32(y, yb, units, bias, lo, hi)


@jit
def _fc_q(x, y, rec, consts):
    rows, depth, units = rec[6], rec[7], rec[8]
    in_zp, out_zp, lo, hi = rec[9], rec[11], rec[12], rec[13]
    w = i32_view(consts, rec[3], depth * units)
    scale = consts[rec[10]:rec[10] + 8 * units].view(np.float64)
    bias = bias_view_i64(consts, rec[4], units)
    acc = np.empty(units, np.int64)
    for r in range(rows):
        _init_acc(acc, bias)
        for t in range(depth):
            v = np.int64(x[r * depth + t]) - in_zp
            for u in range(units):
                acc[u] += v * w[t * units + u]
        for u in range(units):
            y[r * units + u] = _round_scaled(wrap32(acc[u]), scale[u], out_zp, lo, hi)


@jit
def _round_scaled(a, scale, out_zp, lo, hi):
    """static_cast<int32>(std::round(double(a) * scale)) + out_zp, clamped (requantize_double)."""
    v = np.float64(a) * scale
    m = abs(v)
    f = np.floor(m)
    if m - f >= 0.5:
        f += 1.0
    r = f if v >= 0 else -f
    q = np.int64(r) if (r > -2147483649.0 and r < 2147483648.0) else np.int64(-2147483648)
    y = wrap32(q + out_zp)
    return min(max(y, lo), hi)


@jit
def fc_q(rec, fpar, arena, consts):
    nx, ny = rec[6] * rec[7], rec[6] * rec[8]
    if rec[14] == 0:
        _fc_q(arena[rec[2]:rec[2] + nx].view(np.int8), arena[rec[5]:rec[5] + ny].view(np.int8), rec, consts)
    else:
        _fc_q(arena[rec[2]:rec[2] + nx], arena[rec[5]:rec[5] + ny], rec, consts)


# ---- AVERAGE_POOL_2D / MAX_POOL_2D --------------------------------------------------------
# rec: op, len, x, y, n h w c, fh fw sh sw ph pw oh ow (offsets 4..15), then float: lo/hi index;
# quantized: lo, hi, flag (17: 0 int8, 1 uint8). Windows clipped to the input (padding not counted).

@inline
def _window(o, s, p, f, size):
    start = o * s - p
    return max(0, -start), min(f, size - start), start


@jit
def _pool_f32(x, y, rec, lo, hi, is_max):
    n, h, wd, c, fh, fw, sh, sw, ph, pw, oh, ow = rec[4], rec[5], rec[6], rec[7], rec[8], rec[9], rec[10], \
        rec[11], rec[12], rec[13], rec[14], rec[15]
    lowest = F32(-3.4028234663852886e38)
    for b in range(n):
        for oy in range(oh):
            y0, y1, sy = _window(oy, sh, ph, fh, h)
            for ox in range(ow):
                x0, x1, sx = _window(ox, sw, pw, fw, wd)
                count = max(y1 - y0, 0) * max(x1 - x0, 0)
                yb = ((b * oh + oy) * ow + ox) * c
                for ch in range(c):
                    acc = lowest if is_max else F32(0.0)
                    for ky in range(y0, y1):
                        for kx in range(x0, x1):
                            v = x[((b * h + sy + ky) * wd + sx + kx) * c + ch]
                            if is_max:
                                if v > acc:  # NaN taps never win, as in the reference
                                    acc = v
                            else:
                                acc = F32(acc + v)
                    if not is_max:
                        acc = F32(acc / F32(count))
                    y[yb + ch] = clamp_f32(acc, lo, hi)


@jit
def pool_f32(rec, fpar, arena, consts, is_max):
    nx = rec[4] * rec[5] * rec[6] * rec[7]
    ny = rec[4] * rec[14] * rec[15] * rec[7]
    _pool_f32(f32_view(arena, rec[2], nx), f32_view(arena, rec[3], ny), rec, fpar[rec[16]], fpar[rec[16] + 1], is_max)


@jit
def _pool_q(x, y, rec, is_max, unsigned):
    n, h, wd, c, fh, fw, sh, sw, ph, pw, oh, ow = rec[4], rec[5], rec[6], rec[7], rec[8], rec[9], rec[10], \
        rec[11], rec[12], rec[13], rec[14], rec[15]
    lo, hi = rec[16], rec[17]
    lowest = np.int64(0) if unsigned else np.int64(-128)
    for b in range(n):
        for oy in range(oh):
            y0, y1, sy = _window(oy, sh, ph, fh, h)
            for ox in range(ow):
                x0, x1, sx = _window(ox, sw, pw, fw, wd)
                count = max(y1 - y0, 0) * max(x1 - x0, 0)
                yb = ((b * oh + oy) * ow + ox) * c
                for ch in range(c):
                    acc = lowest if is_max else np.int64(0)
                    for ky in range(y0, y1):
                        for kx in range(x0, x1):
                            v = np.int64(x[((b * h + sy + ky) * wd + sx + kx) * c + ch])
                            if is_max:
                                acc = max(acc, v)
                            else:
                                acc += v
                    if not is_max:
                        half = count // 2
                        if unsigned or acc > 0:
                            acc = (acc + half) // count
                        else:
                            acc = -((half - acc) // count)
                    y[yb + ch] = min(max(acc, lo), hi)


@jit
def pool_q(rec, fpar, arena, consts, is_max):
    nx = rec[4] * rec[5] * rec[6] * rec[7]
    ny = rec[4] * rec[14] * rec[15] * rec[7]
    if rec[18] == 0:
        _pool_q(arena[rec[2]:rec[2] + nx].view(np.int8), arena[rec[3]:rec[3] + ny].view(np.int8), rec, is_max, False)
    else:
        _pool_q(arena[rec[2]:rec[2] + nx], arena[rec[3]:rec[3] + ny], rec, is_max, True)


# ---- RESHAPE / SQUEEZE / EXPAND_DIMS: a copy of the bytes ------------------------------------
# rec: op, len, src, dst, bytes

@jit
def copy_bytes(rec, fpar, arena, consts):
    src, dst, nbytes = rec[2], rec[3], rec[4]
    if src != dst:
        arena[dst:dst + nbytes] = arena[src:src + nbytes]


# ---- ADD of two same-shape tensors ----------------------------------------------------------
# rec: op, len, a, b, y, size, then float: lo/hi index; quantized: the 11 packed fields of
# fast/add.py's _add_int (offset1 m1 right1 offset2 m2 right2 out_zp m_out right_out lo hi), flag.

@jit
def add_f32(rec, fpar, arena, consts):
    size = rec[5]
    a, b, y = f32_view(arena, rec[2], size), f32_view(arena, rec[3], size), f32_view(arena, rec[4], size)
    lo, hi = fpar[rec[6]], fpar[rec[6] + 1]
    for i in range(size):
        y[i] = clamp_f32(F32(a[i] + b[i]), lo, hi)


@inline
def _mbqm_right(v, m, right):
    h = (v * m + 1073741824) >> 31
    return (h + ((np.int64(1) << right) >> 1) - ((h < 0) & (right > 0))) >> right


@jit
def _add_q(a, b, y, rec):
    o1, m1, r1, o2, m2, r2, zp, mo, ro, lo, hi = rec[6], rec[7], rec[8], rec[9], rec[10], rec[11], rec[12], \
        rec[13], rec[14], rec[15], rec[16]
    for i in range(rec[5]):
        s = _mbqm_right((np.int64(a[i]) + o1) << 20, m1, r1) + _mbqm_right((np.int64(b[i]) + o2) << 20, m2, r2)
        y[i] = min(max(_mbqm_right(s, mo, ro) + zp, lo), hi)


@jit
def add_q(rec, fpar, arena, consts):
    size = rec[5]
    if rec[17] == 0:
        _add_q(arena[rec[2]:rec[2] + size].view(np.int8), arena[rec[3]:rec[3] + size].view(np.int8),
               arena[rec[4]:rec[4] + size].view(np.int8), rec)
    else:
        _add_q(arena[rec[2]:rec[2] + size], arena[rec[3]:rec[3] + size], arena[rec[4]:rec[4] + size], rec)


# ---- SOFTMAX, 8-bit (fast/softmax.py's tables and steps, one row at a time) ------------------
# rec: op, len, x, y, rows, depth, exps, terms, valid (int64 tables of 256 by d = row max - x),
# out_bits, out_min, out_max, flag (12: 0 int8, 1 uint8). Returns 1 when a row's exponent leaves
# 0..31 (the reference raises there: the caller re-runs the operator-by-operator plan).

@inline
def _srdhm(a, b):  # SaturatingRoundingDoublingHighMul
    if a == b and a == -2147483648:
        return np.int64(2147483647)
    s = a * b
    s += 1073741824 if s >= 0 else 1 - 1073741824
    return s >> 31 if s >= 0 else -((-s) >> 31)


@inline
def _saturating_shl(v, e):  # SaturatingRoundingMultiplyByPOT<e>, e > 0
    threshold = (np.int64(1) << (31 - e)) - 1
    if v > threshold:
        return np.int64(2147483647)
    if v < -threshold:
        return np.int64(-2147483648)
    return wrap32(v << e)


@jit
def _reciprocal(total, digits):
    """gemmlowp GetReciprocal(total, digits) as fast/softmax.py's _reciprocals: (scale, bits over unit)."""
    u = total & 4294967295
    clz = 32
    while clz > 0 and (u >> (32 - clz)) != 0:
        clz -= 1
    a = wrap32(((u << clz) & 4294967295) - 2147483648)
    t = a + 2147483647
    t += 1 if t >= 0 else -1
    half = t // 2 if t >= 0 else -((-t) // 2)
    x = wrap32(1515870810 + _srdhm(half, np.int64(-1010580540)))
    for _ in range(3):
        one_minus = wrap32((1 << 29) - _srdhm(half, x))
        x = wrap32(x + _saturating_shl(_srdhm(x, one_minus), 2))
    return _saturating_shl(x, 1), digits - clz


@jit
def _softmax_q8(x, y, rec, consts):
    rows, depth = rec[4], rec[5]
    exps, terms, valid = i64_view(consts, rec[6], 256), i64_view(consts, rec[7], 256), i64_view(consts, rec[8], 256)
    out_bits, out_min, out_max = rec[9], rec[10], rec[11]
    for r in range(rows):
        base = r * depth
        m = np.int64(x[base])
        for j in range(1, depth):
            m = max(m, np.int64(x[base + j]))
        s = np.int64(0)
        for j in range(depth):
            s += terms[m - np.int64(x[base + j])]
        sc, bits = _reciprocal(wrap32(s), 12)
        e = bits + 31 - out_bits
        if e < 0 or e > 31:
            return 1
        mask = (np.int64(1) << e) - 1
        half = mask >> 1
        for j in range(depth):
            d = m - np.int64(x[base + j])
            if valid[d] == 0:
                y[base + j] = out_min
                continue
            h = _srdhm(sc, exps[d])
            q = (h >> e) + (1 if (h & mask) > half + (1 if h < 0 else 0) else 0)
            y[base + j] = min(max(q + out_min, out_min), out_max)
    return 0


@jit
def softmax_q8(rec, fpar, arena, consts):
    size = rec[4] * rec[5]
    if rec[12] == 0:
        return _softmax_q8(arena[rec[2]:rec[2] + size].view(np.int8), arena[rec[3]:rec[3] + size].view(np.int8),
                           rec, consts)
    return _softmax_q8(arena[rec[2]:rec[2] + size], arena[rec[3]:rec[3] + size], rec, consts)


# ---- 8-bit elementwise operators as a table of the 256 input values -------------------------
# rec: op, len, x, y, size, table, out_bytes (1: a uint8 table of the output's bytes; 4: uint32)

@jit
def lut8(rec, fpar, arena, consts):
    x0, y0, size, t0 = rec[2], rec[3], rec[4], rec[5]
    if rec[6] == 1:
        table = consts[t0:t0 + 256]
        for i in range(size):
            arena[y0 + i] = table[np.uint64(arena[x0 + i])]
    else:
        table32 = consts[t0:t0 + 1024].view(np.uint32)
        y = arena[y0:y0 + 4 * size].view(np.uint32)
        for i in range(size):
            y[i] = table32[np.uint64(arena[x0 + i])]


# ---- QUANTIZE float32 -> int8 / uint8 (per tensor) -------------------------------------------
# rec: op, len, x, y, size, scale index into fpar, zp, lo, hi, flag. round(x / scale) halves away
# from zero, through int32 as LiteRT does (NaN and |v| >= 2^31: INT32_MIN), + zp wrapped, clamped.

@inline
def _quantize_one(v, scale, zp, lo, hi):
    r = F32(v / scale)
    a = abs(r)
    f = np.floor(a)
    if a - f >= F32(0.5):
        f = F32(f + F32(1.0))
    r = -f if r < 0 else f
    q = np.int64(r) if (r > -2147483649.0 and r < 2147483648.0) else np.int64(-2147483648)
    return min(max(wrap32(q + zp), lo), hi)


@jit
def _quantize_f32(x, y, rec, scale):
    zp, lo, hi = rec[6], rec[7], rec[8]
    for i in range(rec[4]):
        y[i] = _quantize_one(x[i], scale, zp, lo, hi)


@jit
def quantize_f32(rec, fpar, arena, consts):
    size = rec[4]
    x = f32_view(arena, rec[2], size)
    if rec[9] == 0:
        _quantize_f32(x, arena[rec[3]:rec[3] + size].view(np.int8), rec, fpar[rec[5]])
    else:
        _quantize_f32(x, arena[rec[3]:rec[3] + size], rec, fpar[rec[5]])


# ---- MEAN over a run of adjacent axes: the input as (outer, mid, inner), mid reduced ----------
# rec: op, len, x, y, outer, mid, inner, then float: nothing; quantized: mult, left, right,
# zp_in * mid, zp_out, lo, hi, flag (the reference's multiplier already divided by mid).

@jit
def mean_f32(rec, fpar, arena, consts):
    outer, mid, inner = rec[4], rec[5], rec[6]
    x, y = f32_view(arena, rec[2], outer * mid * inner), f32_view(arena, rec[3], outer * inner)
    n = F32(mid)
    for o in range(outer):
        yb, xb = np.uint64(o * inner), np.uint64(o * mid * inner)
        for i in range(np.uint64(inner)):
            y[yb + i] = x[xb + i]  # the reference's running sum starts from the first element
        for m in range(1, mid):
            xm = xb + np.uint64(m * inner)
            for i in range(np.uint64(inner)):
                y[yb + i] = F32(y[yb + i] + x[xm + i])
        for i in range(np.uint64(inner)):
            y[yb + i] = F32(y[yb + i] / n)


@jit
def _mean_q(x, y, rec):
    outer, mid, inner = rec[4], rec[5], rec[6]
    mult, left, right, zpn, zp_out, lo, hi = rec[7], rec[8], rec[9], rec[10], rec[11], rec[12], rec[13]
    for o in range(outer):
        for i in range(inner):
            total = np.int64(0)
            for m in range(mid):
                total += np.int64(x[(o * mid + m) * inner + i])
            a = wrap32(wrap32(total) - zpn)
            a = wrap32(a << left)
            h = (a * mult + 1073741824) >> 31
            h = (h + ((np.int64(1) << right) >> 1) - ((h < 0) & (right > 0))) >> right
            y[o * inner + i] = min(max(h + zp_out, lo), hi)


@jit
def mean_q(rec, fpar, arena, consts):
    nx, ny = rec[4] * rec[5] * rec[6], rec[4] * rec[6]
    if rec[14] == 0:
        _mean_q(arena[rec[2]:rec[2] + nx].view(np.int8), arena[rec[3]:rec[3] + ny].view(np.int8), rec)
    else:
        _mean_q(arena[rec[2]:rec[2] + nx], arena[rec[3]:rec[3] + ny], rec)


# ---- CONCATENATION without requantization: byte copies -----------------------------------------
# rec: op, len, y, outer, inputs, then per input: offset, bytes per outer step

@jit
def concat_bytes(rec, fpar, arena, consts):
    y, outer, k = rec[2], rec[3], rec[4]
    step = 0
    for j in range(k):
        step += rec[6 + 2 * j]
    for o in range(outer):
        dst = y + o * step
        for j in range(k):
            nb = rec[6 + 2 * j]
            src = rec[5 + 2 * j] + o * nb
            arena[dst:dst + nb] = arena[src:src + nb]
            dst += nb
