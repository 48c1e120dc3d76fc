"""CONV_2D (TFLite kernels/conv.cc with the kReference kernels of reference/conv.h and
reference/integer_ops/conv.h), computed as im2col + one GEMM.

Types:
- float32: float GEMM, bias, fused RELU/RELU_N1_TO_1/RELU6 clamp (other activations are ignored,
  as CalculateActivationRange does);
- int8 (per-channel or per-tensor int8 filter, int32 bias): acc = sum(w * (x - zp_in)) + bias,
  MultiplyByQuantizedMultiplier per output channel, + zp_out, clamp;
- uint8 legacy (uint8 filter with its zero point, int32 bias): acc = sum((w - zp_w) * (x - zp_in)),
  one multiplier from the float32 product of the scales;
- int16x8 (int16 activations with zero point 0, int8 filter): int64 accumulator and the int64
  MultiplyByQuantizedMultiplier with an int64 bias; the int32 accumulator and the int32 version
  with an int32 bias or none;
- hybrid (float input, int8 filter): per-channel filter scales -> each batch entry quantized
  asymmetrically, out = float(acc) * filter_scale[c] * input_scale[b] + bias (HybridConvPerChannel);
  a single filter scale -> symmetric quantization, out = float(acc) * (input_scale[b] * filter_scale)
  + bias (optimized_ops::HybridConv, which the reference kernel type also uses). Equal per-channel
  scales run the per-tensor kernel; grouped hybrid convolutions need one scale per output channel.
  The on-the-fly quantizers (LiteRT's NEON-path rounding included) are in kernels/hybrid.py.
Grouped convolution (input channels a multiple of the filter's) runs one GEMM per group.

Padding positions are "omitted" by TFLite; here they hold the value whose contribution is zero
(the input zero point, or 0 after subtracting it), so every window is a full GEMM row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import im2col as ic
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.float_sequential import matmul_sequential
from eightbit.kernels.hybrid import asymmetric_quantize_rows, symmetric_quantize_rows
from eightbit.kernels.opdata import ConvFamilyParams
from eightbit.kernels.padding import compute_padding_height_width

F32 = np.float32

@dataclass(frozen=True)
class ConvParams(ConvFamilyParams):
    """What Conv2D.prepare works out once: geometry, the kind of arithmetic, multipliers, clamps, re-laid-out constant filters (fields a kind does not use keep their defaults)."""

    dilation: tuple = (1, 1)
    filter_scale: float = 0.0
    filter_shape: tuple = ()
    per_channel: bool = False
    wmat: np.ndarray | None = None
    wq_cache: dict | None = None



def _input(op: OpContext, i: int):
    return op.inputs[i] if len(op.inputs) > i else None


class Conv2D(Kernel):
    types = ("float32", "int8", "uint8", "int16", "hybrid")

    @staticmethod
    def prepare(op: OpContext):
        x, w, b, y = op.inputs[0], op.inputs[1], _input(op, 2), op.outputs[0]
        if len(x.shape) != 4 or len(w.shape) != 4:
            raise op.unsupported(f"input and filter must be 4-D, got {x.shape} and {w.shape}")
        opt = op.options
        oc, kh, kw, fin = (int(d) for d in w.shape)
        p = {
            "stride": (int(opt.get("stride_h", 1) or 1), int(opt.get("stride_w", 1) or 1)),
            "dilation": (int(opt.get("dilation_h_factor", 1) or 1), int(opt.get("dilation_w_factor", 1) or 1)),
            "padding": int(opt.get("padding", 0)),
            "act": int(opt.get("fused_activation_function", 0) or 0),
            "filter_shape": (oc, kh, kw, fin),
            "out_dtype": y.dtype,
        }
        types = (x.type, w.type, b.type if b is not None else None)
        if x.type == "FLOAT32" and w.type == "FLOAT32":
            if b is not None and b.type != "FLOAT32":
                raise op.unsupported(f"float CONV_2D needs a float32 bias, got {b.type}")
            p["kind"] = "float"
            p["clamp"] = fp.activation_range_float(p["act"])
            if w.data is not None:
                p["wmat"] = _float_weights(w.data, 1)
            return ConvParams(**p)
        if x.type == "FLOAT32" and w.type == "INT8":
            if b is not None and b.type != "FLOAT32":
                raise op.unsupported(f"hybrid CONV_2D needs a float32 bias, got {b.type}")
            if not w.quantized:
                raise op.unsupported("hybrid CONV_2D needs a quantized int8 filter")
            scales = np.asarray(w.scales, F32)
            per_channel = scales.size > 1 and bool(np.any(scales != scales[0]))
            grouped = fin > 0 and int(x.shape[3]) != fin
            if grouped and scales.size != int(w.shape[w.quantized_dimension]):
                # LiteRT runs grouped hybrid convolutions only in its per-channel kernel, whose
                # Prepare wants one scale per filter channel
                raise op.unsupported("grouped hybrid CONV_2D needs one filter scale per output channel")
            p["kind"] = "hybrid"
            p["clamp"] = fp.activation_range_float(p["act"])
            p["per_channel"] = per_channel
            p["channel_scales"] = scales if scales.size == oc else np.full(oc, scales[0], F32)
            p["filter_scale"] = scales[0]  # equal per-channel scales run the per-tensor kernel with the first
            if w.data is not None:
                p["wq_cache"] = {}  # the integer GEMM operand, made on first eval (constant filter)
            return ConvParams(**p)
        if types[0] == "INT8" and types[1] == "INT8" and types[2] in ("INT32", None):
            p["kind"] = "int8"
        elif types[0] == "UINT8" and types[1] == "UINT8" and types[2] in ("INT32", None):
            p["kind"] = "uint8"
        elif types[0] == "INT16" and types[1] == "INT8" and types[2] in ("INT64", "INT32", None):
            p["kind"] = "int16"
            p["int64_acc"] = types[2] == "INT64"
            if ic.legacy_zero_point(x) != 0 or ic.legacy_zero_point(y) != 0:
                raise op.unsupported("int16 CONV_2D needs zero points of 0 on input and output")
        else:
            raise op.unsupported(f"no CONV_2D kernel for input {types[0]}, filter {types[1]}, bias {types[2]}")
        if not (x.quantized and w.quantized and y.quantized):
            raise op.unsupported("quantized CONV_2D needs quantization parameters on input, filter and output")
        if w.scales.size not in (1, oc):
            raise op.unsupported(f"filter has {w.scales.size} scales for {oc} output channels")
        p["mult"], p["shift"], wzp = ic.conv_multipliers(op, p["kind"] == "uint8", x, w, b, y, oc)
        p["wzp"] = wzp
        p["in_zp"] = ic.legacy_zero_point(x)
        p["out_zp"] = ic.legacy_zero_point(y) if p["kind"] != "int16" else 0
        p["lo"], p["hi"] = ic.output_range(op, y)
        if w.data is not None:
            p["wq_cache"] = {}  # the integer GEMM operand, made on first eval (constant filter)
        return ConvParams(**p)

    @staticmethod
    def eval(params, x, w, bias=None):
        p = params
        oc, kh, kw, fin = w.shape
        n, h, wd, c = x.shape
        if c % fin:
            raise ValueError(f"input depth {c} is not a multiple of the filter depth {fin}")
        groups = c // fin
        sh, sw = p.stride
        dh, dw = p.dilation
        g = compute_padding_height_width(sh, sw, dh, dw, h, wd, kh, kw, p.padding)
        oh, ow = g.out_height, g.out_width
        geo = (kh, kw, sh, sw, dh, dw, g.height, g.width, oh, ow)
        kind = p.kind
        if kind == "float":
            wmat = p.wmat if groups == 1 else None  # precomputed for constant, ungrouped filters
            if wmat is None:
                wmat = _float_weights(w, groups)
            # REALMODELS: reference summation order, so hybrid ops after it see LiteRT's bits
            out = _conv_gemm(x.astype(F32, copy=False), geo, groups, wmat, F32, 0, matmul=matmul_sequential)
            if bias is not None:
                out = out + bias.astype(F32)
            return ic.apply_clamp(out.astype(F32, copy=False), p.clamp).reshape(n, oh, ow, oc)
        if kind == "hybrid":
            return _eval_hybrid(p, x, w, bias, geo, groups).reshape(n, oh, ow, oc)
        wq = ic.cached_int_weights(p, lambda: _int_weights(w, p.wzp))
        zp = p.in_zp
        dt = ic.gemm_dtype(kh * kw * fin, ic.max_abs(x), wq.max_abs)
        acc = _conv_int(x, geo, groups, wq, dt, pad=zp)
        per_channel = -zp * wq.colsum  # windows padded with zp: subtract zp * sum(w) once per channel
        if bias is not None:
            per_channel = per_channel + bias.astype(np.int64)
        acc += per_channel
        out = ic.requantize(acc, p.mult, p.shift, p.out_zp, p.lo, p.hi, p.out_dtype,
                            int64_acc=p.int64_acc)
        return out.reshape(n, oh, ow, oc)


def _float_weights(w, groups):
    """OHWI filter -> (groups, K, OC/groups) float32 GEMM operands."""
    w = np.asarray(w, F32)
    oc = w.shape[0]
    k = w.shape[1] * w.shape[2] * w.shape[3]
    per = oc // groups
    return np.ascontiguousarray(w.reshape(groups, per, k).transpose(0, 2, 1))


def _int_weights(w, wzp) -> ic.IntWeights:
    """OHWI integer filter minus its zero point, as the K x OC GEMM operand."""
    wi = np.asarray(w).astype(np.int64) - int(wzp)
    return ic.IntWeights(wi.reshape(wi.shape[0], -1).T)


def _conv_gemm(x, geo, groups, wmat, dtype, pad, matmul=np.matmul):
    """sum over each window of x * filter: (N*OH*OW, OC) in `dtype` (wmat (groups, K, OC/groups))."""
    kh, kw, sh, sw, dh, dw, ph, pw, oh, ow = geo
    n, c = x.shape[0], x.shape[3]
    m = n * oh * ow
    one_by_one = kh == 1 and kw == 1 and sh == 1 and sw == 1 and ph == 0 and pw == 0
    if one_by_one and oh == x.shape[1] and ow == x.shape[2]:
        patches = x.reshape(m, 1, 1, c)
        if patches.dtype != dtype:
            patches = patches.astype(dtype)
    else:
        patches = ic.window_patches(x, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow, pad, dtype).reshape(m, kh, kw, c)
    if groups == 1:
        return matmul(patches.reshape(m, kh * kw * c), wmat[0])
    fin = c // groups
    parts = [matmul(patches[..., gi * fin:(gi + 1) * fin].reshape(m, kh * kw * fin), wmat[gi]) for gi in range(groups)]
    return np.concatenate(parts, axis=1)


def _conv_int(x, geo, groups, wq, dtype, pad):
    """Exact integer window sums of x * w (int64), x padded with `pad`."""
    wmat = wq.cast(dtype)
    oc = wmat.shape[1]
    if groups == 1:
        wg = wmat[None]
    else:
        per = oc // groups
        wg = np.stack([wmat[:, gi * per:(gi + 1) * per] for gi in range(groups)])
    if dtype is np.int64:
        r = _conv_gemm(x.astype(np.int64), geo, groups, wg, np.int64, pad)
    else:
        r = _conv_gemm(x, geo, groups, wg, dtype, pad)
    return r.astype(np.int64)


def _eval_hybrid(p, x, w, bias, geo, groups):
    n = x.shape[0]
    wq = ic.cached_int_weights(p, lambda: _int_weights(w, 0))
    k, wsum, wmax = wq.mat.shape[0], wq.colsum, wq.max_abs
    rows = x.reshape(n, int(np.prod(x.shape[1:]))).astype(F32, copy=False)
    if p.per_channel or groups != 1:
        q, sf, off = asymmetric_quantize_rows(rows)
        q = q.reshape(x.shape)
        dt = ic.gemm_dtype(k, 128, wmax)
        acc = _conv_int(q, geo, groups, wq, dt, pad=off.reshape(n, 1, 1, 1))
        per_row = acc.shape[0] // n if n else 0
        off_rows = np.repeat(off.astype(np.int64), per_row)
        acc -= off_rows[:, None] * wsum[None, :]
        sf_rows = np.repeat(sf, per_row)
        out = (acc.astype(F32) * p.channel_scales[None, :]).astype(F32)
        out = (out * sf_rows[:, None]).astype(F32)
    else:
        q, sf = symmetric_quantize_rows(rows)
        q = q.reshape(x.shape)
        dt = ic.gemm_dtype(k, 127, wmax)
        acc = _conv_int(q, geo, groups, wq, dt, pad=0)
        per_row = acc.shape[0] // n if n else 0
        sf_rows = np.repeat((sf * p.filter_scale).astype(F32), per_row)
        out = (acc.astype(F32) * sf_rows[:, None]).astype(F32)
    if bias is not None:
        out = (out + bias.astype(F32)[None, :]).astype(F32)
    return ic.apply_clamp(out, p.clamp)
