"""Fast BATCH_MATMUL: int8 through an exact float GEMM with a fused requantization
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
from eightbit.kernels.fast.jit import HAVE_NUMBA

F32 = np.float32


def _operands(p, lhs, rhs):
    a = np.swapaxes(lhs, -1, -2) if p.adj_x else lhs
    b = np.swapaxes(rhs, -1, -2) if p.adj_y else rhs
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"inner dimensions differ: {lhs.shape} x {rhs.shape}")
    return a, b


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
        if not HAVE_NUMBA or p.kind != "int8" or not rq.fits(p.mult, p.shift):
            return p
        cols = int(op.inputs[1].shape[-2 if p.adj_y else -1])
        return FastBatchMatMulParams(p, Requant.of(p, max(cols, 1)))

    @staticmethod
    def eval(params, lhs, rhs):
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


class FastBatchMatMulBlas(FastBatchMatMul):
    """FastBatchMatMul with float32 by BLAS (numpy's matmul)."""

    @staticmethod
    def eval(params, lhs, rhs):
        if type(params) is FastBatchMatMulParams or params.kind != "float":
            return FastBatchMatMul.eval(params, lhs, rhs)
        a, b = _operands(params, lhs, rhs)
        return np.matmul(a.astype(F32, copy=False), b.astype(F32, copy=False))
