"""Fast DEPTHWISE_CONV_2D, bit-identical to the reference kernel (kernels/depthwise_conv.py).

int8 / uint8 layers run fast/depthwise.py's depthwise_quant: each input row converted once to
float32 (x - zero point), zero-padded, the taps summed exactly in float32 over contiguous tiles
of output columns x channels, and requantized in the same pass (requant.table; the no-wrap
variant when requant.no_wrap proves it for the layer's accumulator bound). A layer whose sums
could leave float32's exact integers (more than 258 taps) runs the int32 loop (depthwise_int), and
one whose windows are so far apart that the converted rows would pass MAX_SCRATCH the loop that
skips outside taps (depthwise_int_f32); float32 layers depthwise_float (taps in the reference's
(fy, fx) order). Layers this does not cover (int16, hybrid, a filter or bias of an integer layer
computed at run time, multipliers outside requant.fits) keep the reference eval."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

import numpy as np

from eightbit.kernels import im2col as ic
from eightbit.kernels.depthwise_conv import DepthwiseConv2D, DepthwiseConvParams
from eightbit.kernels.fast import depthwise as dwk
from eightbit.kernels.fast import requant as rq
from eightbit.kernels.fast import workspace
from eightbit.kernels.fast.conv import Fallback, Requant, _geometry, _memoized
from eightbit.kernels.fast.jit import HAVE_NUMBA, parallel, work_ranges

F32 = np.float32


@dataclass(frozen=True)
class FastDepthwiseParams:
    ref: DepthwiseConvParams
    x_shape: tuple
    geo: np.ndarray  # int64 (sh, sw, dh, dw, pad_top, pad_left)
    out_hw: tuple
    w: np.ndarray  # (KH, KW, OC): filter minus its zero point, float32 when exact (else int32); float filter
    bias: np.ndarray  # (OC,) int32 (int64 for depthwise_int_f32's callers), or float32
    has_bias: bool
    requant: Requant | None
    tiles: tuple | None = None  # depthwise_quant's (filter table, requant.table, T*OC, no_wrap) (None: depthwise_int)
    memo: dict = field(default_factory=dict, compare=False)  # _memoized's last layout


def _dw_geometry(p, x_shape, kh, kw):
    g = _geometry(p, x_shape, kh, kw)
    kh, kw, sh, sw, dh, dw, ph, pw, oh, ow = g
    return np.array([sh, sw, dh, dw, ph, pw], np.int64), (oh, ow)


def _input_range(kind: str, zp: int) -> int:
    """max |x - zp| over the input type's values."""
    lo, hi = (0, 255) if kind == "uint8" else (-128, 127)
    return max(zp - lo, hi - zp)


class FastDepthwiseConv2D(DepthwiseConv2D):
    @staticmethod
    def prepare(op):
        p = DepthwiseConv2D.prepare(op)
        x, w = op.inputs[0], op.inputs[1]
        b = op.inputs[2] if len(op.inputs) > 2 else None
        _, kh, kw, oc = (int(d) for d in w.shape)
        c = int(x.shape[3])
        runtime = w.data is None or (b is not None and b.data is None)
        if (not HAVE_NUMBA or p.kind not in ("int8", "uint8", "float") or (runtime and p.kind != "float")
                or c == 0 or oc % c):
            return Fallback(p)
        geo, out_hw = _dw_geometry(p, tuple(x.shape), kh, kw)
        if p.kind == "float" and runtime:  # filter / bias computed at run time: taken at eval
            return FastDepthwiseParams(p, tuple(x.shape), geo, out_hw, None, None, b is not None, None)
        if p.kind == "float":
            bias = np.zeros(oc, F32) if b is None else np.asarray(b.data, F32)
            return FastDepthwiseParams(p, tuple(x.shape), geo, out_hw, np.ascontiguousarray(
                np.asarray(w.data, F32).reshape(kh, kw, oc)), bias, b is not None, None)
        if not rq.fits(p.mult, p.shift):
            return Fallback(p)
        wi = np.asarray(w.data).astype(np.int32).reshape(kh, kw, oc) - np.int32(p.wzp)
        bias = np.zeros(oc, np.int32) if b is None else np.asarray(b.data).astype(np.int32)
        requant = Requant.of(p, oc)
        bound = kh * kw * _input_range(p.kind, int(p.in_zp)) * ic.max_abs(wi)  # of |acc|
        if bound < ic.F32_EXACT and oc <= dwk.TILE:
            tiles = _tiles(wi, rq.table(bias, p.mult, p.shift)) + (rq.no_wrap(bound, bias, p.shift, p.out_zp),)
            return FastDepthwiseParams(p, tuple(x.shape), geo, out_hw, np.ascontiguousarray(wi.astype(F32)), bias,
                                       b is not None, requant, tiles)
        return FastDepthwiseParams(p, tuple(x.shape), geo, out_hw, np.ascontiguousarray(wi), bias, b is not None,
                                   requant)

    @staticmethod
    def eval(params, x, w, bias=None):
        if type(params) is Fallback:
            return DepthwiseConv2D.eval(params.params, x, w, bias)
        p = params
        if p.tiles is not None:
            plan = _plan(p, x.shape)
            if plan is not None:
                return _eval_quant(p, x, plan)
        if p.w is None:
            p = _memoized(p, w, bias, lambda: replace(
                p, w=np.ascontiguousarray(np.asarray(w, F32).reshape(w.shape[1:])),
                bias=np.zeros(w.shape[3], F32) if bias is None else np.asarray(bias, F32)))
        kh, kw, oc = p.w.shape
        geo, (oh, ow) = (p.geo, p.out_hw) if x.shape == p.x_shape else _dw_geometry(p.ref, x.shape, kh, kw)
        if x.shape[3] == 0 or oc % x.shape[3]:
            raise ValueError(f"filter depth {oc} is not a multiple of the input depth {x.shape[3]}")
        dm = oc // x.shape[3]
        jobs = work_ranges(x.shape[0] * oh, ow * oc * kh * kw)
        if p.requant is None:
            out = workspace.empty((x.shape[0], oh, ow, oc), F32)
            lo, hi = p.ref.clamp
            xf, fn = np.ascontiguousarray(x, F32), dwk.depthwise_float.run()
            parallel(lambda j0, j1: fn(xf, p.w, p.bias, p.has_bias, geo, dm, F32(lo), F32(hi), out, j0, j1), jobs)
            return out
        r = p.requant
        out = workspace.empty((x.shape[0], oh, ow, oc), r.dtype)
        xc = np.ascontiguousarray(x)
        if p.tiles is None:
            fn, zp = dwk.depthwise_int.run(), np.int32(p.ref.in_zp)
            parallel(lambda j0, j1: fn(xc, p.w, p.bias, zp, geo, dm, r.mult, r.left, r.right, r.out_zp, r.lo, r.hi,
                                       out, j0, j1), jobs)
            return out
        # windows so far apart that the converted rows would pass MAX_SCRATCH: the loop that skips
        # outside taps
        fn, zp, bias = dwk.depthwise_int_f32.run(), np.int32(p.ref.in_zp), p.bias.astype(np.int64)
        parallel(lambda j0, j1: fn(xc, p.w, bias, zp, geo, dm, r.mult, r.left, r.right, r.out_zp, r.lo, r.hi, out,
                                   j0, j1), jobs)
        return out


TILE_OUTPUTS = 512  # outputs per tile of depthwise_quant: the tile's filter and requantization
# rows (60 bytes an output) stay in the L1 cache with the input rows they read


def _tiles(w, chan):
    """(wt, chan, T*OC) of depthwise_quant: the filter taps (KH*KW rows) and the requant.table rows
    (6 rows) repeated over T = TILE_OUTPUTS // OC output columns (at least 1), rows dwk.TILE
    apart, flat."""
    kh, kw, oc = w.shape
    t = max(1, TILE_OUTPUTS // max(oc, 1))
    wt = np.zeros((kh * kw, dwk.TILE), F32)
    wt[:, :t * oc] = np.tile(w.reshape(kh * kw, oc).astype(F32), (1, t))
    table = np.zeros((chan.shape[0], dwk.TILE), np.int32)
    table[:, :t * oc] = np.tile(chan, (1, t))
    return wt.reshape(-1), table.reshape(-1), t * oc


MAX_SCRATCH = 1 << 24  # bytes of converted input rows per range, past which depthwise_int_f32 runs


def _plan(p, x_shape):
    """What depthwise_quant needs for an input shape, kept for the last shape seen: (geo, slots,
    slot width), output shape, scalars, work per output row), or None when the converted rows
    would pass MAX_SCRATCH (or the input depth does not divide the filter's: the eval reports it)."""
    memo = p.memo.get("plan")
    if memo is not None and memo[0] == x_shape:
        return memo[1]
    kh, kw, oc = p.w.shape
    plan = None
    if x_shape[3] and oc % x_shape[3] == 0:
        geo, (oh, ow) = (p.geo, p.out_hw) if x_shape == p.x_shape else _dw_geometry(p.ref, x_shape, kh, kw)
        sh, sw, dh, dw, _, pl = (int(v) for v in geo)
        ring = (kh - 1) * dh + 1 <= 4 * kh  # else one slot per tap row (a huge dilation)
        slots = (kh - 1) * dh + 1 if ring else kh
        width = -(-max(pl + x_shape[2], (ow - 1) * sw + (kw - 1) * dw + 1) // sw) * oc
        if slots * sw * width * 4 <= MAX_SCRATCH:
            r = p.requant
            g = np.concatenate([geo, np.array([kw, oc, oh, ring, p.tiles[2]], np.int64)])
            scal = np.array([p.ref.in_zp, r.out_zp, r.lo, r.hi, p.tiles[3]], np.int64)
            plan = (g, (slots, sw, width), (x_shape[0], oh, ow, oc), scal, ow * oc * kh * kw)
    p.memo["plan"] = (x_shape, plan)
    return plan


def _scratch(p, shape):
    """The calling thread's scratch of depthwise_quant for this layer (rows zero on first use: the
    kernel writes only inside the image, so the padding stays zero), kept across invokes."""
    key = ("scratch", threading.get_ident())
    got = p.memo.get(key)
    if got is None or got[0].shape != shape:
        got = (np.zeros(shape, F32), np.empty(shape[0], np.int64), np.empty(dwk.TILE, F32))
        p.memo[key] = got
    return got


def _eval_quant(p, x, plan):
    g, scratch, shape, scal, work = plan
    out = workspace.empty(shape, p.requant.dtype)
    flat = out.reshape(shape[0] * shape[1], shape[2] * shape[3])
    xc, (wt, chan, _, _), fn = np.ascontiguousarray(x), p.tiles, dwk.depthwise_quant.run()

    def part(j0, j1):
        buf, keys, acc = _scratch(p, scratch)
        fn(xc, wt, chan, g, scal, buf, keys, acc, flat, j0, j1, xc.reshape(-1), buf.reshape(-1), flat.reshape(-1))

    parallel(part, work_ranges(flat.shape[0], work))
    return out
