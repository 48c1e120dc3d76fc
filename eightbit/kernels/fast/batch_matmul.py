"""Fast BATCH_MATMUL: int8 and int16 through an exact float GEMM with a fused requantization
(FastBatchMatMul), and float32 through BLAS when the interpreter allows it (FastBatchMatMulBlas).

The reference float kernel sums each product in TFLite's order (kernels/float_sequential.py), so
that a hybrid operator after it quantizes exactly LiteRT's values; fastpath.choose_kernels picks
the BLAS class only for models in which no float value is quantized at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import im2col as ic
from eightbit.kernels.batch_matmul import BatchMatMul, BatchMatMulParams
from eightbit.kernels.fast import requant as rq
from eightbit.kernels.fast.conv import Requant
from eightbit.kernels.fast.jit import HAVE_NUMBA, njit

F32 = np.float32


def _operands(p, lhs, rhs):
    a = np.swapaxes(lhs, -1, -2) if p.adj_x else lhs
    b = np.swapaxes(rhs, -1, -2) if p.adj_y else rhs
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"inner dimensions differ: {lhs.shape} x {rhs.shape}")
    return a, b


def _requant_int64(acc, reduced, total_shift, out_zp, lo, hi, out):
    """fixedpoint.multiply_by_quantized_multiplier_int64 (x86 6-bit shift masks, int64 wrap) on
    the exact int64 accumulators, + out_zp, clamped: the int16 kernels' requantization."""
    rows, cols = acc.shape
    rnd = np.int64(1) << ((total_shift - 1) & 63)
    sh = total_shift & 63
    for r in range(rows):
        for c in range(cols):
            y = (np.int64(acc[r, c]) * reduced + rnd) >> sh
            y = ((y + 2147483648) & 4294967295) - 2147483648
            y = ((y + out_zp + 2147483648) & 4294967295) - 2147483648
            out[r, c] = min(max(y, lo), hi)


requant_int64 = njit(_requant_int64)


@dataclass(frozen=True)
class FastInt16Params:
    ref: BatchMatMulParams
    reduced: int  # the multiplier rounded to 16 bits (as multiply_by_quantized_multiplier_int64)
    total_shift: int


@dataclass(frozen=True)
class FastBatchMatMulParams:
    ref: BatchMatMulParams
    requant: Requant  # per output column (the one multiplier broadcast)


class FastBatchMatMul(BatchMatMul):
    """int8 x int8 -> int8: (lhs - zp) @ (rhs - zp) in float32 while depth * 255 * 255 < 2^24 (every
    partial sum an exact integer), else float64 (exact below 2^53), then TFLite's
    MultiplyByQuantizedMultiplier, + zp, clamp in one compiled pass. The other kinds (float32 in
    TFLite's summation order, int16, int8 -> int32, hybrid) keep the reference eval."""

    @staticmethod
    def prepare(op):
        p = BatchMatMul.prepare(op)
        if HAVE_NUMBA and p.kind == "int16" and np.ndim(p.mult) == 0:
            m = int(p.mult)
            return FastInt16Params(p, (m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF, 15 - int(p.shift))
        if not HAVE_NUMBA or p.kind != "int8" or not rq.fits(p.mult, p.shift):
            return p
        cols = int(op.inputs[1].shape[-2 if p.adj_y else -1])
        return FastBatchMatMulParams(p, Requant.of(p, max(cols, 1)))

    @staticmethod
    def eval(params, lhs, rhs):
        if type(params) is FastInt16Params:
            return _eval_int16(params, lhs, rhs)
        if type(params) is not FastBatchMatMulParams:
            return BatchMatMul.eval(params, lhs, rhs)
        p, r = params.ref, params.requant
        a, b = _operands(p, lhs, rhs)
        cols = b.shape[-1]
        if cols != r.mult.size:
            return BatchMatMul.eval(p, lhs, rhs)
        dt = F32 if a.shape[-1] * 255 * 255 < ic.F32_EXACT else np.float64
        acc = np.matmul(np.subtract(a, p.lzp, dtype=dt), np.subtract(b, p.rzp, dtype=dt))
        out = np.empty(acc.shape, r.dtype)
        if acc.size:
            r.rows(acc.reshape(-1, cols), np.zeros(cols, np.int64), out.reshape(-1, cols))
        return out


def _eval_int16(params, lhs, rhs):
    """int16 x int16 (or int8) with zero points 0: products below 2^30, so the sums are exact in
    float64 for any depth below 2^23 (int64 GEMM beyond)."""
    p = params.ref
    a, b = _operands(p, lhs, rhs)
    dt = np.float64 if a.shape[-1] < (1 << 23) else np.int64
    acc = np.matmul(a.astype(dt), b.astype(dt))
    out = np.empty(acc.shape, p.out_dtype)
    if acc.size:
        cols = acc.shape[-1]
        requant_int64.run()(acc.reshape(-1, cols), params.reduced, params.total_shift, p.out_zp, p.lo, p.hi,
                            out.reshape(-1, cols))
    return out


class FastBatchMatMulBlas(FastBatchMatMul):
    """FastBatchMatMul with float32 by BLAS (numpy's matmul)."""

    @staticmethod
    def eval(params, lhs, rhs):
        if type(params) in (FastBatchMatMulParams, FastInt16Params) or params.kind != "float":
            return FastBatchMatMul.eval(params, lhs, rhs)
        a, b = _operands(params, lhs, rhs)
        return np.matmul(a.astype(F32, copy=False), b.astype(F32, copy=False))
