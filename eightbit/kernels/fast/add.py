"""Fast ADD of two same-shape tensors. int8 / uint8 (TFLite's general quantized ADD, add.cc):
both inputs rescaled to 2 * max(s1, s2) / 2^20, summed in int32, requantized to the output, one
compiled pass (the multipliers computed here from the scales, as add.cc's Prepare does). For
large tensors, since the output depends only on the two input values, prepare runs the reference
kernel once on all 256 x 256 pairs and the pass looks every element up in that table instead
(64 KB: for a small tensor bringing it into the cache costs more than it saves). The reference
prepare still runs first (its checks, and the params of every case this path does not take:
broadcasting, int16).
float32: the sum and the activation clamp in one compiled pass (split over the threads).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.add import Add
from eightbit.kernels.fast import workspace
from eightbit.kernels.fast.conv import Fallback
from eightbit.kernels.fast.jit import HAVE_NUMBA, njit, parallel, work_ranges
from eightbit.kernels.opdata import Plain

LEFT_SHIFT = 20


def _mbqm(a, m, right):
    """MultiplyByQuantizedMultiplier for a shift <= 0 (right = -shift, 0..31)."""
    h = (a * m + 1073741824) >> 31
    return (h + ((np.int64(1) << right) >> 1) - ((h < 0) & (right > 0))) >> right


def _add_int(x1, x2, p, out):
    """p: int64 (offset1, m1, right1, offset2, m2, right2, out_zp, m_out, right_out, lo, hi)."""
    n = x1.size
    a1, b1, c1, a2, b2, c2, zp, mo, ro, lo, hi = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10]
    for i in range(n):
        v1 = (np.int64(x1[i]) + a1) << 20
        h1 = (v1 * b1 + 1073741824) >> 31
        h1 = (h1 + ((np.int64(1) << c1) >> 1) - ((h1 < 0) & (c1 > 0))) >> c1
        v2 = (np.int64(x2[i]) + a2) << 20
        h2 = (v2 * b2 + 1073741824) >> 31
        h2 = (h2 + ((np.int64(1) << c2) >> 1) - ((h2 < 0) & (c2 > 0))) >> c2
        s = h1 + h2
        h = (s * mo + 1073741824) >> 31
        h = (h + ((np.int64(1) << ro) >> 1) - ((h < 0) & (ro > 0))) >> ro
        out[i] = min(max(h + zp, lo), hi)


add_int = njit(_add_int)


def _add_table(x1, x2, table, out):
    """out[i] = table[x1[i] * 256 + x2[i]] (x1, x2 the inputs' bytes as uint8)."""
    for i in range(x1.size):
        out[i] = table[(np.int64(x1[i]) << 8) | np.int64(x2[i])]


add_table = njit(_add_table)


def _add_float(x1, x2, lo, hi, out):
    """float32 x1 + x2, then the reference clamp np.minimum(np.maximum(v, lo), hi) as numpy
    computes it: NaN stays NaN, and where v equals a bound numpy returns the bound (so -0.0 + -0.0
    under RELU gives +0.0)."""
    for i in range(x1.size):
        v = x1[i] + x2[i]
        if not (v > lo or v != v):
            v = lo
        if not (v < hi or v != v):
            v = hi
        out[i] = v


add_float = njit(_add_float)


@dataclass(frozen=True)
class FastAddFloatParams:
    shape: tuple
    lo: np.float32
    hi: np.float32


@dataclass(frozen=True)
class FastAddParams:
    shape: tuple
    packed: np.ndarray  # see _add_int
    dtype: np.dtype
    table: np.ndarray | None = None  # (65536,) the output for input bytes (a, b) at a * 256 + b


TABLE_MIN_SIZE = 1 << 15  # elements from which the table pays for its 64 KB coming into the cache


def _pair_table(ref, dtype) -> np.ndarray:
    """The reference ADD of every pair of 8-bit values, indexed by their bytes."""
    values = np.arange(256, dtype=np.uint8).view(dtype)
    a, b = np.meshgrid(values, values, indexing="ij")
    return np.ascontiguousarray(np.asarray(Add.eval(ref, a, b)).reshape(-1))


class FastAdd(Add):
    @staticmethod
    def prepare(op):
        ref = Add.prepare(op)
        in1, in2, out = op.inputs[0], op.inputs[1], op.outputs[0]
        if (HAVE_NUMBA and in1.type == in2.type == out.type == "FLOAT32" and tuple(in1.shape) == tuple(in2.shape)
                and isinstance(ref, Plain) and ref.clamp is not None):
            return FastAddFloatParams(tuple(in1.shape), np.float32(ref.clamp[0]), np.float32(ref.clamp[1]))
        if (not HAVE_NUMBA or in1.type not in ("INT8", "UINT8") or in2.type != in1.type
                or tuple(in1.shape) != tuple(in2.shape) or not (in1.quantized and in2.quantized and out.quantized)):
            return Fallback(ref)
        s1, s2, so = in1.scale, in2.scale, out.scale
        twice_max = 2.0 * max(s1, s2)
        m1, sh1 = fp.quantize_multiplier(s1 / twice_max)
        m2, sh2 = fp.quantize_multiplier(s2 / twice_max)
        mo, sho = fp.quantize_multiplier(twice_max / ((1 << LEFT_SHIFT) * so))
        if max(sh1, sh2, sho) > 0 or min(sh1, sh2, sho) < -31:
            return Fallback(ref)
        act = int(op.options.get("fused_activation_function", 0) or 0)
        lo, hi = fp.activation_range_quantized(act, so, out.zero_point, out.dtype)
        packed = np.array([-in1.zero_point, m1, -sh1, -in2.zero_point, m2, -sh2, out.zero_point, mo, -sho, lo, hi],
                          np.int64)
        big = int(np.prod(in1.shape, dtype=np.int64)) >= TABLE_MIN_SIZE
        return FastAddParams(tuple(in1.shape), packed, np.dtype(out.dtype), _pair_table(ref, in1.dtype) if big else None)

    @staticmethod
    def eval(params, x1, x2):
        if type(params) is Fallback:
            return Add.eval(params.params, x1, x2)
        if type(params) is FastAddFloatParams:
            return _eval_float(params, x1, x2)
        if x1.shape != x2.shape:
            raise ValueError(f"ADD inputs changed shape after prepare: {x1.shape} and {x2.shape}")
        out = workspace.empty(x1.shape, params.dtype)
        a, b, o = np.ascontiguousarray(x1).reshape(-1), np.ascontiguousarray(x2).reshape(-1), out.reshape(-1)
        if params.table is not None and a.size >= TABLE_MIN_SIZE:
            a, b, table, fn = a.view(np.uint8), b.view(np.uint8), params.table, add_table.run()
            parallel(lambda s, e: fn(a[s:e], b[s:e], table, o[s:e]), work_ranges(a.size, 4))
            return out
        fn = add_int.run()
        parallel(lambda s, e: fn(a[s:e], b[s:e], params.packed, o[s:e]), work_ranges(a.size, 4))
        return out


def _eval_float(p, x1, x2):
    if x1.shape != x2.shape or x1.dtype != np.float32 or x2.dtype != np.float32:
        return Add.eval(Plain((float(p.lo), float(p.hi))), x1, x2)
    out = workspace.empty(x1.shape, np.float32)
    a, b, o = np.ascontiguousarray(x1).reshape(-1), np.ascontiguousarray(x2).reshape(-1), out.reshape(-1)
    fn = add_float.run()
    parallel(lambda s, e: fn(a[s:e], b[s:e], p.lo, p.hi, o[s:e]), work_ranges(a.size, 4))
    return out
