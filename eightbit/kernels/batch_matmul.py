"""BATCH_MATMUL (TFLite kernels/batch_matmul.cc with reference/batch_matmul.h).

lhs [..., A, B] (or [..., B, A] with adj_x) times rhs [..., B, C] (or [..., C, B] with adj_y);
leading dimensions broadcast (ranks 2 to 5). Types:
- float32;
- int8 -> int8: acc = sum((lhs - zp_l) * (rhs - zp_r)) (int32), one multiplier from the float32
  product of the input scales, + zp_out, clamped to int8 (no fused activation);
- int8 -> int32: the raw products summed, no zero points;
- int16 x int16 and int16 x int8 -> int16 (zero points 0): int64 accumulator and the int64
  MultiplyByQuantizedMultiplier;
- hybrid (float lhs, int8 rhs): every lhs row quantized on the fly (asymmetrically when
  asymmetric_quantize_inputs), out = row_scale * rhs_scale[c] * (dot - rhs_column_sum * offset).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import im2col as ic
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.float_sequential import batched_matmul_sequential
from eightbit.kernels.hybrid import quantize_rows

F32 = np.float32

@dataclass(frozen=True)
class BatchMatMulParams:
    """What BatchMatMul.prepare works out once (fields a kind does not use keep their defaults)."""

    adj_x: bool = False
    adj_y: bool = False
    asymmetric: bool = False
    channel_scales: np.ndarray | None = None
    filter_scale: float = 0.0
    hi: int = 0
    kind: str = ""
    lo: int = 0
    lzp: int = 0
    mult: np.ndarray | int = 0
    out_dtype: np.dtype | None = None
    out_zp: int = 0
    rzp: int = 0
    shift: np.ndarray | int = 0



class BatchMatMul(Kernel):
    types = ("float32", "int8", "int16", "hybrid")

    @staticmethod
    def prepare(op: OpContext):
        a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
        for t in (a, b):
            if not 2 <= len(t.shape) <= 5:
                raise op.unsupported(f"operands must have rank 2 to 5, got {t.shape}")
        opt = op.options
        p = {"adj_x": bool(opt.get("adj_x", False)), "adj_y": bool(opt.get("adj_y", False)), "out_dtype": y.dtype}
        types = (a.type, b.type, y.type)
        if types == ("FLOAT32", "FLOAT32", "FLOAT32"):
            p["kind"] = "float"
            return BatchMatMulParams(**p)
        if types == ("FLOAT32", "INT8", "FLOAT32"):
            if not b.quantized:
                raise op.unsupported("hybrid BATCH_MATMUL needs a quantized int8 rhs")
            p["kind"] = "hybrid"
            p["asymmetric"] = bool(opt.get("asymmetric_quantize_inputs", False))
            if b.scales.size > 1:
                rank = len(b.shape)
                axis = b.quantized_dimension
                # The kernel indexes the scales by output column (rhs dimension C).
                col_axis = rank - 2 if p["adj_y"] else rank - 1
                if b.scales.size != int(b.shape[axis]) or axis != col_axis:
                    raise op.unsupported("per-channel rhs scales must run along the output columns")
                p["channel_scales"] = np.asarray(b.scales, F32)
            else:
                p["channel_scales"] = None
                p["filter_scale"] = F32(ic.legacy_scale(b))
            return BatchMatMulParams(**p)
        kinds = {("INT8", "INT8", "INT8"): "int8", ("INT8", "INT8", "INT32"): "int8_int32",
                 ("INT16", "INT16", "INT16"): "int16", ("INT16", "INT8", "INT16"): "int16"}
        kind = kinds.get(types)
        if kind is None:
            raise op.unsupported(f"no BATCH_MATMUL kernel for {types[0]} x {types[1]} -> {types[2]}")
        p["kind"] = kind
        if kind == "int8_int32":
            return BatchMatMulParams(**p)
        if not (a.quantized and b.quantized and y.quantized):
            raise op.unsupported("quantized BATCH_MATMUL needs quantization parameters on both inputs and output")
        if a.scales.size != 1 or b.scales.size != 1:
            raise op.unsupported("quantized BATCH_MATMUL needs per-tensor quantization")
        p["lzp"], p["rzp"] = ic.legacy_zero_point(a), ic.legacy_zero_point(b)
        p["out_zp"] = ic.legacy_zero_point(y)
        if kind == "int16" and (p["lzp"] or p["rzp"] or p["out_zp"]):
            raise op.unsupported("int16 BATCH_MATMUL needs zero points of 0")
        p["mult"], p["shift"] = ic.legacy_multiplier(a.scale, b.scale, y.scale)
        info = np.iinfo(y.dtype)
        p["lo"], p["hi"] = int(info.min), int(info.max)
        return BatchMatMulParams(**p)

    @staticmethod
    def eval(params, lhs, rhs):
        p = params
        a = np.swapaxes(lhs, -1, -2) if p.adj_x else lhs
        b = np.swapaxes(rhs, -1, -2) if p.adj_y else rhs
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"inner dimensions differ: {lhs.shape} x {rhs.shape}")
        kind = p.kind
        if kind == "float":
            return batched_matmul_sequential(a, b)  # REALMODELS: TFLite's reference summation order
        if kind == "hybrid":
            return _eval_hybrid(p, a, b)
        depth = a.shape[-1]
        if kind == "int8_int32":
            return fp.wrap_int32(_int_matmul(a.astype(np.int64), b.astype(np.int64), depth)).astype(np.int32)
        am = a.astype(np.int64) - p.lzp
        bm = b.astype(np.int64) - p.rzp
        acc = _int_matmul(am, bm, depth)
        return ic.requantize(acc, p.mult, p.shift, p.out_zp, p.lo, p.hi, p.out_dtype,
                             int64_acc=kind == "int16")


def _int_matmul(a, b, depth):
    dt = ic.gemm_dtype(depth, ic.max_abs(a), ic.max_abs(b))
    return ic.int_matmul(a.astype(dt), b.astype(dt))


def _eval_hybrid(p, a, b):
    depth = a.shape[-1]
    rows = a.reshape(-1, depth).astype(F32, copy=False) if a.size else np.zeros((0, depth), F32)
    q, sf, off = quantize_rows(rows, p.asymmetric)
    bi = b.astype(np.int64)
    q = q.reshape(a.shape)
    dot = _int_matmul(q.astype(np.int64), bi, depth)
    col_sums = bi.sum(axis=-2, keepdims=True)  # (..., 1, C)
    off = off.astype(np.int64).reshape(a.shape[:-1] + (1,))
    total = fp.wrap_int32(dot - col_sums * off)
    sf = sf.reshape(a.shape[:-1] + (1,))
    if p.channel_scales is None:
        scale = (sf * p.filter_scale).astype(F32)
    else:
        scale = (sf * p.channel_scales).astype(F32)
    return (scale * total.astype(F32)).astype(F32)
