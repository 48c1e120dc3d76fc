"""FULLY_CONNECTED (TFLite kernels/fully_connected.cc, kReference kernel type).

The input is flattened to rows of the weights' depth (any rank); the output is (rows, units), or
the input's shape with its last dimension replaced by units when keep_num_dims is set.

Types:
- float32: x W^T + bias, fused RELU/RELU_N1_TO_1/RELU6;
- int8 / int16 activations with int8 weights, uint8 with uint8 weights (legacy): LiteRT's
  reference kernels requantize in double: out = int32(round(double(acc) * in_scale * w_scale /
  out_scale)) + zp_out, with acc = sum((w - zp_w) * (x - zp_in)) + bias for per-tensor weights and
  sum(w * (x - zp_in)) + bias per channel. The accumulator is int64 for int16 activations unless
  quantized_bias_type is INT32 (then int32, wrapping like the C++);
- int16 activations with int16 weights: int64 accumulator, MultiplyByQuantizedMultiplier (int64);
- hybrid (float input, int8 weights): each row quantized on the fly (symmetric, or asymmetric when
  asymmetric_quantize_inputs), out = bias + float(dot - row_sum * offset) * (row_scale *
  w_scale[unit]), then any fused activation (tensor_utils::ApplyActivationToVector).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import im2col as ic
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.float_sequential import matmul_sequential
from eightbit.kernels.hybrid import quantize_rows

F32 = np.float32
TYPE_INT32, TYPE_INT64 = 2, 4  # schema TensorType values (quantized_bias_type)

@dataclass(frozen=True)
class FullyConnectedParams:
    """What FullyConnected.prepare works out once (fields a kind does not use keep their defaults)."""

    act: int = 0
    asymmetric: bool = False
    channel_scales: np.ndarray | None = None
    clamp: tuple | None = None
    effective_scale: float | np.ndarray = 0.0
    filter_scale: float = 0.0
    hi: int = 0
    in_zp: int = 0
    int64_acc: bool = False
    keep_num_dims: bool = False
    kind: str = ""
    lo: int = 0
    mult: np.ndarray | int = 0
    out_dtype: np.dtype | None = None
    out_zp: int = 0
    shift: np.ndarray | int = 0
    wq_cache: dict | None = None
    wt: np.ndarray | None = None
    wzp: int = 0



class FullyConnected(Kernel):
    types = ("float32", "int8", "uint8", "int16", "hybrid")

    @staticmethod
    def prepare(op: OpContext):
        x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
        b = op.inputs[2] if len(op.inputs) > 2 else None
        opt = op.options
        if int(opt.get("weights_format", 0) or 0) != 0:
            raise op.unsupported("shuffled weights (weights_format SHUFFLED4x16INT8) are not supported")
        if len(w.shape) != 2:
            raise op.unsupported(f"weights must be 2-D, got {w.shape}")
        act = int(opt.get("fused_activation_function", 0) or 0)
        units = int(w.shape[0])
        p = {"keep_num_dims": bool(opt.get("keep_num_dims", False)), "act": act, "out_dtype": y.dtype}
        btype = b.type if b is not None else None
        if x.type == "FLOAT32" and w.type == "FLOAT32":
            if btype not in ("FLOAT32", None):
                raise op.unsupported(f"float FULLY_CONNECTED needs a float32 bias, got {btype}")
            if act not in (0, 1, 2, 3):
                raise op.unsupported(f"fused activation {act} needs the hybrid or PIE kernel")
            p["kind"] = "float"
            p["clamp"] = fp.activation_range_float(act)
            if w.data is not None:
                p["wt"] = np.ascontiguousarray(np.asarray(w.data, F32).T)
            return FullyConnectedParams(**p)
        if x.type == "FLOAT32" and w.type == "INT8":
            if btype not in ("FLOAT32", None) or y.type != "FLOAT32":
                raise op.unsupported("hybrid FULLY_CONNECTED needs a float32 bias and output")
            if not w.quantized:
                raise op.unsupported("hybrid FULLY_CONNECTED needs a quantized int8 weight tensor")
            p["kind"] = "hybrid"
            p["asymmetric"] = bool(opt.get("asymmetric_quantize_inputs", False))
            if w.scales.size > 1:
                if w.scales.size != int(w.shape[w.quantized_dimension]):
                    raise op.unsupported("per-channel weight scales do not match the quantized dimension")
                p["channel_scales"] = np.asarray(w.scales, F32)
            else:
                p["channel_scales"] = None
                p["filter_scale"] = F32(ic.legacy_scale(w))
            if w.data is not None:
                p["wq_cache"] = {}  # the integer GEMM operand, made on first eval (constant filter)
            return FullyConnectedParams(**p)
        kinds = {("INT8", "INT8"): "int8", ("UINT8", "UINT8"): "uint8", ("INT16", "INT8"): "int16",
                 ("INT16", "INT16"): "int16w16"}
        kind = kinds.get((x.type, w.type))
        if kind is None or not (y.type == x.type or (kind == "uint8" and y.type == "INT16")):
            raise op.unsupported(f"no FULLY_CONNECTED kernel for input {x.type}, weights {w.type}, output {y.type}")
        if btype not in ("INT32", "INT64", None):
            raise op.unsupported(f"quantized FULLY_CONNECTED needs an int32 or int64 bias, got {btype}")
        if not (x.quantized and w.quantized and y.quantized):
            raise op.unsupported("quantized FULLY_CONNECTED needs quantization parameters on input, weights, output")
        if act not in (0, 1, 2, 3):
            raise op.unsupported(f"fused activation {act} is not supported on quantized FULLY_CONNECTED")
        per_channel = w.scales.size > 1
        if per_channel:
            if kind not in ("int8", "int16", "int16w16"):
                raise op.unsupported("per-channel weights need int8 or int16 activations")
            if w.scales.size != int(w.shape[w.quantized_dimension]) or w.scales.size != units:
                raise op.unsupported("per-channel weight scales must match the output units")
        if kind in ("int16", "int16w16") and (ic.legacy_zero_point(x) != 0 or ic.legacy_zero_point(y) != 0):
            raise op.unsupported("int16 FULLY_CONNECTED needs zero points of 0 on input and output")
        if not per_channel:
            ic.check_bias_scale(op, x, w, b, y)  # LiteRT checks it before its per-tensor multiplier
        qbt = int(opt.get("quantized_bias_type", 0) or 0)
        p["kind"] = kind
        p["in_zp"] = ic.legacy_zero_point(x)
        p["out_zp"] = ic.legacy_zero_point(y)
        # Per-channel kernels take the weights as symmetric; per-tensor ones apply their zero point.
        p["wzp"] = 0 if per_channel else ic.legacy_zero_point(w)
        p["lo"], p["hi"] = ic.output_range(op, y)
        s_in, s_out = ic.legacy_scale(x), ic.legacy_scale(y)
        if kind == "int16w16":
            p["int64_acc"] = True
            if per_channel:
                p["mult"], p["shift"] = ic.per_channel_multipliers(s_in, w.scales, s_out, units)
            else:
                m, s = ic.legacy_multiplier(s_in, ic.legacy_scale(w), s_out)
                p["mult"], p["shift"] = np.int64(m), np.int64(s)
        else:
            # int16 activations accumulate in the bias type: int64 unless the model says INT32.
            p["int64_acc"] = kind == "int16" and not (qbt == TYPE_INT32 or (qbt == 0 and btype == "INT32"))
            fs = np.asarray(w.scales, np.float64) if per_channel else np.float64(ic.legacy_scale(w))
            p["effective_scale"] = float(np.float32(s_in)) * fs / float(np.float32(s_out))
        if w.data is not None:
            p["wq_cache"] = {}  # the integer GEMM operand, made on first eval (constant weights)
        return FullyConnectedParams(**p)

    @staticmethod
    def eval(params, x, w, bias=None):
        p = params
        units, depth = w.shape
        rows = x.size // depth if depth else int(np.prod(x.shape[:-1]))
        x2 = x.reshape(rows, depth)
        out_shape = (*x.shape[:-1], units) if p.keep_num_dims else (rows, units)
        kind = p.kind
        if kind == "float":
            wt = p.wt
            if wt is None:
                wt = np.asarray(w, F32).T
            out = matmul_sequential(x2, wt)  # REALMODELS: TFLite's reference summation order
            if bias is not None:
                out = out + bias.astype(F32)
            return ic.apply_clamp(out.astype(F32, copy=False), p.clamp).reshape(out_shape)
        wq = ic.cached_int_weights(p, lambda: _int_weights(w, p.wzp))
        if kind == "hybrid":
            return _eval_hybrid(p, x2, wq, bias).reshape(out_shape)
        dt = ic.gemm_dtype(depth, ic.max_abs(x2), wq.max_abs)
        acc = ic.int_matmul(x2.astype(dt), wq.cast(dt))
        per_unit = -p.in_zp * wq.colsum
        if bias is not None:
            per_unit = per_unit + bias.astype(np.int64)
        acc += per_unit
        if not p.int64_acc:
            acc = fp.wrap_int32(acc)
        if kind == "int16w16":
            out = ic.requantize(acc, p.mult, p.shift, p.out_zp, p.lo, p.hi, p.out_dtype,
                                int64_acc=True)
        else:
            out = ic.requantize_double(acc, p.effective_scale, p.out_zp, p.lo, p.hi, p.out_dtype)
        return out.reshape(out_shape)


def _int_weights(w, wzp) -> ic.IntWeights:
    """(units, depth) integer weights minus their zero point, as the depth x units GEMM operand."""
    return ic.IntWeights((np.asarray(w).astype(np.int64) - int(wzp)).T)


def _eval_hybrid(p, x2, wq, bias):
    row_sums = wq.colsum
    rows, units = x2.shape[0], wq.mat.shape[1]
    q, sf, off = quantize_rows(x2.astype(F32, copy=False), p.asymmetric)
    dt = ic.gemm_dtype(wq.mat.shape[0], 128, wq.max_abs)
    dot = ic.int_matmul(q.astype(dt), wq.cast(dt))
    dot = fp.wrap_int32(dot - row_sums[None, :] * off.astype(np.int64)[:, None])
    if p.channel_scales is None:
        scale = np.broadcast_to((sf * p.filter_scale).astype(F32)[:, None], (rows, units))
    else:
        scale = (sf[:, None] * p.channel_scales[None, :]).astype(F32)
    out = (dot.astype(F32) * scale).astype(F32)
    if bias is not None:
        out = (bias.astype(F32)[None, :] + out).astype(F32)
    return fp.apply_float_activation(out, p.act).astype(F32, copy=False)
