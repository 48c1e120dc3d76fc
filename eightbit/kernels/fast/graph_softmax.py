"""Float32 SOFTMAX for the whole-graph runner, bit for bit the reference kernel's numpy arithmetic.

The reference (kernels/activations.py) computes, per row, exp((x - max) * beta) with numpy's
float32 exp, sums the row with np.sum and divides. numpy's float32 exp is its own SIMD routine
(numpy/_core/src/umath/loops_exponent_log.dispatch.c.src, AVX512F / AVX2+FMA3: Cody-Waite range
reduction, a 5th/2nd-order rational polynomial evaluated with fused multiply-adds, scaled by 2^k),
not the C library's expf (they differ in ~11% of the float32 inputs below 0). `np_exp_f32`
repeats those steps on one value (fma through LLVM's llvm.fma.f32; the 2^k scaling in float64 is
exact, then one rounding to float32, as vscalefps rounds). `exp_matches_numpy()` checks it on a
sweep of float32 values once per process: where numpy's exp is another routine (a CPU without
AVX2/FMA3, another numpy), the builder keeps SOFTMAX out of the graph runner.

The row sum is numpy's pairwise summation (loops_utils.h.src, from -0.0: under 8 values a plain
loop, up to 128 eight accumulators combined pairwise, beyond that halves rounded to multiples of 8).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from eightbit.kernels.fast.graph_ops import f32_view, inline, jit
from eightbit.kernels.fast.jit import njit

F32 = np.float32
_XMAX, _XMIN = F32(88.72283935546875), F32(-103.97208404541015625)
_MAGIC, _LOG2E = F32(12582912.0), F32(1.442695040888963407359924681001892137)
_C1, _C2 = F32(-6.93145752e-1), F32(-1.42860677e-6)
_P0, _P1, _P2 = F32(9.999999999980870924916e-01), F32(7.257664613233124478488e-01), F32(2.473615434895520810817e-01)
_P3, _P4, _P5 = F32(5.114512081637298353406e-02), F32(6.757896990527504603057e-03), F32(5.082762527590693718096e-04)
_Q0, _Q1, _Q2 = F32(1.0), F32(-2.742335390411667452936e-01), F32(2.159509375685829852307e-02)


@intrinsic
def fma32(typingctx, a, b, c):
    """a * b + c with one rounding (llvm.fma.f32: the instruction, or an exact software fallback)."""
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        f = ir.FloatType()
        fn = builder.module.declare_intrinsic("llvm.fma", [f], ir.FunctionType(f, [f, f, f]))
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def pow2_f64(typingctx, q):
    """2.0 ** q for an int64 q in [-1022, 1023], from its bits (math.ldexp would need numba's
    runtime helper, which keeps a kernel out of the ahead-of-time library)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        bits = builder.shl(builder.add(args[0], ir.Constant(i64, 1023)), ir.Constant(i64, 52))
        return builder.bitcast(bits, ir.DoubleType())

    return sig, codegen


@inline
def np_exp_f32(x):
    if x != x:
        return F32(np.nan)
    if x >= _XMAX:
        return F32(np.inf)
    if x <= _XMIN:
        return F32(0.0)
    q = F32(F32(F32(x * _LOG2E) + _MAGIC) - _MAGIC)
    r = fma32(q, _C1, x)
    r = fma32(q, _C2, r)
    r = fma32(q, F32(0.0), r)
    num = fma32(_P5, r, _P4)
    num = fma32(num, r, _P3)
    num = fma32(num, r, _P2)
    num = fma32(num, r, _P1)
    num = fma32(num, r, _P0)
    den = fma32(_Q2, r, _Q1)
    den = fma32(den, r, _Q0)
    poly = F32(num / den)
    # poly * 2^q: exact in float64 for q in [-150, 128] (what ldexp computes), then one rounding
    return F32(np.float64(poly) * pow2_f64(np.int64(q)))


def exp_many(x, out):
    for i in range(x.size):
        out[i] = np_exp_f32(x[i])


exp_many = njit(exp_many)  # graph_api.exp_matches_numpy's check, from the library or the JIT


@jit
def pairwise_sum(a, start, n):
    if n < 8:
        res = F32(-0.0)
        for i in range(n):
            res = F32(res + a[start + i])
        return res
    if n <= 128:
        r = np.empty(8, np.float32)
        for j in range(8):
            r[j] = a[start + j]
        i = 8
        while i < n - (n % 8):
            for j in range(8):
                r[j] = F32(r[j] + a[start + i + j])
            i += 8
        res = F32(F32(F32(r[0] + r[1]) + F32(r[2] + r[3])) + F32(F32(r[4] + r[5]) + F32(r[6] + r[7])))
        while i < n:
            res = F32(res + a[start + i])
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return F32(pairwise_sum(a, start, n2) + pairwise_sum(a, start + n2, n - n2))


# rec: op, len, x, y, rows, depth, beta index into fpar
@jit
def softmax_f32(rec, fpar, arena, consts):
    rows, depth = rec[4], rec[5]
    x, y = f32_view(arena, rec[2], rows * depth), f32_view(arena, rec[3], rows * depth)
    beta = fpar[rec[6]]
    for r in range(rows):
        base = r * depth
        m = x[base]
        for j in range(1, depth):
            v = x[base + j]
            if v != v or m != m:
                m = F32(np.nan)
            elif v > m:
                m = v
        for j in range(depth):
            y[base + j] = np_exp_f32(F32(F32(x[base + j] - m) * beta))
        s = pairwise_sum(y, base, depth)
        for j in range(depth):
            y[base + j] = F32(y[base + j] / s)


