"""Integer GEMMs of int8 CONV_2D / FULLY_CONNECTED on AVX-512 VNNI, requantization fused.

The layer's GEMM is out[m, oc] = sum_k x[m, k] * w[k, oc] (x int8 with zero point in_zp, w int8
with zero point 0). `vpdpbusd` multiplies u8 by s8, so the activations are packed as
u8 = x ^ 0x80 = x + 128 (one row block at a time: the input rows of a 1x1 convolution, the
windows of a KxK one, K padded to a multiple of 4 with zeros) and the +128 and the input zero
point are folded into the bias once:
    sum_k (x - in_zp) * w = sum_k u8 * w - (128 + in_zp) * sum_k w
Every partial sum is exact in int32 while K * 255 * 128 < 2^31 (`exact`); the bias and the
requantization then wrap modulo 2^32 as the reference's int32 arithmetic does.

Weights are packed once (`pack_weights`) into panels of 32 output channels (the last one may
hold 16): per group of 4 k, NV 64-byte vectors whose lane j holds w[4k..4k+3, channel j]. The
micro-kernels (below) compute 12 (or 4) rows x 32 (or 16) channels with the K loop in
registers and requantize the tile at once.

Only imported when the CPU has VNNI (gemm_vnni.enabled(), which does not import numba).

The micro-kernels' LLVM IR (numba intrinsics built with llvmlite; in this module so numba's
cache, keyed on this file, sees any change to them):

One intrinsic computes a tile of R rows x NV*16 output channels of an integer GEMM:
    acc[r, j] = sum_k a[r, k] * w[k, j]        (a: u8, w: s8, exact int32: the caller checks K)
with `vpdpbusd` (64 u8 x s8 multiply-adds into 16 int32 lanes per instruction). The whole K loop
is generated here (phi nodes), so the R*NV accumulators live in zmm registers across it, then
the tile's epilogue runs on the registers:

- `requant` (CONV_2D): TFLite's MultiplyByQuantizedMultiplier per channel, exactly as
  requant.requant_rows computes it: a = wrap32(acc + bias) << left (wrapping),
  h = (a * mult + 2^30) >> 31 (int64 product), RoundingDivideByPOT(h, right) in gemmlowp's
  form (remainder / threshold: round half away from zero, equal to requant.py's
  (h + half - [h < 0]) >> right, without its int64), + out_zp (wrapping), clamp, int8 store;
- `int32` (FULLY_CONNECTED, whose reference rounds in double): wrap32(acc + bias) stored.

Stores are masked: columns >= ncols and rows >= nrows are not written (tiles at the edges of
the output write only their valid part; the rows of A past nrows are read but unused).

Operands (all int64 arguments; addresses are byte addresses):
  a, lda     A rows: row r of the tile at a + r*lda, 4 bytes per k step (K padded to 4)
  w, nk4     the weight panel: per k step, NV vectors of 64 bytes (lane j's 4 bytes = w[4k..4k+3, j])
  out, ldo   output tile (row stride in elements), col0 / ncols: the tile's first column and the
             layer's column count (lanes with col0 + v*16 + lane >= ncols are masked)
  nrows      valid rows of the tile (<= R)
  bias, mult, left, right   int32 per-channel vectors at the tile's first column (16*NV readable)
  zp, lo, hi int32 scalars (int64 arguments)
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import types
from numba.extending import intrinsic, register_jitable

from eightbit.kernels.fast.jit import njit
from eightbit.kernels.fast.vnni_layout import ROWS, SMALL

# ---- micro-kernels: LLVM IR --------------------------------------------------------------
I1, I8, I32, I64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64)
V16I32, V64I8, V16I8, V16I1 = ir.VectorType(I32, 16), ir.VectorType(I8, 64), ir.VectorType(I8, 16), ir.VectorType(I1, 16)
N_ARGS = 16


def _splat(builder, value, vty):
    v = builder.insert_element(ir.Constant(vty, ir.Undefined), value, ir.Constant(I32, 0))
    return builder.shuffle_vector(v, ir.Constant(vty, ir.Undefined), ir.Constant(ir.VectorType(I32, vty.count),
                                                                                 [0] * vty.count))


def _const_vec(vty, value):
    return ir.Constant(vty, [ir.Constant(vty.element, value)] * vty.count)


def _declare(module, name, ret, args):
    fnty = ir.FunctionType(ret, args)
    fn = module.globals.get(name)
    return fn if fn is not None else ir.Function(module, fnty, name)


def _load(builder, addr, ty, align):
    return builder.load(builder.inttoptr(addr, ty.as_pointer()), align=align)


def _k_loop(builder, r_rows, nv, a, lda, w, nk4):
    """The K loop: R*NV accumulators as phi nodes; returns their final values."""
    dp = _declare(builder.module, "llvm.x86.avx512.vpdpbusd.512", V16I32, [V16I32, V64I8, V64I8])
    entry = builder.basic_block
    loop = builder.append_basic_block("vnni.k")
    done = builder.append_basic_block("vnni.epilogue")
    builder.branch(loop)
    builder.position_at_end(loop)
    k = builder.phi(I64)
    k.add_incoming(ir.Constant(I64, 0), entry)
    zero = ir.Constant(V16I32, None)
    accs = [[builder.phi(V16I32) for _ in range(nv)] for _ in range(r_rows)]
    for row in accs:
        for acc in row:
            acc.add_incoming(zero, entry)
    wk = builder.add(w, builder.mul(k, ir.Constant(I64, nv * 64)))
    wv = [_load(builder, builder.add(wk, ir.Constant(I64, 64 * v)), V64I8, 1) for v in range(nv)]
    ak = builder.add(a, builder.mul(k, ir.Constant(I64, 4)))
    new = []
    for r in range(r_rows):
        a32 = _load(builder, builder.add(ak, builder.mul(lda, ir.Constant(I64, r))), I32, 1)
        ab = builder.bitcast(_splat(builder, a32, V16I32), V64I8)
        new.append([builder.call(dp, [accs[r][v], ab, wv[v]]) for v in range(nv)])
    k1 = builder.add(k, ir.Constant(I64, 1))
    k.add_incoming(k1, builder.basic_block)
    for r in range(r_rows):
        for v in range(nv):
            accs[r][v].add_incoming(new[r][v], builder.basic_block)
    builder.cbranch(builder.icmp_signed("<", k1, nk4), loop, done)
    builder.position_at_end(done)
    return new


def _pointer_suffix(vty) -> str:
    """The pointer part of a masked load / store intrinsic's name: opaque pointers (LLVM >= 15)
    or the typed ones of older LLVMs (gemm_vnni's self-test turns the path off if this is not
    accepted)."""
    return "p0" if llvm_version_info[0] >= 15 else f"p0v{vty.count}i{vty.element.width}"


def _masked_store(builder, value, addr, mask):
    vty = value.type
    suffix = f"v{vty.count}i{vty.element.width}.{_pointer_suffix(vty)}"
    fn = _declare(builder.module, f"llvm.masked.store.{suffix}", ir.VoidType(),
                  [vty, vty.as_pointer(), I32, ir.VectorType(I1, vty.count)])
    builder.call(fn, [value, builder.inttoptr(addr, vty.as_pointer()), ir.Constant(I32, 1), mask])


def _smax(builder, a, b):
    return builder.select(builder.icmp_signed(">", a, b), a, b)


def _smin(builder, a, b):
    return builder.select(builder.icmp_signed("<", a, b), a, b)


V8I64 = ir.VectorType(I64, 8)
ODD_LANES = ir.Constant(V16I1, [ir.Constant(I1, i % 2) for i in range(16)])


def _high_mul(builder, x, mult):
    """(x * mult + 2^30) >> 31 per int32 lane, the int64 products of the even and of the odd
    lanes formed in place (two vpmuldq) and the results blended back into 16 lanes."""
    c32, c31 = _const_vec(V8I64, 32), _const_vec(V8I64, 31)
    x64, m64 = builder.bitcast(x, V8I64), builder.bitcast(mult, V8I64)

    def low(v):  # the even lane of each pair, sign-extended
        return builder.ashr(builder.shl(v, c32), c32)

    even = builder.add(builder.mul(low(x64), low(m64)), _const_vec(V8I64, 1 << 30))
    odd = builder.add(builder.mul(builder.ashr(x64, c32), builder.ashr(m64, c32)), _const_vec(V8I64, 1 << 30))
    even_h = builder.bitcast(builder.lshr(even, c31), V16I32)  # bits 31..62 in the low half
    odd_h = builder.bitcast(builder.shl(odd, _const_vec(V8I64, 1)), V16I32)  # ... in the high half
    return builder.select(ODD_LANES, odd_h, even_h)


def _requantize(builder, acc, bias, mult, left, right, zp, lo, hi):
    """requant.requant_rows on 16 int32 lanes (see the module docstring)."""
    h = _high_mul(builder, builder.shl(builder.add(acc, bias), left), mult)
    mask = builder.sub(builder.shl(_const_vec(V16I32, 1), right), _const_vec(V16I32, 1))
    rem = builder.and_(h, mask)
    thr = builder.sub(builder.ashr(mask, _const_vec(V16I32, 1)), builder.ashr(h, _const_vec(V16I32, 31)))
    up = builder.zext(builder.icmp_signed(">", rem, thr), V16I32)
    y = builder.add(builder.add(builder.ashr(h, right), up), zp)
    return _smin(builder, _smax(builder, y, lo), hi)


def _epilogue(builder, r_rows, nv, mode, accs, args, masked):
    """Bias (+ requantization) and the stores of the tile; `masked`: edge tiles (rows past nrows
    or columns past ncols are not written), else plain stores."""
    a, lda, w, nk4, out, ldo, col0, ncols, nrows, bias, mult, left, right, zp, lo, hi = args
    lane = ir.Constant(V16I32, list(range(16)))
    splat32 = [_splat(builder, builder.trunc(s, I32), V16I32) for s in (zp, lo, hi)]
    ncols32 = _splat(builder, builder.trunc(ncols, I32), V16I32)
    item = 1 if mode == "requant" else 4
    for v in range(nv):
        c0 = _splat(builder, builder.trunc(builder.add(col0, ir.Constant(I64, 16 * v)), I32), V16I32)
        colmask = builder.icmp_signed("<", builder.add(c0, lane), ncols32)
        vec = [_load(builder, builder.add(p, ir.Constant(I64, 64 * v)), V16I32, 4) for p in (bias, mult, left, right)]
        for r in range(r_rows):
            dst = builder.add(out, builder.mul(builder.add(builder.mul(ldo, ir.Constant(I64, r)),
                                                           ir.Constant(I64, 16 * v)), ir.Constant(I64, item)))
            if mode == "requant":
                y = builder.trunc(_requantize(builder, accs[r][v], vec[0], vec[1], vec[2], vec[3], *splat32), V16I8)
            else:
                y = builder.add(accs[r][v], vec[0])
            if masked:
                rowok = builder.icmp_signed(">", nrows, ir.Constant(I64, r))
                _masked_store(builder, y, dst, builder.select(rowok, colmask, ir.Constant(V16I1, None)))
            else:
                builder.store(y, builder.inttoptr(dst, y.type.as_pointer()), align=1)


def _codegen(r_rows, nv, mode):
    def codegen(context, builder, signature, args):
        a, lda, w, nk4, out, ldo, col0, ncols, nrows, *_ = args
        accs = _k_loop(builder, r_rows, nv, a, lda, w, nk4)
        full = builder.and_(builder.icmp_signed(">=", nrows, ir.Constant(I64, r_rows)),
                            builder.icmp_signed("<=", builder.add(col0, ir.Constant(I64, 16 * nv)), ncols))
        whole = builder.append_basic_block("vnni.whole")
        edge = builder.append_basic_block("vnni.edge")
        done = builder.append_basic_block("vnni.done")
        builder.cbranch(full, whole, edge)
        for block, masked in ((whole, False), (edge, True)):
            builder.position_at_end(block)
            _epilogue(builder, r_rows, nv, mode, accs, args, masked)
            builder.branch(done)
        builder.position_at_end(done)
        return context.get_dummy_value()

    return codegen


def make_tile(r_rows: int, nv: int, mode: str):
    """A numba intrinsic tile(a, lda, w, nk4, out, ldo, col0, ncols, nrows, bias, mult, left, right,
    zp, lo, hi) -> None: one R x NV*16 tile (see the module docstring)."""

    def tile(typingctx, a, lda, w, nk4, out, ldo, col0, ncols, nrows, bias, mult, left, right, zp, lo, hi):
        return types.void(*([types.int64] * N_ARGS)), _codegen(r_rows, nv, mode)

    tile.__name__ = f"vnni_tile_{r_rows}x{nv}_{mode}"
    return intrinsic(tile)


V64I1 = ir.VectorType(I1, 64)


@intrinsic
def bytes64(typingctx, dst, src, n, fill):
    """bytes64(dst, src, n, fill): the n <= 64 bytes at dst = the bytes at src ^ 0x80, or, when
    src is 0, the byte fill (masked loads and stores: no byte past n is touched)."""

    def codegen(context, builder, signature, args):
        dst, src, n, fill = args
        n = builder.select(builder.icmp_unsigned(">", n, ir.Constant(I64, 64)), ir.Constant(I64, 64), n)
        lanes = builder.icmp_unsigned("<", ir.Constant(V64I8, list(range(64))),
                                      _splat(builder, builder.trunc(n, I8), V64I8))
        flipped = builder.append_basic_block("bytes64.flip")
        filled = builder.append_basic_block("bytes64.fill")
        done = builder.append_basic_block("bytes64.done")
        builder.cbranch(builder.icmp_signed("!=", src, ir.Constant(I64, 0)), flipped, filled)
        builder.position_at_end(flipped)
        load = _declare(builder.module, f"llvm.masked.load.v64i8.{_pointer_suffix(V64I8)}", V64I8,
                        [V64I8.as_pointer(), I32, V64I1, V64I8])
        x = builder.call(load, [builder.inttoptr(src, V64I8.as_pointer()), ir.Constant(I32, 1), lanes,
                                ir.Constant(V64I8, None)])
        _masked_store(builder, builder.xor(x, _const_vec(V64I8, 128)), dst, lanes)
        builder.branch(done)
        builder.position_at_end(filled)
        _masked_store(builder, _splat(builder, builder.trunc(fill, I8), V64I8), dst, lanes)
        builder.branch(done)
        builder.position_at_end(done)
        return context.get_dummy_value()

    return types.void(types.int64, types.int64, types.int64, types.int64), codegen


# ---- GEMM drivers ------------------------------------------------------------------------

T12x2 = make_tile(ROWS, 2, "requant")
T12x1 = make_tile(ROWS, 1, "requant")
T4x2 = make_tile(SMALL, 2, "requant")
T4x1 = make_tile(SMALL, 1, "requant")
I12x2 = make_tile(ROWS, 2, "int32")
I12x1 = make_tile(ROWS, 1, "int32")
I4x2 = make_tile(SMALL, 2, "int32")
I4x1 = make_tile(SMALL, 1, "int32")


@register_jitable
def _bytes(dst, src, n, fill):
    """The n bytes at address dst: those at src ^ 0x80, or `fill` when src is 0."""
    if n <= 64:  # the common case without the loop (about 40% faster for a first layer's 9 bytes)
        bytes64(dst, src, n, fill)
        return
    for o in range(0, n, 64):
        bytes64(dst + o, src + o if src != 0 else 0, n - o, fill)


@register_jitable
def _pack_rows(x, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow, pad_byte, p0, p1, buf):
    """Output pixels [p0, p1) of x (n, h, w, c) uint8 view of int8 data -> buf rows as u8
    (x ^ 0x80; window taps outside the input: pad_byte; K padding: 0). The taps of a window row
    that lies inside the input are one contiguous run when dw == 1 (a 1x1 stride-1 convolution:
    the whole block is one run when K needs no padding)."""
    h, wd, c = x.shape[1], x.shape[2], x.shape[3]
    kp = buf.shape[1]
    xa = np.int64(x.ctypes.data)
    ba = np.int64(buf.ctypes.data)
    if kh == 1 and kw == 1 and sh == 1 and sw == 1 and ph == 0 and pw == 0 and oh == h and ow == wd:
        if kp == c:
            _bytes(ba, xa + p0 * c, (p1 - p0) * c, 0)  # one run (no reshape: see aot_build)
        else:
            for p in range(p0, p1):
                _bytes(ba + (p - p0) * kp, xa + p * c, c, 0)
                _bytes(ba + (p - p0) * kp + c, 0, kp - c, 0)
        return
    per_image = oh * ow
    run = kw * c
    img = p0 // per_image  # the pixel's coordinates, stepped (no divisions per pixel)
    oy = (p0 % per_image) // ow
    ox = p0 % ow - 1
    for p in range(p0, p1):
        ox += 1
        if ox == ow:
            ox = 0
            oy += 1
            if oy == oh:
                oy = 0
                img += 1
        ix0 = ox * sw - pw
        inside_x = dw == 1 and ix0 >= 0 and ix0 + kw <= wd
        col = ba + (p - p0) * kp
        for ky in range(kh):
            iy = oy * sh - ph + ky * dh
            row = xa + (img * h + iy) * wd * c
            if iy < 0 or iy >= h:
                _bytes(col, 0, run, pad_byte)
            elif inside_x:
                _bytes(col, row + ix0 * c, run, 0)
            else:
                for kx in range(kw):
                    ix = ix0 + kx * dw
                    if 0 <= ix < wd:
                        _bytes(col + kx * c, row + ix * c, c, 0)
                    else:
                        _bytes(col + kx * c, 0, c, pad_byte)
            col += run
        _bytes(col, 0, kp - kh * run, 0)




@register_jitable
def _tiles_requant(buf, rows, wpack, nk4, oc, chans, zp, lo, hi, out, row0):
    """The requantized int8 tiles of buf's first `rows` rows into out[row0:row0 + rows]."""
    kp = buf.shape[1]
    a0 = np.int64(buf.ctypes.data)  # addresses as int64 (uintp + int64 would be float64)
    w0 = np.int64(wpack.ctypes.data)
    o0 = np.int64(out.ctypes.data) + row0 * oc
    step = chans.shape[1] * 4  # chans: (4, channels) int32 rows bias, mult, left, right
    bias = np.int64(chans.ctypes.data)
    mult, left, right = bias + step, bias + 2 * step, bias + 3 * step
    oc16 = (oc + 15) // 16 * 16
    for t in range(0, rows, ROWS):
        left_rows = rows - t
        for g in range(0, oc16, 32):
            wg = w0 + g * nk4 * 4
            o = o0 + t * oc + g
            c4 = 4 * g
            if oc16 - g >= 32:
                if left_rows > 4:
                    T12x2(a0 + t * kp, kp, wg, nk4, o, oc, g, oc, left_rows, bias + c4, mult + c4, left + c4,
                          right + c4, zp, lo, hi)
                else:
                    T4x2(a0 + t * kp, kp, wg, nk4, o, oc, g, oc, left_rows, bias + c4, mult + c4, left + c4,
                         right + c4, zp, lo, hi)
            elif left_rows > 4:
                T12x1(a0 + t * kp, kp, wg, nk4, o, oc, g, oc, left_rows, bias + c4, mult + c4, left + c4,
                      right + c4, zp, lo, hi)
            else:
                T4x1(a0 + t * kp, kp, wg, nk4, o, oc, g, oc, left_rows, bias + c4, mult + c4, left + c4,
                     right + c4, zp, lo, hi)


@register_jitable
def _tiles_int32(buf, rows, wpack, nk4, oc, bias_vec, out, row0):
    """wrap32(acc + bias) of buf's first `rows` rows into the int32 out[row0:row0 + rows]."""
    kp = buf.shape[1]
    a0 = np.int64(buf.ctypes.data)
    w0 = np.int64(wpack.ctypes.data)
    o0 = np.int64(out.ctypes.data) + row0 * oc * 4
    bias = np.int64(bias_vec.ctypes.data)
    oc16 = (oc + 15) // 16 * 16
    for t in range(0, rows, ROWS):
        left_rows = rows - t
        for g in range(0, oc16, 32):
            wg = w0 + g * nk4 * 4
            o = o0 + (t * oc + g) * 4
            if oc16 - g >= 32:
                if left_rows > 4:
                    I12x2(a0 + t * kp, kp, wg, nk4, o, oc, g, oc, left_rows, bias + 4 * g, 0, 0, 0, 0, 0, 0)
                else:
                    I4x2(a0 + t * kp, kp, wg, nk4, o, oc, g, oc, left_rows, bias + 4 * g, 0, 0, 0, 0, 0, 0)
            elif left_rows > 4:
                I12x1(a0 + t * kp, kp, wg, nk4, o, oc, g, oc, left_rows, bias + 4 * g, 0, 0, 0, 0, 0, 0)
            else:
                I4x1(a0 + t * kp, kp, wg, nk4, o, oc, g, oc, left_rows, bias + 4 * g, 0, 0, 0, 0, 0, 0)


def _conv_range(x, ints, wpack, chans, out, buf, p0, p1):
    """Output pixels [p0, p1) of a convolution: packed one block of buf's rows at a time, then
    its tiles. ints: conv_ints (kh, kw, sh, sw, dh, dw, ph, pw, oh, ow, pad_byte, nk4, oc, zp,
    lo, hi); buf: (rows, 4 * nk4) uint8 with rows a multiple of 12."""
    kh, kw, sh, sw, dh, dw, ph, pw = ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6], ints[7]
    oh, ow, pad_byte, nk4, oc, zp, lo, hi = ints[8], ints[9], ints[10], ints[11], ints[12], ints[13], ints[14], \
        ints[15]
    block = buf.shape[0]
    for b0 in range(p0, p1, block):
        b1 = min(b0 + block, p1)
        _pack_rows(x, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow, pad_byte, b0, b1, buf)
        _tiles_requant(buf, b1 - b0, wpack, nk4, oc, chans, zp, lo, hi, out, b0)


def _fc_range(x, wpack, nk4, oc, bias_vec, out, buf, p0, p1):
    """Rows [p0, p1) of a FULLY_CONNECTED accumulator (int32, bias added) from x (1, rows, 1,
    depth), a uint8 view of the int8 input."""
    block = buf.shape[0]
    for b0 in range(p0, p1, block):
        b1 = min(b0 + block, p1)
        _pack_rows(x, 1, 1, 1, 1, 1, 1, 0, 0, x.shape[1], 1, 0, b0, b1, buf)  # x (1, rows, 1, depth)
        _tiles_int32(buf, b1 - b0, wpack, nk4, oc, bias_vec, out, b0)


# The compiled helpers the range functions call (numba dispatchers, compiled on first use).
# The two kernels; the helpers they call are register_jitable (compiled into each caller, so
# no compiled function calls another's dispatcher: plain JIT or the ahead-of-time library alike).
conv_range = njit(_conv_range)
fc_range = njit(_fc_range)
