"""Fast int8 / uint8 TRANSPOSE_CONV, bit-identical to kernels/transpose_conv.py.

The reference's structure (one GEMM of the input rows with every filter tap, then a scatter-add
of each tap onto the output pixels it lands on, kernels/transpose_conv._landing), with exact float
arithmetic instead of int64: the GEMM in float32 while C * 255 * max|w - zp| < 2^24 (else float64),
the scatter into a float64 buffer (every sum an integer below 2^53), the filter re-laid out once
in prepare, and the requantization (+ bias, MultiplyByQuantizedMultiplier, + zero point, clamp)
one compiled pass (requant.py). Float, hybrid, int16 and non-constant filters keep the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import im2col as ic
from eightbit.kernels.fast import requant as rq
from eightbit.kernels.fast.conv import Requant
from eightbit.kernels.fast.jit import HAVE_NUMBA
from eightbit.kernels.padding import compute_padding_height_width
from eightbit.kernels.transpose_conv import TransposeConv, TransposeConvParams, _landing

F32 = np.float32


@dataclass(frozen=True)
class FastTransposeConvParams:
    ref: TransposeConvParams
    wmat: np.ndarray  # (C, KH * KW * OC): filter minus its zero point, in the GEMM dtype
    taps: tuple  # (KH, KW, OC)
    requant: Requant


class FastTransposeConv(TransposeConv):
    @staticmethod
    def prepare(op):
        p = TransposeConv.prepare(op)
        w = op.inputs[1]
        if not HAVE_NUMBA or p.kind not in ("int8", "uint8") or w.data is None or not rq.fits(p.mult, p.shift):
            return p
        oc, kh, kw, c = (int(d) for d in w.shape)
        wi = np.asarray(w.data).astype(np.int64) - int(p.wzp)
        dt = F32 if c * 255 * ic.max_abs(wi) < ic.F32_EXACT else np.float64
        wmat = np.ascontiguousarray(wi.transpose(3, 1, 2, 0).reshape(c, kh * kw * oc).astype(dt))
        return FastTransposeConvParams(p, wmat, (kh, kw, oc), Requant.of(p, oc))

    @staticmethod
    def eval(params, output_shape, w, x, bias=None):
        if type(params) is not FastTransposeConvParams:
            return TransposeConv.eval(params, output_shape, w, x, bias)
        p = params.ref
        kh, kw, oc = params.taps
        out_shape = tuple(int(d) for d in np.asarray(output_shape).reshape(-1))
        n, h, wd, c = x.shape
        if (len(out_shape) != 4 or out_shape[0] != n or out_shape[3] != oc or tuple(w.shape) != (oc, kh, kw, c)
                or n * h * wd == 0):
            return TransposeConv.eval(p, output_shape, w, x, bias)
        oh, ow = out_shape[1], out_shape[2]
        sh, sw = p.stride
        g = compute_padding_height_width(sh, sw, 1, 1, oh, ow, kh, kw, p.padding)
        cols = np.subtract(x.reshape(-1, c), p.in_zp, dtype=params.wmat.dtype) @ params.wmat
        cols = cols.reshape(n, h, wd, kh, kw, oc)
        buf = np.zeros((n, oh, ow, oc), np.float64)
        for fy in range(kh):
            ys, rows = _landing(fy, sh, g.height, h, oh)
            if rows is None:
                continue
            for fx in range(kw):
                xs, out_cols = _landing(fx, sw, g.width, wd, ow)
                if out_cols is not None:
                    buf[:, rows, out_cols, :] += cols[:, ys, xs, fy, fx, :]
        r = params.requant
        b = np.zeros(oc, np.int64) if bias is None else np.asarray(bias).astype(np.int64)
        out = np.empty((n, oh, ow, oc), r.dtype)
        r.rows(buf.reshape(-1, oc), b, out.reshape(-1, oc))
        return out
