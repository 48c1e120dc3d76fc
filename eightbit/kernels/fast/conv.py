"""Fast CONV_2D and FULLY_CONNECTED (DEPTHWISE_CONV_2D: depthwise_conv.py), bit-identical to the reference kernels.

Each fast kernel runs the reference prepare (same validation, same multipliers), then adds the
prepare-time work of its fast path once: the filter re-laid out as a float32 (or float64) GEMM
operand, the input zero point folded into the bias (sum(w * (x - zp)) = sum(w * x) - zp * sum(w)),
the multipliers split into shift counts, the output geometry. Layers it does not cover (int16,
hybrid, grouped, non-constant filters, multipliers outside requant.fits) keep the reference
kernel's params and eval.

Integer GEMMs go through float BLAS only when provably exact: every partial sum of K products
of |x| <= xmax and |w| <= wmax is an integer below K * xmax * wmax, exact in float32 when that is
below 2^24 and in float64 when below 2^53.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from eightbit.kernels import im2col as ic
from eightbit.kernels.conv import Conv2D, ConvParams
from eightbit.kernels.fast import gemm_vnni, workspace
from eightbit.kernels.fast import requant as rq
from eightbit.kernels.fast.jit import HAVE_NUMBA, blocks, fixed_ranges, parallel
from eightbit.kernels.float_sequential import matmul_sequential
from eightbit.kernels.fully_connected import FullyConnected, FullyConnectedParams
from eightbit.kernels.padding import compute_padding_height_width

F32 = np.float32
FLOAT_BLOCK_ROWS = 1024  # rows per block of a float GEMM (the same blocks for any thread count)


class Fallback:
    """Marks params that the reference eval runs (the fast path does not cover the layer)."""

    __slots__ = ("params",)

    def __init__(self, params):
        self.params = params


def _gemm_plan(k: int, xmax: int, wmax: int):
    """(dtype, K chunks) of an exact integer GEMM: float32 in chunks of K whose partial sums stay
    below 2^24 (summed in float64, exact), when there are at most 4 of them; else float64 (any
    int32-sized sum); None when not even float64 is exact."""
    per = (ic.F32_EXACT - 1) // max(xmax * wmax, 1)
    if per >= 1 and -(-k // per) <= 4:
        return F32, tuple((s, min(k, s + per)) for s in range(0, max(k, 1), per))
    if k * xmax * wmax < ic.F64_EXACT:
        return np.float64, ((0, k),)
    return None


def float_matmul(a, wmat, out, blas: bool):
    """a @ wmat in float32 into out: by BLAS, or summed in TFLite's reference order."""
    if blas:
        np.matmul(a.astype(F32, copy=False), wmat, out=out)
    else:
        matmul_sequential(a, wmat, out)
    return out


def exact_matmul(a, wmat, chunks):
    """a @ wmat, exactly, for integer-valued operands planned by _gemm_plan."""
    if len(chunks) == 1:
        return a @ wmat
    acc = np.zeros((a.shape[0], wmat.shape[1]), np.float64)
    for s, e in chunks:
        acc += a[:, s:e] @ wmat[s:e]
    return acc


def _input_max(kind: str) -> int:
    return 255 if kind == "uint8" else 128


@dataclass(frozen=True)
class Requant:
    """Per-output-channel requantization, ready for the compiled kernels."""

    mult: np.ndarray
    left: np.ndarray
    right: np.ndarray
    out_zp: int
    lo: int
    hi: int
    dtype: np.dtype

    @staticmethod
    def of(p, channels: int) -> Requant:
        mult = np.broadcast_to(np.asarray(p.mult, np.int64), (channels,)).copy()
        left, right = rq.split_shift(np.broadcast_to(np.asarray(p.shift, np.int64), (channels,)))
        return Requant(mult, left, right, int(p.out_zp), int(p.lo), int(p.hi), np.dtype(p.out_dtype))

    def rows(self, acc, bias, out):
        rq.requant_rows.run()(acc, bias, self.mult, self.left, self.right, self.out_zp, self.lo, self.hi, out)
        return out


def _geometry(p, x_shape, kh, kw):
    n, h, wd, _ = x_shape
    sh, sw = p.stride
    dh, dw = p.dilation
    g = compute_padding_height_width(sh, sw, dh, dw, h, wd, kh, kw, p.padding)
    return (kh, kw, sh, sw, dh, dw, g.height, g.width, g.out_height, g.out_width)


@dataclass(frozen=True)
class FastConvParams:
    ref: ConvParams
    x_shape: tuple
    geo: tuple
    wmat: np.ndarray  # (K, OC) GEMM operand in the GEMM dtype
    chunks: tuple  # K ranges of the exact GEMM (_gemm_plan)
    bias: np.ndarray  # (OC,) int64: bias - in_zp * sum(w); float32 bias of a float layer
    requant: Requant | None  # None: float32 layer
    clamp: tuple = (0.0, 0.0)  # float32 layer's activation range
    blas: bool = False  # float32 layer summed by BLAS (fastpath.choose_kernels: no float is quantized later)
    memo: dict = field(default_factory=dict, compare=False)  # _runtime_weights' last layout


_NO_BIAS = np.zeros(0, F32)


def _float_epilogue(acc, bias, clamp):
    lo, hi = clamp
    rq.bias_clamp_rows.run()(acc, _NO_BIAS if bias is None else bias, bias is not None, F32(lo), F32(hi))
    return acc


class FastConv2D(Conv2D):
    @staticmethod
    def prepare(op):
        p = Conv2D.prepare(op)
        x, w, b = op.inputs[0], op.inputs[1], op.inputs[2] if len(op.inputs) > 2 else None
        oc, kh, kw, fin = (int(d) for d in w.shape)
        if HAVE_NUMBA and p.kind == "float" and int(x.shape[3]) == fin:
            # A filter or bias computed at run time (DEQUANTIZE of float16 weights, DENSIFY) is
            # laid out at every eval (wmat / bias None: _runtime_weights).
            k = kh * kw * fin
            const_bias = b is None or b.data is not None
            bias = None if b is None or not const_bias else np.asarray(b.data, F32)
            wmat = p.wmat[0] if w.data is not None and const_bias else None
            return FastConvParams(p, tuple(x.shape), _geometry(p, tuple(x.shape), kh, kw), wmat, ((0, k),),
                                  bias, None, p.clamp)
        if (not HAVE_NUMBA or p.kind not in ("int8", "uint8") or w.data is None or int(x.shape[3]) != fin
                or (b is not None and b.data is None) or not rq.fits(p.mult, p.shift)):
            return Fallback(p)
        geo = _geometry(p, tuple(x.shape), kh, kw)
        if gemm_vnni.enabled() and p.kind == "int8":
            vp = gemm_vnni.conv_params(p, tuple(x.shape), geo, w.data, None if b is None else b.data)
            if vp is not None:
                return vp
        k = kh * kw * fin
        wi = np.asarray(w.data).astype(np.int64).reshape(oc, k) - int(p.wzp)
        plan = _gemm_plan(k, _input_max(p.kind), ic.max_abs(wi))
        if plan is None:
            return Fallback(p)
        bias = -int(p.in_zp) * wi.sum(axis=1)
        if b is not None:
            bias = bias + np.asarray(b.data).astype(np.int64)
        return FastConvParams(p, tuple(x.shape), geo, np.ascontiguousarray(wi.T.astype(plan[0])), plan[1], bias,
                              Requant.of(p, oc))

    @staticmethod
    def eval(params, x, w, bias=None):
        if type(params) is Fallback:
            return Conv2D.eval(params.params, x, w, bias)
        if type(params) is gemm_vnni.VnniConvParams:
            kh, kw = params.geo[0], params.geo[1]
            geo = params.geo if x.shape == params.x_shape else _geometry(params.ref, x.shape, kh, kw)
            return gemm_vnni.conv_eval(params, x, geo)
        p = params if params.wmat is not None else _runtime_weights(params, w, bias)
        geo = p.geo if x.shape == p.x_shape else _geometry(p.ref, x.shape, p.geo[0], p.geo[1])
        kh, kw, sh, sw, dh, dw, ph, pw, oh, ow = geo
        n, c = x.shape[0], x.shape[3]
        m = n * oh * ow
        dt = p.wmat.dtype
        if not (kh == 1 and kw == 1 and ph == 0 and pw == 0 and _pointwise_fits(x, sh, sw, oh, ow)):
            return _windows_conv(p, x, geo)
        # 1x1: the (strided) input itself is the GEMM operand, no im2col copy
        src = x if sh == 1 and sw == 1 else x[:, : (oh - 1) * sh + 1: sh, : (ow - 1) * sw + 1: sw, :]
        a = src.reshape(m, c) if src.flags.c_contiguous else np.ascontiguousarray(src).reshape(m, c)
        oc = p.wmat.shape[1]
        out = workspace.empty((m, oc), F32 if p.requant is None else p.requant.dtype)

        def rows(r0, r1):  # int8 rows -> GEMM dtype, GEMM, requantize (or bias + clamp), per row block
            ar = a[r0:r1] if a.dtype == dt else a[r0:r1].astype(dt)
            if p.requant is None:  # BLAS, or TFLite's summation order (the reference kernel's bits)
                float_matmul(ar, p.wmat, out[r0:r1], p.blas)
                _float_epilogue(out[r0:r1], p.bias, p.clamp)
            else:
                p.requant.rows(exact_matmul(ar, p.wmat, p.chunks), p.bias, out[r0:r1])

        # Float GEMMs in blocks of a fixed number of rows (a BLAS GEMM's last bits may depend on
        # the split: the same blocks for every thread count); integer GEMMs are exact.
        work = m * a.shape[1] * oc
        if p.requant is None:
            parallel(rows, fixed_ranges(m, FLOAT_BLOCK_ROWS), work)
        else:  # blocks of rows: the float accumulator of a block stays small
            parallel(rows, blocks(m, oc * p.wmat.itemsize + a.shape[1] * 4), work)
        return out.reshape(n, oh, ow, oc)


def _memoized(p, w, bias, make):
    """make() (params with the layout of a filter / bias that arrived at eval), kept while the same
    read-only arrays come again (a constant DEQUANTIZEd once: fast/dequantize.py); arrays that
    could change in place are laid out at every eval."""
    fixed = not w.flags.writeable and (bias is None or not bias.flags.writeable)
    if fixed and p.memo.get("w") is w and p.memo.get("bias") is bias:
        return p.memo["params"]
    made = make()
    if fixed:
        p.memo.update(w=w, bias=bias, params=made)
    return made


def _runtime_weights(p, w, bias):
    """The params of a float layer whose filter or bias arrives at eval (OHWI -> (K, OC))."""
    def make():
        wmat = np.ascontiguousarray(np.asarray(w, F32).reshape(w.shape[0], -1).T)
        return replace(p, wmat=wmat, bias=None if bias is None else np.asarray(bias, F32))

    return _memoized(p, w, bias, make)


def _windows_conv(p, x, geo):
    """KxK convolution: the windows of the input (padded with its zero point, or 0.0 for floats)
    copied to the GEMM dtype one block of output rows at a time, in parallel, so no whole im2col
    matrix is ever held (a batch-32 first layer's would be about 40 MB) or copied on one thread."""
    kh, kw, sh, sw, dh, dw, ph, pw, oh, ow = geo
    n, c = x.shape[0], x.shape[3]
    k, oc = kh * kw * c, p.wmat.shape[1]
    floats = p.requant is None
    view = ic.window_patches(x, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow, 0 if floats else p.ref.in_zp,
                             F32 if floats else x.dtype)
    out = workspace.empty((n * oh * ow, oc), F32 if floats else p.requant.dtype)
    rows = max(1, (1 << 20) // max(ow * (k + oc) * 4, 1))  # output rows per block
    jobs = [(b, min(b + rows, oh)) for b in range(0, oh, rows)]
    ranges = [(i * len(jobs) + j, i * len(jobs) + j + 1) for i in range(n) for j in range(len(jobs))]

    def block(r, _):
        img, (y0, y1) = divmod(r, len(jobs))[0], jobs[r % len(jobs)]
        a = np.empty(((y1 - y0) * ow, k), p.wmat.dtype)
        np.copyto(a.reshape(y1 - y0, ow, kh, kw, c), view[img, y0:y1], casting="unsafe")
        start = (img * oh + y0) * ow
        dst = out[start:start + (y1 - y0) * ow]
        if floats:  # BLAS, or TFLite's summation order (any block split gives the same bits)
            _float_epilogue(float_matmul(a, p.wmat, dst, p.blas), p.bias, p.clamp)
        else:
            p.requant.rows(exact_matmul(a, p.wmat, p.chunks), p.bias, dst)

    parallel(block, ranges, n * oh * ow * k * oc)
    return out.reshape(n, oh, ow, oc)


def _pointwise_fits(x, sh, sw, oh, ow) -> bool:
    return (oh - 1) * sh < x.shape[1] and (ow - 1) * sw < x.shape[2]


@dataclass(frozen=True)
class FastFCParams:
    ref: FullyConnectedParams
    wmat: np.ndarray  # (depth, units) in the GEMM dtype
    chunks: tuple
    bias: np.ndarray  # (units,) int64: bias - in_zp * sum(w)
    scale: np.ndarray | None  # (units,) float64 effective scales; None: float32 layer
    out_zp: int
    lo: int
    hi: int
    dtype: np.dtype
    clamp: tuple = (0.0, 0.0)  # float32 layer's activation range
    blas: bool = False  # float32 layer summed by BLAS (see FastConvParams)
    memo: dict = field(default_factory=dict, compare=False)  # _memoized's last layout


class FastFullyConnected(FullyConnected):
    @staticmethod
    def prepare(op):
        p = FullyConnected.prepare(op)
        w = op.inputs[1]
        b = op.inputs[2] if len(op.inputs) > 2 else None
        if HAVE_NUMBA and p.kind == "float" and len(w.shape) == 2:
            # Weights or bias computed at run time: laid out at every eval (wmat None).
            const = p.wt is not None and (b is None or b.data is not None)
            bias = None if b is None or not const else np.asarray(b.data, F32)
            return FastFCParams(p, p.wt if const else None, ((0, int(w.shape[1])),), bias, None, 0, 0, 0,
                                np.dtype(F32), p.clamp)
        if (not HAVE_NUMBA or p.kind not in ("int8", "uint8") or p.int64_acc or w.data is None
                or (b is not None and b.data is None)):
            return Fallback(p)
        units, depth = (int(d) for d in w.shape)
        scale = np.broadcast_to(np.asarray(p.effective_scale, np.float64), (units,)).copy()
        if not np.all(np.abs(scale) < 0.5):  # |round(acc * scale)| stays inside int32
            return Fallback(p)
        if gemm_vnni.enabled() and p.kind == "int8" and len(w.shape) == 2:
            vp = gemm_vnni.fc_params(p, w.data, None if b is None else b.data, scale)
            if vp is not None:
                return vp
        wi = np.asarray(w.data).astype(np.int64) - int(p.wzp)
        plan = _gemm_plan(depth, _input_max(p.kind), ic.max_abs(wi))
        if plan is None:
            return Fallback(p)
        bias = -int(p.in_zp) * wi.sum(axis=1)
        if b is not None:
            bias = bias + np.asarray(b.data).astype(np.int64)
        return FastFCParams(p, np.ascontiguousarray(wi.T.astype(plan[0])), plan[1], bias, scale, int(p.out_zp),
                            int(p.lo), int(p.hi), np.dtype(p.out_dtype))

    @staticmethod
    def eval(params, x, w, bias=None):
        if type(params) is Fallback:
            return FullyConnected.eval(params.params, x, w, bias)
        if type(params) is gemm_vnni.VnniFCParams:
            rows = x.size // params.depth
            out = workspace.empty((rows, params.units), np.int8)
            gemm_vnni.fc_eval(params, x.reshape(rows, params.depth), out)
            return out.reshape((*x.shape[:-1], params.units) if params.ref.keep_num_dims else (rows, params.units))
        p = params
        if p.wmat is None:
            p = _memoized(p, w, bias, lambda: replace(p, wmat=np.ascontiguousarray(np.asarray(w, F32).T),
                                                      bias=None if bias is None else np.asarray(bias, F32)))
        depth, units = p.wmat.shape
        rows = x.size // depth if depth else int(np.prod(x.shape[:-1]))
        out_shape = (*x.shape[:-1], units) if p.ref.keep_num_dims else (rows, units)
        x2 = x.reshape(rows, depth)
        out = workspace.empty((rows, units), p.dtype)

        def block(r0, r1):
            if p.scale is None:  # BLAS, or TFLite's summation order (the reference kernel's bits)
                float_matmul(x2[r0:r1], p.wmat, out[r0:r1], p.blas)
                _float_epilogue(out[r0:r1], p.bias, p.clamp)
                return
            acc = exact_matmul(x2[r0:r1].astype(p.wmat.dtype, copy=False), p.wmat, p.chunks)
            rq.requant_double_rows.run()(acc, p.bias, p.scale, p.out_zp, p.lo, p.hi, out[r0:r1])

        if p.scale is None:
            parallel(block, fixed_ranges(rows, FLOAT_BLOCK_ROWS), rows * depth * units)
        else:
            parallel(block, blocks(rows, units * p.wmat.itemsize + depth * 4), rows * depth * units)
        return out.reshape(out_shape)


def _with_blas(params):
    """The params of a float32 layer switched to BLAS summation (others unchanged)."""
    if isinstance(params, FastConvParams) and params.requant is None:
        return replace(params, blas=True)
    if isinstance(params, FastFCParams) and params.scale is None:
        return replace(params, blas=True)
    return params


class FastConv2DBlas(FastConv2D):
    """FastConv2D whose float32 layers sum through BLAS: chosen by fastpath.choose_kernels only
    for models in which no float value is quantized at run time (the last-bit differences from
    the reference order then stay last-bit differences)."""

    @staticmethod
    def prepare(op):
        return _with_blas(FastConv2D.prepare(op))


class FastFullyConnectedBlas(FastFullyConnected):
    """FastFullyConnected with BLAS float32 layers (see FastConv2DBlas)."""

    @staticmethod
    def prepare(op):
        return _with_blas(FastFullyConnected.prepare(op))
