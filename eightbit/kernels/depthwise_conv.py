"""DEPTHWISE_CONV_2D (TFLite kernels/depthwise_conv.cc, kReference kernel type: reference
depthwiseconv_float.h / depthwiseconv_uint8.h / integer_ops/depthwise_conv.h).

Output channel oc = ic * depth_multiplier + m reads input channel ic through filter [0, fy, fx, oc]
(depth_multiplier = output channels / input channels, as TFLite computes it from the shapes).
Computed per kernel tap: the strided window of the padded input, broadcast over the depth
multiplier, times that tap's weights, accumulated (loops over KH*KW taps only).

Types: float32; int8 (per-channel int8 filter, int32 bias); uint8 legacy (uint8 filter with zero
point, one multiplier); int16x8 (int64 accumulator and bias, int64 MultiplyByQuantizedMultiplier);
hybrid (float input, per-channel int8 filter: each batch entry quantized asymmetrically,
out = float(acc) * (filter_scale[c] * input_scale[b]) + bias).
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

@dataclass(frozen=True)
class DepthwiseConvParams(ConvFamilyParams):
    """What DepthwiseConv2D.prepare works out once (fields a kind does not use keep their defaults)."""

    dilation: tuple = (1, 1)



class DepthwiseConv2D(Kernel):
    types = ("float32", "int8", "uint8", "int16", "hybrid")

    @staticmethod
    def prepare(op: OpContext):
        x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
        b = op.inputs[2] if len(op.inputs) > 2 else None
        if len(x.shape) != 4 or len(w.shape) != 4 or int(w.shape[0]) != 1:
            raise op.unsupported(f"input must be 4-D and the filter [1, H, W, C], got {x.shape} and {w.shape}")
        opt = op.options
        oc = int(w.shape[3])
        p = {
            "stride": (int(opt.get("stride_h", 1) or 1), int(opt.get("stride_w", 1) or 1)),
            "dilation": (int(opt.get("dilation_h_factor", 1) or 1), int(opt.get("dilation_w_factor", 1) or 1)),
            "padding": int(opt.get("padding", 0)),
            "act": int(opt.get("fused_activation_function", 0) or 0),
            "out_dtype": y.dtype,
        }
        btype = b.type if b is not None else None
        if x.type == "FLOAT32" and w.type == "FLOAT32":
            if btype not in ("FLOAT32", None):
                raise op.unsupported(f"float DEPTHWISE_CONV_2D needs a float32 bias, got {btype}")
            p["kind"] = "float"
            p["clamp"] = fp.activation_range_float(p["act"])
            return DepthwiseConvParams(**p)
        if x.type == "FLOAT32" and w.type == "INT8":
            if btype not in ("FLOAT32", None):
                raise op.unsupported(f"hybrid DEPTHWISE_CONV_2D needs a float32 bias, got {btype}")
            if not w.quantized or w.scales.size != int(w.shape[w.quantized_dimension]) or w.scales.size != oc:
                raise op.unsupported("hybrid DEPTHWISE_CONV_2D needs one filter scale per output channel")
            p["kind"] = "hybrid"
            p["clamp"] = fp.activation_range_float(p["act"])
            p["channel_scales"] = np.asarray(w.scales, F32)
            return DepthwiseConvParams(**p)
        kinds = {("INT8", "INT8"): ("int8", ("INT32", None)), ("UINT8", "UINT8"): ("uint8", ("INT32", None)),
                 ("INT16", "INT8"): ("int16", ("INT64", None))}
        kind, biases = kinds.get((x.type, w.type), (None, ()))
        if kind is None or y.type != x.type:
            raise op.unsupported(f"no DEPTHWISE_CONV_2D kernel for input {x.type}, filter {w.type}, output {y.type}")
        if btype not in biases:
            raise op.unsupported(f"{x.type} DEPTHWISE_CONV_2D needs a {biases[0]} bias, got {btype}")
        if not (x.quantized and w.quantized and y.quantized):
            raise op.unsupported("quantized DEPTHWISE_CONV_2D needs quantization parameters on input, filter, output")
        if w.scales.size not in (1, oc):
            raise op.unsupported(f"filter has {w.scales.size} scales for {oc} output channels")
        if kind == "int16" and (ic.legacy_zero_point(x) != 0 or ic.legacy_zero_point(y) != 0):
            raise op.unsupported("int16 DEPTHWISE_CONV_2D needs zero points of 0 on input and output")
        p["mult"], p["shift"], p["wzp"] = ic.conv_multipliers(op, kind == "uint8", x, w, b, y, oc)
        p["kind"] = kind
        p["in_zp"] = ic.legacy_zero_point(x) if kind != "int16" else 0
        p["out_zp"] = ic.legacy_zero_point(y) if kind != "int16" else 0
        p["lo"], p["hi"] = ic.output_range(op, y)
        return DepthwiseConvParams(**p)

    @staticmethod
    def eval(params, x, w, bias=None):
        p = params
        n, h, wd, c = x.shape
        _, kh, kw, oc = w.shape
        if c == 0 or oc % c:
            raise ValueError(f"filter depth {oc} is not a multiple of the input depth {c}")
        dm = oc // c
        sh, sw = p.stride
        dh, dw = p.dilation
        g = compute_padding_height_width(sh, sw, dh, dw, h, wd, kh, kw, p.padding)
        geo = (kh, kw, sh, sw, dh, dw, g.height, g.width, g.out_height, g.out_width)
        kind = p.kind
        if kind == "float":
            out = _depthwise(x, w.astype(F32), geo, dm, 0, F32)
            if bias is not None:
                out = out + bias.astype(F32)
            return ic.apply_clamp(out.astype(F32, copy=False), p.clamp)
        if kind == "hybrid":
            q, sf, off = asymmetric_quantize_rows(x.reshape(n, h * wd * c).astype(F32, copy=False))
            shifted = q.reshape(x.shape).astype(np.int32) - off.reshape(n, 1, 1, 1)
            acc = _depthwise(shifted, w.astype(np.int32), geo, dm, 0, np.int32)
            scale = (p.channel_scales[None, :] * sf[:, None]).astype(F32)  # (batch, oc)
            out = (acc.astype(F32) * scale[:, None, None, :]).astype(F32)
            if bias is not None:
                out = (out + bias.astype(F32)).astype(F32)
            return ic.apply_clamp(out, p.clamp)
        acc_dtype = np.int64 if kind == "int16" else np.int32
        shifted = x.astype(acc_dtype) - p.in_zp
        wi = w.astype(acc_dtype) - p.wzp
        acc = _depthwise(shifted, wi, geo, dm, 0, acc_dtype).astype(np.int64)
        if bias is not None:
            acc += bias.astype(np.int64)
        return ic.requantize(acc, p.mult, p.shift, p.out_zp, p.lo, p.hi, p.out_dtype,
                             int64_acc=kind == "int16")


def _depthwise(x, w, geo, dm, pad, dtype):
    """sum over taps of window(x)[..., c] * w[0, fy, fx, c * dm + m] -> (N, OH, OW, C * dm) in dtype."""
    kh, kw, sh, sw, dh, dw, ph, pw, oh, ow = geo
    n, _, _, c = x.shape
    win = ic.window_patches(x, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow, pad, dtype)
    wt = w.reshape(kh, kw, c, dm).astype(dtype, copy=False)
    acc = np.zeros((n, oh, ow, c, dm), dtype)
    for fy in range(kh):
        for fx in range(kw):
            tap = win[:, :, :, fy, fx, :]
            if dm == 1:
                acc[..., 0] += tap * wt[fy, fx, :, 0]
            else:
                acc += tap[..., None] * wt[fy, fx]
    return acc.reshape(n, oh, ow, c * dm)
