"""Convolutions and matrix products: CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, FULLY_CONNECTED,
BATCH_MATMUL. Their weights are symmetric int8 (per channel where the axis is given), their bias
int32 at input_scale * weight_scale (int64 with int16 activations)."""

from __future__ import annotations

from eightbit.ops.base import TYPES, OpSpec, Sig


def _conv_2d(s: Sig) -> int:
    if s.t0 == "INT16" and s.t1 == "INT8" and s.o0 == "INT16" and s.options.get("quantized_bias_type", 0):
        return 8
    x, w = (s.ins + (None, None))[:2]
    if x is not None and w is not None and len(x.shape) == 4 and len(w.shape) == 4 \
            and x.shape[3] > 0 and w.shape[3] > 0 and x.shape[3] != w.shape[3]:
        return 6  # grouped convolution
    if (s.t0, s.t1, s.o0) == ("INT8", "INT8", "INT8"):
        return 3
    if (s.t0, s.t1, s.o0) == ("INT8", "INT4", "INT8"):
        return 7
    if (s.t0, s.t1, s.o0) == ("FLOAT32", "INT8", "FLOAT32"):
        return 5 if s.per_channel(1) else 2
    return 1


def _depthwise_conv_2d(s: Sig) -> int:
    if (s.t0, s.t1, s.o0) == ("FLOAT32", "INT8", "FLOAT32"):
        return 6 if s.per_channel(1) else 4
    if (s.t0, s.t1, s.o0) == ("INT8", "INT8", "INT8"):
        return 3
    if (s.t0, s.t1, s.o0) == ("INT8", "INT4", "INT8"):
        return 7
    if s.options.get("dilation_w_factor", 1) != 1 or s.options.get("dilation_h_factor", 1) != 1:
        return 2
    return 1


def _fully_connected(s: Sig) -> int:  # noqa: PLR0911 - one return per row of op_version.cc
    sig3, opt = (s.t0, s.t1, s.o0), s.options
    if sig3 == ("FLOAT32", "INT8", "FLOAT32") and s.per_channel(1):
        return 12
    if sig3 == ("INT16", "INT8", "INT16") and opt.get("quantized_bias_type", 0):
        return 11
    if len(s.ins) > 1 and s.ins[1] is not None and s.ins[1].sparsity:
        return 8
    if sig3 == ("INT16", "INT16", "INT16"):
        return 7
    if s.n_inputs == 2:
        return 6
    if opt.get("keep_num_dims"):
        return 5
    if sig3 == ("INT8", "INT8", "INT8"):
        return 4
    if sig3 == ("INT8", "INT4", "INT8"):
        return 10
    if sig3 == ("FLOAT32", "INT8", "FLOAT32"):
        return 9 if opt.get("asymmetric_quantize_inputs") else 3
    return 2 if opt.get("weights_format", 0) == 1 else 1


def _transpose_conv(s: Sig) -> int:
    if (s.t0, s.t1, s.o0) == ("INT16", "INT8", "INT16") and s.options.get("quantized_bias_type", 0):
        return 5
    if s.options.get("fused_activation_function", 0):
        return 4
    if s.n_inputs == 4 and s.inputs[3] >= 0:
        return 3
    return 2 if s.t1 == "INT8" else 1


def _batch_matmul(s: Sig) -> int:
    if s.t0 == "INT16":
        return 3
    if s.t0 == "INT8":
        return 2
    if (s.t0, s.t1, s.o0) == ("FLOAT32", "INT8", "FLOAT32") and s.options.get("asymmetric_quantize_inputs"):
        return 4
    return 1


ENTRIES = (
    OpSpec("CONV_2D", "Conv2DOptions", "conv.Conv2D", TYPES, _conv_2d,
           {1: "1.5.0", 2: "1.14.0", 3: "1.14.0", 4: "2.3.0", 5: "2.4.0", 6: "2.9.0", 7: None, 8: None}, newest=8,
           weight_inputs=(1,), weight_channel_axis=0, bias_input=2,
           doc="2-D convolution, NHWC input, OHWI filter (one scale per output channel), optional bias."),
    OpSpec("DEPTHWISE_CONV_2D", "DepthwiseConv2DOptions", "depthwise_conv.DepthwiseConv2D", TYPES,
           _depthwise_conv_2d,
           {1: "1.5.0", 2: "1.12.0", 3: "1.14.0", 4: "2.2.0", 5: "2.3.0", 6: "2.3.0", 7: None}, newest=6,
           weight_inputs=(1,), weight_channel_axis=3, bias_input=2,
           doc="Per-channel 2-D convolution; filter [1, H, W, in_channels * depth_multiplier] (scales on dim 3)."),
    OpSpec("TRANSPOSE_CONV", "TransposeConvOptions", "transpose_conv.TransposeConv", TYPES, _transpose_conv,
           {1: "1.9.0", 2: "2.2.0", 3: "2.3.0", 4: None, 5: None}, newest=5,
           weight_inputs=(1,), weight_channel_axis=0, bias_input=3, non_float_inputs=(0,),
           doc="Inputs (output_shape int32[4], filter OHWI, input NHWC, optional bias)."),
    OpSpec("FULLY_CONNECTED", "FullyConnectedOptions", "fully_connected.FullyConnected", TYPES, _fully_connected,
           {1: "1.5.0", 2: "1.10.0", 3: "1.14.0", 4: "1.14.0", 5: "2.0.0", 6: "2.1.0", 7: "2.3.0", 8: "2.3.0",
            9: "2.3.0", 10: None, 11: None, 12: "2.17.0"}, newest=13,
           weight_inputs=(1,), weight_channel_axis=0, bias_input=2,
           doc="y = x W^T + b with W [units, depth] (one scale per unit); inputs of any rank are flattened to rows."),
    # BATCH_MATMUL: full integer quantizes both operands per tensor; dynamic range makes a constant
    # rhs symmetric int8 per tensor even in per-channel mode (TF never produces per-column scales,
    # and the integer kernels take per-tensor operands only).
    OpSpec("BATCH_MATMUL", "BatchMatMulOptions", "batch_matmul.BatchMatMul",
           ("float32", "int8", "int16", "hybrid"), _batch_matmul,
           {1: "2.3.0", 2: "2.3.0", 3: "2.4.0", 4: "2.5.0"}, newest=4,
           weight_inputs=(1,), variable_weights_ok=True,
           doc="lhs [..., A, B] x rhs [..., B, C] with broadcast batch dims (adj_x / adj_y transpose)."),
)
