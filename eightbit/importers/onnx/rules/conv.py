"""Conv and ConvTranspose (1-D through a unit height, 2-D natively), NCHW with ONNX's weights."""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.rules import rule
from eightbit.importers.onnx.rules.common import NONE, SAME, VALID, conv_padding, pad_op, tflite_same_pads

ONE_D_AXIS = 2  # a 1-D conv/pool runs as 2-D on [N, C, 1, L]


def expand_1d(ctx, x: int) -> int:
    t = ctx.ir(x)
    n, c, length = t.shape
    out = ctx.temp((n, c, 1, length), t.dtype, f"{t.name}_2d")
    ctx.emit("EXPAND_DIMS", [x, ctx.add_const(np.array(ONE_D_AXIS, np.int32), "axis")], [out])
    return out


def squeeze_1d(ctx, y: int, out: int) -> None:
    ctx.emit("SQUEEZE", [y], [out], {"squeeze_dims": [ONE_D_AXIS]})


def spatial_attrs(ctx, node, kernel, in_sizes):
    """(strides, dilations, explicit pads [b..., e...]) with 1-D attributes widened to 2-D."""
    n = len(kernel)
    strides = list(ctx.attr(node, "strides", [1] * n))
    dilations = list(ctx.attr(node, "dilations", [1] * n))
    pads = conv_padding(in_sizes, kernel, strides, dilations, ctx.attr(node, "pads", None),
                        ctx.attr(node, "auto_pad", "NOTSET"))
    return strides, dilations, pads


def widen(values, fill):
    """A 1-D attribute list as the 2-D one of the [N, C, 1, L] form."""
    return [fill] + list(values)


def widen_pads(pads):
    return [0, pads[0], 0, pads[1]]


def choose_padding(ctx, x, in_sizes, kernel, strides, dilations, pads, pad_value=0.0):
    """TFLite padding for explicit pads: SAME or VALID when they match, else PAD then VALID."""
    if not any(pads):
        return x, VALID
    if list(pads) == tflite_same_pads(in_sizes, kernel, strides, dilations):
        return x, SAME
    rank = len(ctx.ir(x).shape)
    by_axis = [(0, 0)] * (rank - 2) + [(pads[0], pads[2]), (pads[1], pads[3])]
    if any(p < 0 for p in pads):
        raise ValueError("negative pads")
    return pad_op(ctx, x, by_axis, pad_value), VALID


@rule("Conv")
def conv(ctx, node):
    w = ctx.const(node, 1)
    if w is None:
        runtime_weights_conv(ctx, node)
        return
    if w.ndim not in (3, 4):
        raise ctx.unsupported(node, f"{w.ndim - 2}-D convolution")
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    one_d = w.ndim == 3
    in_shape = tuple(ctx.ir(x).shape)
    kernel = list(w.shape[2:])
    strides, dilations, pads = spatial_attrs(ctx, node, kernel, list(in_shape[2:]))
    bias = ctx.const(node, 2) if ctx.has_input(node, 2) else np.zeros(w.shape[0], np.float32)
    if one_d:
        x = expand_1d(ctx, x)
        w = w[:, :, None, :]
        kernel, strides, dilations, pads = widen(kernel, 1), widen(strides, 1), widen(dilations, 1), widen_pads(pads)
    group = int(ctx.attr(node, "group", 1))
    out_shape = tuple(ctx.ir(out).shape)
    y_shape = out_shape[:2] + (1,) + out_shape[2:] if one_d else out_shape
    y = ctx.temp(y_shape, ctx.ir(out).dtype, f"{node.outputs[0]}_2d") if one_d else out
    bias_t = ctx.tensor(node, 2) if ctx.has_input(node, 2) and bias is None else None
    conv2d(ctx, node, x, w, bias, bias_t, y, group, kernel, strides, dilations, pads)
    if one_d:
        squeeze_1d(ctx, y, out)


def runtime_weights_conv(ctx, node):
    """2-D CONV_2D / DEPTHWISE_CONV_2D whose filter (and bias) are computed at run time."""
    x, w = ctx.tensor(node, 0), ctx.tensor(node, 1)
    w_shape = tuple(ctx.ir(w).shape)
    if len(w_shape) != 4:
        raise ctx.unsupported(node, f"{len(w_shape) - 2}-D convolution with weights computed at run time")
    group = int(ctx.attr(node, "group", 1))
    in_c = ctx.ir(x).shape[1]
    if group != 1 and not (group == in_c and w_shape[1] == 1):
        raise ctx.unsupported(node, "grouped convolution with weights computed at run time")
    kernel = list(w_shape[2:])
    strides, dilations, pads = spatial_attrs(ctx, node, kernel, list(ctx.ir(x).shape[2:]))
    x, padding = choose_padding(ctx, x, list(ctx.ir(x).shape[2:]), kernel, strides, dilations, pads)
    bias = ctx.tensor(node, 2) if ctx.has_input(node, 2) else ctx.add_const(np.zeros(w_shape[0], np.float32), "bias")
    options = {"padding": padding, "stride_h": int(strides[0]), "stride_w": int(strides[1]),
               "dilation_h_factor": int(dilations[0]), "dilation_w_factor": int(dilations[1]),
               "fused_activation_function": NONE}
    if group == 1:
        ctx.emit("CONV_2D", [x, w, bias], [ctx.output(node, 0)], options, layout="NCHW")
    else:
        ctx.emit("DEPTHWISE_CONV_2D", [x, w, bias], [ctx.output(node, 0)],
                 dict(options, depth_multiplier=int(w_shape[0] // in_c)), layout="NCHW")


def conv2d(ctx, node, x, w, bias, bias_t, y, group, kernel, strides, dilations, pads):
    in_c = ctx.ir(x).shape[1]
    x, padding = choose_padding(ctx, x, list(ctx.ir(x).shape[2:]), kernel, strides, dilations, pads)
    options = {"padding": padding, "stride_h": int(strides[0]), "stride_w": int(strides[1]),
               "dilation_h_factor": int(dilations[0]), "dilation_w_factor": int(dilations[1]),
               "fused_activation_function": NONE}
    if bias_t is None:
        bias_t = ctx.add_const(np.asarray(bias, np.float32), f"{node.outputs[0]}_bias")
    if group == 1:
        ctx.emit("CONV_2D", [x, _filter(ctx, node, w), bias_t], [y], options, layout="NCHW")
    elif group == in_c and w.shape[1] == 1:
        w_t = _filter(ctx, node, w)
        ctx.emit("DEPTHWISE_CONV_2D", [x, w_t, bias_t], [y],
                 dict(options, depth_multiplier=int(w.shape[0] // in_c)), layout="NCHW")
    else:
        grouped_conv(ctx, node, x, w, bias, bias_t, y, group, options)


def _filter(ctx, node, w) -> int:
    """The filter constant: the initializer itself when unchanged (no copy), else a new one."""
    if ctx.plain_const(node, 1) and ctx.const(node, 1).shape == w.shape:
        return ctx.tensor(node, 1)
    w_t = ctx.add_const(np.asarray(w, np.float32), f"{node.outputs[0]}_filter")
    ctx.release(node, 1)
    return w_t


def grouped_conv(ctx, node, x, w, bias, bias_t, y, group, options):
    """SPLIT the channels, one CONV_2D per group, CONCATENATION of the results."""
    if bias is None:
        raise ctx.unsupported(node, "grouped convolution with a bias computed at run time")
    t = ctx.ir(x)
    n, c = t.shape[:2]
    parts = [ctx.temp((n, c // group) + tuple(t.shape[2:]), t.dtype, f"{node.outputs[0]}_g{k}") for k in range(group)]
    ctx.emit("SPLIT", [ctx.add_const(np.array(1, np.int32), "axis"), x], parts, {"num_splits": group})
    y_shape = tuple(ctx.ir(y).shape)
    o = w.shape[0] // group
    outs = []
    for k, part in enumerate(parts):
        w_k = ctx.add_const(np.asarray(w[k * o:(k + 1) * o], np.float32), f"{node.outputs[0]}_filter{k}")
        b_k = ctx.add_const(np.asarray(bias[k * o:(k + 1) * o], np.float32), f"{node.outputs[0]}_bias{k}")
        outs.append(ctx.temp((y_shape[0], o) + y_shape[2:], ctx.ir(y).dtype, f"{node.outputs[0]}_y{k}"))
        ctx.emit("CONV_2D", [part, w_k, b_k], [outs[-1]], options, layout="NCHW")
    ctx.emit("CONCATENATION", outs, [y], {"axis": 1, "fused_activation_function": NONE})


@rule("ConvTranspose")
def conv_transpose(ctx, node):
    """TRANSPOSE_CONV computing the full output (VALID, output_padding appended at the end), then a
    SLICE for ONNX's pads; SAME directly when the pads are TFLite's."""
    w = ctx.const(node, 1)
    if w is None:
        raise ctx.unsupported(node, "weights computed at run time")
    if w.ndim not in (3, 4):
        raise ctx.unsupported(node, f"{w.ndim - 2}-D transposed convolution")
    group = int(ctx.attr(node, "group", 1))
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    one_d = w.ndim == 3
    n_sp = w.ndim - 2
    if any(d != 1 for d in ctx.attr(node, "dilations", [1] * n_sp)):
        raise ctx.unsupported(node, "dilated transposed convolution")
    in_sizes = list(ctx.ir(x).shape[2:])
    kernel = list(w.shape[2:])
    strides = list(ctx.attr(node, "strides", [1] * n_sp))
    out_pad = list(ctx.attr(node, "output_padding", [0] * n_sp))
    out_sizes = list(ctx.ir(out).shape[2:])
    full = [(i - 1) * s + k + p for i, s, k, p in zip(in_sizes, strides, kernel, out_pad)]
    # the crop at the start of each axis (ONNX pads / auto_pad give out_sizes; the rest is cut at the end)
    begin = _transpose_conv_begin(ctx, node, full, out_sizes, n_sp)
    bias = ctx.const(node, 2) if ctx.has_input(node, 2) else np.zeros(w.shape[1] * group, np.float32)
    if bias is None:
        raise ctx.unsupported(node, "bias computed at run time")
    if one_d:
        x = expand_1d(ctx, x)
        w = w[:, :, None, :]
        kernel, strides, full, begin, out_sizes = ([1] + kernel, [1] + strides, [1] + full, [0] + begin,
                                                   [1] + out_sizes)
    n, o = ctx.ir(out).shape[:2]
    same_begin = [(f - sz) // 2 for f, sz in zip([(i - 1) * s + k for i, s, k in zip(ctx.ir(x).shape[2:], strides,
                                                                                   kernel)], out_sizes)]
    use_same = not any(out_pad) and begin == same_begin and all(
        sz == i * s for sz, i, s in zip(out_sizes, ctx.ir(x).shape[2:], strides))
    target = out_sizes if use_same else full
    y_shape = (n, o) + tuple(target)
    y = ctx.temp(y_shape, ctx.ir(out).dtype, f"{node.outputs[0]}_full")
    options = {"padding": SAME if use_same else VALID, "stride_h": int(strides[0]), "stride_w": int(strides[1]),
               "fused_activation_function": NONE}
    _transpose_conv(ctx, node, x, w, bias, y, group, options)
    if not use_same and tuple(target) != tuple(out_sizes):
        size = (n, o) + tuple(out_sizes)
        y2 = ctx.temp(size, ctx.ir(out).dtype, f"{node.outputs[0]}_cropped") if one_d else out
        ctx.emit("SLICE", [y, ctx.add_const(np.array([0, 0] + begin, np.int32), "begin"),
                           ctx.add_const(np.array(size, np.int32), "size")], [y2])
        y = y2
    if one_d:
        squeeze_1d(ctx, y, out)
    elif y != out:
        from eightbit.importers.onnx.rules.common import reshape

        reshape(ctx, y, ctx.ir(out).shape, out)


def _transpose_conv(ctx, node, x, w, bias, y, group, options):
    """One TRANSPOSE_CONV, or per group: SPLIT the input channels, one each, CONCATENATION."""
    y_shape = tuple(ctx.ir(y).shape)
    if group == 1:
        parts, outs = [x], [y]
    else:
        t = ctx.ir(x)
        c = t.shape[1] // group
        parts = [ctx.temp((t.shape[0], c) + tuple(t.shape[2:]), t.dtype, f"{node.outputs[0]}_g{k}") for k in range(group)]
        ctx.emit("SPLIT", [ctx.add_const(np.array(1, np.int32), "axis"), x], parts, {"num_splits": group})
        outs = [ctx.temp((y_shape[0], y_shape[1] // group) + y_shape[2:], ctx.ir(y).dtype, f"{node.outputs[0]}_y{k}")
                for k in range(group)]
    c_in, o = w.shape[0] // group, w.shape[1]
    for k, (part, out) in enumerate(zip(parts, outs)):
        shape = ctx.ir(out).shape
        inputs = [ctx.add_const(np.array(shape, np.int32), "output_shape"),
                  ctx.add_const(np.asarray(w[k * c_in:(k + 1) * c_in], np.float32), f"{node.outputs[0]}_filter"),
                  part, ctx.add_const(np.asarray(bias[k * o:(k + 1) * o], np.float32), f"{node.outputs[0]}_bias")]
        ctx.emit("TRANSPOSE_CONV", inputs, [out], options, layout="NCHW")
    if group > 1:
        ctx.emit("CONCATENATION", outs, [y], {"axis": 1, "fused_activation_function": NONE})


def _transpose_conv_begin(ctx, node, full, out_sizes, n_sp):
    pads = ctx.attr(node, "pads", None)
    auto_pad = ctx.attr(node, "auto_pad", "NOTSET")
    if "output_shape" in node.attrs or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        # ONNX: SAME_UPPER puts the odd pixel at the end, otherwise at the start
        return [(f - sz) // 2 if auto_pad == "SAME_UPPER" else (f - sz) - (f - sz) // 2
                for f, sz in zip(full, out_sizes)]
    if pads:
        return [int(p) for p in pads[:n_sp]]
    return [0] * n_sp
