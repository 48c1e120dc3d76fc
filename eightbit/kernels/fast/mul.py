"""Fast quantized MUL (int8 / uint8 / int16 in and out), bit-identical to kernels/mul.py.

One compiled pass instead of the reference's whole-array int64 passes: per element
(x1 - zp1) * (x2 - zp2) (exact in int64; below 2^31 in magnitude, as the C++ int32 product),
TFLite's MultiplyByQuantizedMultiplier (requant.py's formula), + the output zero point, clamped
to the activation range. Broadcast operands are first expanded to the output shape (one copy of
the smaller operand, in its own 8/16-bit type). float32: the product and the activation clamp in
one compiled pass. int32 / int64, the int16 -> int8 LSTM variant and multipliers outside
requant.fits keep the reference eval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.fast import requant as rq
from eightbit.kernels.fast import workspace
from eightbit.kernels.fast.jit import HAVE_NUMBA, njit, parallel, work_ranges
from eightbit.kernels.mul import Mul, MulQuant
from eightbit.kernels.opdata import Plain


def _mul_int(x1, x2, p, out):
    """p: int64 (off1, off2, mult, left, right, out_zp, lo, hi)."""
    off1, off2, m, left, right, zp, lo, hi = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    half = (np.int64(1) << right) >> 1
    neg_round = 1 if right > 0 else 0
    for i in range(x1.size):
        a = (np.int64(x1[i]) + off1) * (np.int64(x2[i]) + off2)
        a = (((a << left) + 2147483648) & 4294967295) - 2147483648
        h = (a * m + 1073741824) >> 31
        h = (h + half - (neg_round if h < 0 else 0)) >> right
        y = h + zp
        out[i] = min(max(y, lo), hi)


mul_int = njit(_mul_int)


def _mul_f32(x1, x2, lo, hi, out):
    """float32 x1 * x2, then np.minimum(np.maximum(v, lo), hi) as numpy computes it (see add.py)."""
    for i in range(x1.size):
        v = x1[i] * x2[i]
        if not (v > lo or v != v):
            v = lo
        if not (v < hi or v != v):
            v = hi
        out[i] = v


mul_f32 = njit(_mul_f32)


@dataclass(frozen=True)
class FastMulParams:
    ref: MulQuant
    packed: np.ndarray  # see _mul_int


class FastMul(Mul):
    @staticmethod
    def prepare(op):
        ref = Mul.prepare(op)
        if not HAVE_NUMBA or not isinstance(ref, MulQuant):
            return ref
        o = ref.out
        if not rq.fits(o.multiplier, o.shift):
            return ref
        left, right = rq.split_shift(o.shift)
        packed = np.array([ref.off1, ref.off2, o.multiplier, int(left), int(right), o.zero_point, o.lo, o.hi],
                          np.int64)
        return FastMulParams(ref, packed)

    @staticmethod
    def eval(params, x1, x2):
        if (isinstance(params, Plain) and HAVE_NUMBA and x1.dtype == np.float32 and x2.dtype == np.float32
                and params.clamp is not None):
            return _eval_float(params, x1, x2)
        if type(params) is not FastMulParams:
            return Mul.eval(params, x1, x2)
        shape = np.broadcast_shapes(x1.shape, x2.shape)
        a = np.ascontiguousarray(np.broadcast_to(x1, shape)).reshape(-1)
        b = np.ascontiguousarray(np.broadcast_to(x2, shape)).reshape(-1)
        out = workspace.empty(shape, params.ref.out.dtype)
        o, fn = out.reshape(-1), mul_int.run()
        parallel(lambda s, e: fn(a[s:e], b[s:e], params.packed, o[s:e]), work_ranges(a.size, 4))
        return out


def _eval_float(params, x1, x2):
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    a = np.ascontiguousarray(np.broadcast_to(x1, shape)).reshape(-1)
    b = np.ascontiguousarray(np.broadcast_to(x2, shape)).reshape(-1)
    out = workspace.empty(shape, np.float32)
    o, fn = out.reshape(-1), mul_f32.run()
    lo, hi = np.float32(params.clamp[0]), np.float32(params.clamp[1])
    parallel(lambda s, e: fn(a[s:e], b[s:e], lo, hi, o[s:e]), work_ranges(a.size, 4))
    return out
