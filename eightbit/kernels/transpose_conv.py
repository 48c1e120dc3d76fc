"""TRANSPOSE_CONV (TFLite kernels/transpose_conv.cc, kReference: reference/transpose_conv.h and
reference/integer_ops/transpose_conv.h).

Inputs: output_shape (int32[4]), filter [OC, KH, KW, IC], input [N, H, W, IC], optional bias [OC].
Every input pixel scatters x[n, iy, ix, :] . w[oc, fy, fx, :] onto output pixel
(iy * stride_h - pad_h + fy, ix * stride_w - pad_w + fx) when it lies inside the output; the
padding is the one a forward convolution of the output size would use (SAME or VALID).
Computed as one GEMM (input rows x filter taps) and a scatter-add per kernel tap.

Types: float32 (bias, fused RELU-family clamp); int8 with per-channel int8 filter and int32 bias;
uint8 legacy (filter zero point, one multiplier); int16x8 (int64 accumulator and bias with the
int64 MultiplyByQuantizedMultiplier, or int32 when quantized_bias_type is INT32); hybrid (float
input, int8 filter with one scale per output channel: each batch entry quantized asymmetrically,
then every scaled product added in float32 in the reference loop order, see _scatter_hybrid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import im2col as ic
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.hybrid import asymmetric_quantize_rows
from eightbit.kernels.opdata import ConvFamilyParams
from eightbit.kernels.padding import compute_padding_height_width

F32 = np.float32
TYPE_INT32 = 2

@dataclass(frozen=True)
class TransposeConvParams(ConvFamilyParams):
    """What TransposeConv.prepare works out once (fields a kind does not use keep their defaults)."""



class TransposeConv(Kernel):
    types = ("float32", "int8", "uint8", "int16", "hybrid")

    @staticmethod
    def prepare(op: OpContext):
        shape_t, w, x, y = op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]
        b = op.inputs[3] if len(op.inputs) > 3 else None
        if len(x.shape) != 4 or len(w.shape) != 4:
            raise op.unsupported(f"input and filter must be 4-D, got {x.shape} and {w.shape}")
        if shape_t.type != "INT32":
            raise op.unsupported(f"output_shape must be int32, got {shape_t.type}")
        opt = op.options
        oc = int(w.shape[0])
        p = {
            "stride": (int(opt.get("stride_h", 1) or 1), int(opt.get("stride_w", 1) or 1)),
            "padding": int(opt.get("padding", 0)),
            "act": int(opt.get("fused_activation_function", 0) or 0),
            "out_dtype": y.dtype,
        }
        if p["stride"][0] <= 0 or p["stride"][1] <= 0:
            raise op.unsupported("strides must be positive")
        btype = b.type if b is not None else None
        if x.type == "FLOAT32" and w.type == "FLOAT32":
            if btype not in ("FLOAT32", None):
                raise op.unsupported(f"float TRANSPOSE_CONV needs a float32 bias, got {btype}")
            p["kind"] = "float"
            p["clamp"] = fp.activation_range_float(p["act"])
            return TransposeConvParams(**p)
        if x.type == "FLOAT32" and w.type == "INT8":
            if btype not in ("FLOAT32", None):
                raise op.unsupported(f"hybrid TRANSPOSE_CONV needs a float32 bias, got {btype}")
            if not w.quantized:
                raise op.unsupported("hybrid TRANSPOSE_CONV needs a quantized int8 filter")
            scales = np.asarray(w.scales, F32)
            channels = int(w.shape[w.quantized_dimension])
            if scales.size == 1:
                scales = np.full(channels, scales[0], F32)
            elif scales.size != channels:
                raise op.unsupported("filter scales do not match the quantized dimension")
            p["kind"] = "hybrid"
            p["clamp"] = fp.activation_range_float(p["act"])
            p["channel_scales"] = scales
            return TransposeConvParams(**p)
        kinds = {("INT8", "INT8"): "int8", ("UINT8", "UINT8"): "uint8", ("INT16", "INT8"): "int16"}
        kind = kinds.get((x.type, w.type))
        if kind is None or y.type != x.type:
            raise op.unsupported(f"no TRANSPOSE_CONV kernel for input {x.type}, filter {w.type}, output {y.type}")
        allowed = ("INT64", "INT32", None) if kind == "int16" else ("INT32", None)
        if btype not in allowed:
            raise op.unsupported(f"{x.type} TRANSPOSE_CONV cannot take a {btype} bias")
        if not (x.quantized and w.quantized and y.quantized):
            raise op.unsupported("quantized TRANSPOSE_CONV needs quantization parameters on input, filter, output")
        if w.scales.size not in (1, oc):
            raise op.unsupported(f"filter has {w.scales.size} scales for {oc} output channels")
        if kind == "int16":
            if ic.legacy_zero_point(x) != 0 or ic.legacy_zero_point(y) != 0:
                raise op.unsupported("int16 TRANSPOSE_CONV needs zero points of 0 on input and output")
            qbt = int(opt.get("quantized_bias_type", 0) or 0)
            p["int64_acc"] = not (qbt == TYPE_INT32 or (qbt == 0 and btype == "INT32"))
        p["mult"], p["shift"], p["wzp"] = ic.conv_multipliers(op, kind == "uint8", x, w, b, y, oc)
        p["kind"] = kind
        p["in_zp"] = ic.legacy_zero_point(x)
        p["out_zp"] = ic.legacy_zero_point(y)
        p["lo"], p["hi"] = ic.output_range(op, y)
        return TransposeConvParams(**p)

    @staticmethod
    def eval(params, output_shape, w, x, bias=None):
        p = params
        out_shape = tuple(int(d) for d in np.asarray(output_shape).reshape(-1))
        if len(out_shape) != 4:
            raise ValueError(f"output_shape must have 4 entries, got {out_shape}")
        n, h, wd, c = x.shape
        oc, kh, kw, ic_ = w.shape
        if out_shape[0] != n or out_shape[3] != oc or ic_ != c:
            raise ValueError(f"output_shape {out_shape} does not fit input {x.shape} and filter {w.shape}")
        oh, ow = out_shape[1], out_shape[2]
        sh, sw = p.stride
        g = compute_padding_height_width(sh, sw, 1, 1, oh, ow, kh, kw, p.padding)
        geo = (sh, sw, g.height, g.width, oh, ow)
        kind = p.kind
        if kind == "float":
            out = _scatter(x.astype(F32, copy=False), np.asarray(w, F32), geo, F32)
            if bias is not None:
                out = out + bias.astype(F32)
            return ic.apply_clamp(out.astype(F32, copy=False), p.clamp)
        if kind == "hybrid":
            q, sf, off = asymmetric_quantize_rows(x.reshape(n, h * wd * c).astype(F32, copy=False))
            shifted = q.reshape(x.shape).astype(F32) - off.astype(F32).reshape(n, 1, 1, 1)  # exact: |q - off| <= 255
            out = _scatter_hybrid(shifted, np.asarray(w), p.channel_scales, sf, geo)
            if bias is not None:
                out = (out + bias.astype(F32)).astype(F32)
            return ic.apply_clamp(out, p.clamp)
        shifted = x.astype(np.int64) - p.in_zp
        wi = np.asarray(w).astype(np.int64) - p.wzp
        acc = _scatter(shifted, wi, geo, ic.gemm_dtype(c, ic.max_abs(shifted), ic.max_abs(wi)))
        if bias is not None:
            acc += bias.astype(np.int64)
        return ic.requantize(acc, p.mult, p.shift, p.out_zp, p.lo, p.hi, p.out_dtype,
                             int64_acc=p.int64_acc)


def _scatter_hybrid(shifted, w, channel_scales, sf, geo):
    """HybridTransposeConv: unlike the integer kernels it does not accumulate an int32 sum; every
    input element adds float(int product) * filter_scale[oc] * input_scale[b] (float32, in that
    order) straight into the float output. The sum's rounding depends on the order of the terms,
    which for one output pixel is the reference loop order over inputs (in_y, in_x, in_channel):
    since in_y = (out_y + pad - filter_y) / stride, that is filter_y descending, then filter_x
    descending, then in_channel ascending; this loop visits the taps in exactly that order and
    adds each one to every output pixel it reaches at once. shifted: (N, H, W, IC) float32 holding
    q - offset; returns (N, OH, OW, OC) float32 without bias."""
    sh, sw, ph, pw, oh, ow = geo
    n, h, wd, c = shifted.shape
    oc, kh, kw, _ = w.shape
    wf = w.astype(F32)
    sf4 = np.asarray(sf, F32).reshape(n, 1, 1, 1)
    buf = np.zeros((n, oh, ow, oc), F32)
    if n * h * wd == 0:
        return buf
    for fy in range(kh - 1, -1, -1):
        ys, rows = _landing(fy, sh, ph, h, oh)
        if rows is None:
            continue
        for fx in range(kw - 1, -1, -1):
            xs, cols = _landing(fx, sw, pw, wd, ow)
            if cols is None:
                continue
            view = buf[:, rows, cols, :]
            for ci in range(c):
                prod = shifted[:, ys, xs, ci, None] * wf[:, fy, fx, ci]  # exact integers in float32
                view += (prod * channel_scales).astype(F32) * sf4
    return buf


def _landing(f: int, stride: int, pad: int, size: int, out_size: int):
    """Along one axis, the inputs i whose tap f lands inside the output (out = i * stride - pad + f
    in [0, out_size)), as (input slice, output slice); (None, None) when none does. Only these are
    computed, so huge strides or filters cost nothing beyond the input and output sizes."""
    lo = max(0, -((f - pad) // stride))  # ceil((pad - f) / stride)
    hi = min(size, (out_size - 1 + pad - f) // stride + 1)
    if lo >= hi:
        return None, None
    start = lo * stride - pad + f
    return slice(lo, hi), slice(start, start + (hi - lo - 1) * stride + 1, stride)


def _scatter(x, w, geo, dtype):
    """Transposed convolution sums (N, OH, OW, OC): float32 for float inputs, else exact int64.
    `dtype` is the GEMM's (float32 also for integer inputs when gemm_dtype finds it exact); the
    scatter buffer is int64 whenever the inputs are integers."""
    sh, sw, ph, pw, oh, ow = geo
    n, h, wd, c = x.shape
    oc, kh, kw, _ = w.shape
    integer = np.issubdtype(np.asarray(x).dtype, np.integer)
    wmat = np.ascontiguousarray(w.transpose(3, 1, 2, 0).reshape(c, kh * kw * oc)).astype(dtype, copy=False)
    cols = x.reshape(n * h * wd, c).astype(dtype, copy=False) @ wmat
    if integer:
        cols = cols.astype(np.int64)
    cols = cols.reshape(n, h, wd, kh, kw, oc)
    acc_dtype = np.int64 if integer else F32
    if n * h * wd == 0:
        return np.zeros((n, oh, ow, oc), acc_dtype)
    buf = np.zeros((n, oh, ow, oc), acc_dtype)
    for fy in range(kh):
        ys, rows = _landing(fy, sh, ph, h, oh)
        if rows is None:
            continue
        for fx in range(kw):
            xs, out_cols = _landing(fx, sw, pw, wd, ow)
            if out_cols is not None:
                buf[:, rows, out_cols, :] += cols[:, ys, xs, fy, fx, :]
    return buf
