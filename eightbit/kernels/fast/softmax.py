"""Fast 8-bit SOFTMAX (int8 / uint8 input, 8- or 16-bit output), bit-identical to the reference
(kernels/activations.py, gemmlowp's fixed-point exp).

Every element's exponential depends only on d = row max - x, an integer in 0..255, so prepare
runs the reference's own fixed-point functions once on the 256 possible values (a table of the
exps, of their Rescale<12> terms of the row sum, and of the diff_min mask). A compiled pass then
sums each row's table entries (int64, wrapped to int32 as the reference does), the reference's
GetReciprocal runs on the row sums (compiled, one scalar Newton-Raphson per row: the numpy one
costs ~30 whole-array calls, which dominated a one-row SOFTMAX), and a second compiled pass writes
SaturatingRoundingDoublingHighMul(reciprocal, exp) / 2^exponent + out_min per element.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import gemmlowp as gl
from eightbit.kernels.activations import Softmax, SoftmaxQ8
from eightbit.kernels.fast.jit import HAVE_NUMBA, njit, parallel, work_ranges
from eightbit.kernels.fixedpoint import wrap_int32


def _row_sums(rows, terms, maxes, sums, r0, r1):
    depth = rows.shape[1]
    for r in range(r0, r1):
        m = np.int64(rows[r, 0])
        for j in range(1, depth):
            v = np.int64(rows[r, j])
            if v > m:
                m = v
        s = np.int64(0)
        for j in range(depth):
            s += terms[m - np.int64(rows[r, j])]
        maxes[r] = m
        sums[r] = ((s + 2147483648) & 4294967295) - 2147483648


def _outputs(rows, exps, valid, maxes, scale, exponent, out_min, out_max, out, r0, r1):
    depth = rows.shape[1]
    for r in range(r0, r1):
        sc = scale[r]
        e = exponent[r]
        mask = (np.int64(1) << e) - 1
        half = mask >> 1
        for j in range(depth):
            d = maxes[r] - np.int64(rows[r, j])
            if not valid[d]:
                out[r, j] = out_min
                continue
            ab = sc * exps[d]
            s = ab + (1073741824 if ab >= 0 else 1 - 1073741824)
            h = s >> 31 if s >= 0 else -((-s) >> 31)
            q = (h >> e) + (1 if (h & mask) > half + (1 if h < 0 else 0) else 0)
            y = q + out_min
            out[r, j] = min(max(y, out_min), out_max)


def _reciprocals(sums, digits, scale, bits):
    """gemmlowp.get_reciprocal(sums, digits) one row sum at a time, the same steps on scalars
    (numba inlines the inner functions: the compiled kernels take no module-level helpers)."""
    int32_min, int32_max = -2147483648, 2147483647

    def wrap(v):
        return ((v + 2147483648) & 4294967295) - 2147483648

    def srdhm(a, b):  # SaturatingRoundingDoublingHighMul
        if a == b and a == int32_min:
            return int32_max
        s = a * b
        s += 1073741824 if s >= 0 else 1 - 1073741824
        return s >> 31 if s >= 0 else -((-s) >> 31)

    def saturating_shl(v, e):  # SaturatingRoundingMultiplyByPOT<e>, e > 0
        threshold = (1 << (31 - e)) - 1
        if v > threshold:
            return int32_max
        if v < -threshold:
            return int32_min
        return wrap(v << e)

    for r in range(sums.shape[0]):
        u = sums[r] & 4294967295
        clz = 32
        while clz > 0 and (u >> (32 - clz)) != 0:
            clz -= 1
        bits[r] = digits - clz
        a = wrap(((u << clz) & 4294967295) - 2147483648)
        t = a + int32_max  # rounding_half_sum(a, One<0>)
        t += 1 if t >= 0 else -1
        half = t // 2 if t >= 0 else -((-t) // 2)
        x = wrap(1515870810 + srdhm(half, -1010580540))
        for _ in range(3):
            one_minus = wrap((1 << 29) - srdhm(half, x))
            x = wrap(x + saturating_shl(srdhm(x, one_minus), 2))
        scale[r] = saturating_shl(x, 1)


row_sums = njit(_row_sums)
reciprocals = njit(_reciprocals)
outputs = njit(_outputs)


@dataclass(frozen=True)
class FastSoftmaxParams:
    ref: SoftmaxQ8
    exps: np.ndarray  # int64 (256,): the Q0.31 exp of diff = -d
    terms: np.ndarray  # int64 (256,): Rescale<12>(exp), 0 where diff < diff_min
    valid: np.ndarray  # bool (256,): diff >= diff_min
    out_bits: int  # the output type's width, minimum and maximum
    out_min: int
    out_max: int


def _tables(p: SoftmaxQ8):
    diff = -np.arange(256, dtype=np.int64)
    valid = diff >= p.diff_min
    scaled = gl.mul(wrap_int32(diff << p.left_shift), p.m)  # as _softmax_q8 does
    exps = np.asarray(gl.exp_on_negative_values(scaled, 5), np.int64)
    terms = np.where(valid, gl.rescale(exps, 0, 12), 0).astype(np.int64)
    return exps, terms, valid


class FastSoftmax(Softmax):
    @staticmethod
    def prepare(op):
        ref = Softmax.prepare(op)
        if not HAVE_NUMBA or not isinstance(ref, SoftmaxQ8) or op.inputs[0].type not in ("INT8", "UINT8"):
            return ref
        info = np.iinfo(ref.out_dtype)
        return FastSoftmaxParams(ref, *_tables(ref), info.bits, int(info.min), int(info.max))

    @staticmethod
    def eval(params, x):
        if type(params) is not FastSoftmaxParams or x.size == 0:
            return Softmax.eval(params.ref if type(params) is FastSoftmaxParams else params, x)
        p = params
        depth = x.shape[-1] if x.ndim else 1
        rows = np.ascontiguousarray(x).reshape(-1, depth)
        n = rows.shape[0]
        maxes, sums = np.empty(n, np.int64), np.empty(n, np.int64)
        jobs = work_ranges(n, depth)
        fn = row_sums.run()
        parallel(lambda r0, r1: fn(rows, p.terms, maxes, sums, r0, r1), jobs)
        scale, bits_over_unit = np.empty(n, np.int64), np.empty(n, np.int64)
        reciprocals.run()(sums, np.int64(12), scale, bits_over_unit)
        exponent = bits_over_unit + (31 - p.out_bits)
        if np.any((exponent < 0) | (exponent > 31)):
            raise ValueError("SOFTMAX: sum of exponentials out of TFLite's supported range")
        out = np.empty(rows.shape, p.ref.out_dtype)
        fn2 = outputs.run()
        parallel(lambda r0, r1: fn2(rows, p.exps, p.valid, maxes, scale, exponent, p.out_min, p.out_max, out,
                                    r0, r1), jobs)
        return out.reshape(x.shape)
