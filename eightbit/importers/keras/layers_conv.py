"""Dense, convolutions and pooling: Keras weights rearranged into TFLite's layouts.

Keras kernels: Dense [in, out]; ConvND [*k, in/groups, out]; DepthwiseConv2D [kh, kw, in, mult];
Conv2DTranspose [kh, kw, out, in]. TFLite: FULLY_CONNECTED [out, in]; CONV_2D [out, kh, kw, in];
DEPTHWISE_CONV_2D [1, kh, kw, in*mult]; TRANSPOSE_CONV [out, kh, kw, in]. 1-D layers run as the
2-D builtin on [N, 1, L, C] between EXPAND_DIMS and SQUEEZE, as TF's converter lowers them.
"""

from __future__ import annotations

import numpy as np

from eightbit.importers.keras import activations
from eightbit.importers.keras.emitter import Emitter, T, to_numpy

SAME, VALID = 0, 1


def weights(layer) -> dict:
    """The layer's own weights by short name ('kernel', 'bias', 'gamma', ...)."""
    out = {}
    for v in layer.weights:
        key = v.path.split("/")[-1] if hasattr(v, "path") else v.name.split("/")[-1].split(":")[0]
        out[key] = to_numpy(v)
    return out


def _conv_out(size, k, stride, dilation, padding):
    eff = (k - 1) * dilation + 1
    return -(-size // stride) if padding == "same" else (size - eff) // stride + 1


def check_channels_last(layer):
    fmt = getattr(layer, "data_format", "channels_last")
    return None if fmt in (None, "channels_last") else f"data_format={fmt!r} (only channels_last)"


def check_conv(layer):
    reason = check_channels_last(layer)
    if reason:
        return reason
    if layer.padding not in ("same", "valid", "causal"):
        return f"padding={layer.padding!r}"
    act = activations.activation_name(getattr(layer, "activation", None))
    if not activations.known(act):
        return f"activation {act!r}"
    return None


def to_2d(em: Emitter, x: T) -> T:
    """[N, L, C] -> [N, 1, L, C]."""
    return em.op("EXPAND_DIMS", [x, em.ints([1], "axis")], (x.shape[0], 1, *x.shape[1:]))


def from_2d(em: Emitter, x: T) -> T:
    return em.op("SQUEEZE", [x], (x.shape[0], *x.shape[2:]), {"squeeze_dims": [1]})


def _causal_pad(em: Emitter, x: T, k, dilation) -> T:
    left = (k - 1) * dilation
    pads = [[0, 0], [left, 0], [0, 0]]
    return em.op("PAD", [x, em.const(np.asarray(pads, np.int32), np.int32, "paddings")],
                 (x.shape[0], x.shape[1] + left, x.shape[2]))


def conv2d_op(em: Emitter, x: T, kernel, bias, strides, dilation, padding) -> T:
    """CONV_2D with a Keras [kh, kw, in, out] kernel."""
    kh, kw, _, out = kernel.shape
    w = np.transpose(kernel, (3, 0, 1, 2))
    b = np.zeros(out, np.float32) if bias is None else bias
    oh = _conv_out(x.shape[1], kh, strides[0], dilation[0], padding)
    ow = _conv_out(x.shape[2], kw, strides[1], dilation[1], padding)
    opts = {"padding": SAME if padding == "same" else VALID, "stride_h": int(strides[0]), "stride_w": int(strides[1]),
            "dilation_h_factor": int(dilation[0]), "dilation_w_factor": int(dilation[1])}
    return em.op("CONV_2D", [x, em.const(w, name="kernel"), em.const(b, name="bias")], (x.shape[0], oh, ow, out), opts)


def depthwise_op(em: Emitter, x: T, kernel, bias, strides, dilation, padding) -> T:
    """DEPTHWISE_CONV_2D with a Keras [kh, kw, in, mult] kernel."""
    kh, kw, cin, mult = kernel.shape
    w = kernel.reshape(1, kh, kw, cin * mult)
    b = np.zeros(cin * mult, np.float32) if bias is None else bias
    oh = _conv_out(x.shape[1], kh, strides[0], dilation[0], padding)
    ow = _conv_out(x.shape[2], kw, strides[1], dilation[1], padding)
    opts = {"padding": SAME if padding == "same" else VALID, "stride_h": int(strides[0]), "stride_w": int(strides[1]),
            "dilation_h_factor": int(dilation[0]), "dilation_w_factor": int(dilation[1]), "depth_multiplier": int(mult)}
    return em.op("DEPTHWISE_CONV_2D", [x, em.const(w, name="kernel"), em.const(b, name="bias")],
                 (x.shape[0], oh, ow, cin * mult), opts)


def _as_2d(layer, kernel, x: T, em: Emitter):
    """For a 1-D layer: the [1, k, ...] kernel, (1, s) strides, (1, d) dilation, padding, x as 2-D."""
    strides, dilation = tuple(layer.strides), tuple(layer.dilation_rate)
    padding = layer.padding
    if len(strides) == 2:
        return kernel, strides, dilation, padding, x
    if padding == "causal":
        x = _causal_pad(em, x, kernel.shape[0], dilation[0])
        padding = "valid"
    return kernel[None], (1, strides[0]), (1, dilation[0]), padding, to_2d(em, x)


def grouped_conv(em: Emitter, x: T, kernel, bias, strides, dilation, padding, groups) -> T:
    """groups == channels with out = mult * channels is DEPTHWISE_CONV_2D; otherwise SPLIT, one
    CONV_2D per group, CONCATENATION."""
    kh, kw, per_group, out = kernel.shape
    cin = x.shape[3]
    if per_group == 1 and groups == cin:
        mult = out // cin
        return depthwise_op(em, x, kernel.reshape(kh, kw, cin, mult), bias, strides, dilation, padding)
    split_shape = (*x.shape[:3], per_group)
    parts = em.op("SPLIT", [em.ints([3], "axis"), x], [split_shape] * groups, {"num_splits": groups})
    step = out // groups
    ys = [conv2d_op(em, part, kernel[..., g * step:(g + 1) * step],
                    None if bias is None else bias[g * step:(g + 1) * step], strides, dilation, padding)
          for g, part in enumerate(parts)]
    return em.concat(ys, 3)


def conv(em: Emitter, layer, x: T) -> T:
    w = weights(layer)
    one_d = np.asarray(w["kernel"]).ndim == 3
    kernel, strides, dilation, padding, x2 = _as_2d(layer, w["kernel"], x, em)
    groups = getattr(layer, "groups", 1)
    if groups == 1:
        y = conv2d_op(em, x2, kernel, w.get("bias"), strides, dilation, padding)
    else:
        y = grouped_conv(em, x2, kernel, w.get("bias"), strides, dilation, padding, groups)
    act = activations.activation_name(layer.activation)
    if one_d:
        y = from_2d(em, y)
        return activations.emit(em, y, act, fuse=False)
    return activations.emit(em, y, act, fuse=True)


def depthwise(em: Emitter, layer, x: T) -> T:
    w = weights(layer)
    one_d = w["kernel"].ndim == 3
    kernel, strides, dilation, padding, x2 = _as_2d(layer, w["kernel"], x, em)
    y = depthwise_op(em, x2, kernel, w.get("bias"), strides, dilation, padding)
    act = activations.activation_name(layer.activation)
    if one_d:
        return activations.emit(em, from_2d(em, y), act, fuse=False)
    return activations.emit(em, y, act, fuse=True)


def separable(em: Emitter, layer, x: T) -> T:
    w = weights(layer)
    one_d = w["depthwise_kernel"].ndim == 3
    kernel, strides, dilation, padding, x2 = _as_2d(layer, w["depthwise_kernel"], x, em)
    y = depthwise_op(em, x2, kernel, None, strides, dilation, padding)
    point = w["pointwise_kernel"]
    if point.ndim == 3:
        point = point[None]
    y = conv2d_op(em, y, point, w.get("bias"), (1, 1), (1, 1), "valid")
    act = activations.activation_name(layer.activation)
    if one_d:
        return activations.emit(em, from_2d(em, y), act, fuse=False)
    return activations.emit(em, y, act, fuse=True)


def conv_transpose(em: Emitter, layer, call) -> T:
    """TRANSPOSE_CONV with the output shape Keras computed (it fixes TFLite's padding)."""
    x, out_shape = call.x, call.out_shapes[0]
    w = weights(layer)
    kernel = w["kernel"]
    one_d = kernel.ndim == 3
    strides = tuple(layer.strides)
    if one_d:
        kernel, strides, x = kernel[None], (1, strides[0]), to_2d(em, x)
        out_shape = (out_shape[0], 1, *out_shape[1:])
    filt = np.transpose(kernel, (2, 0, 1, 3))  # [kh, kw, out, in] -> [out, kh, kw, in]
    cout = filt.shape[0]
    bias = w.get("bias", np.zeros(cout, np.float32))
    shape = em.ints(out_shape, "output_shape")
    opts = {"padding": SAME if layer.padding == "same" else VALID, "stride_h": int(strides[0]),
            "stride_w": int(strides[1])}
    y = em.op("TRANSPOSE_CONV", [shape, em.const(filt, name="kernel"), x, em.const(bias, name="bias")],
              tuple(out_shape), opts)
    act = activations.activation_name(layer.activation)
    if one_d:
        return activations.emit(em, from_2d(em, y), act, fuse=False)
    return activations.emit(em, y, act, fuse=True)


def check_conv_transpose(layer):
    reason = check_conv(layer)
    if reason:
        return reason
    if any(d != 1 for d in layer.dilation_rate):
        return f"dilation_rate={tuple(layer.dilation_rate)}"
    return None


def conv3d(em: Emitter, layer, x: T) -> T:
    """Conv3D without a CONV_3D kernel: per output depth, the kd input slices it reads are joined on
    channels and one CONV_2D with the [O, kh, kw, kd*C] kernel computes it (the same sum); PACK on depth."""
    w = weights(layer)
    kernel = w["kernel"]  # [kd, kh, kw, C, O]
    kd, kh, kw, cin, cout = kernel.shape
    (sd, sh, sw), (dd, dh, dw) = tuple(layer.strides), tuple(layer.dilation_rate)
    n, depth = x.shape[0], x.shape[1]
    out_d = _conv_out(depth, kd, sd, dd, layer.padding)
    if layer.padding == "same":
        total = max((out_d - 1) * sd + (kd - 1) * dd + 1 - depth, 0)
        pads = [(0, 0), (total // 2, total - total // 2), (0, 0), (0, 0), (0, 0)]
        shape = list(x.shape)
        shape[1] += total
        x = em.op("PAD", [x, em.const(np.asarray(pads, np.int32), np.int32, "paddings")], shape)
    slices = em.op("UNPACK", [x], [(n, *x.shape[2:])] * x.shape[1], {"num": x.shape[1], "axis": 1})
    w2 = np.transpose(kernel, (1, 2, 0, 3, 4)).reshape(kh, kw, kd * cin, cout)  # channels ordered (k, c)
    planes = []
    for d in range(out_d):
        joined = em.concat([slices[d * sd + k * dd] for k in range(kd)], 3) if kd > 1 else slices[d * sd]
        planes.append(conv2d_op(em, joined, w2, w.get("bias"), (sh, sw), (dh, dw), layer.padding))
    p = planes[0].shape
    y = em.op("PACK", planes, (n, out_d, *p[1:]), {"values_count": out_d, "axis": 1})
    return activations.emit(em, y, activations.activation_name(layer.activation))


def check_conv3d(layer):
    return check_conv(layer) or (f"groups={layer.groups}" if layer.groups != 1 else None)


def dense(em: Emitter, layer, x: T) -> T:
    w = weights(layer)
    y = em.fully_connected(x, w["kernel"].T, w.get("bias"))
    return activations.emit(em, y, activations.activation_name(layer.activation), fuse=True)


def _einsum_split(equation: str):
    """'...b,bc->...c' / 'abc,cde->abde' -> (lhs, kernel, out) with '...' as one placeholder letter."""
    eq = equation.replace(" ", "").replace("...", "#")
    inputs, out = eq.split("->")
    lhs, ker = inputs.split(",")
    return lhs, ker, out


def einsum_dense(em: Emitter, layer, x: T) -> T:
    """EinsumDense contracting the input's last axis with the kernel's first (every projection
    Keras builds: attention heads, Dense over the last axis): FULLY_CONNECTED, RESHAPE, ADD bias."""
    lhs, ker, out = _einsum_split(layer.equation)
    w = weights(layer)
    kernel = w["kernel"]
    y = em.fully_connected(x, kernel.reshape(kernel.shape[0], -1).T, None)
    y = em.reshape(y, (*x.shape[:-1], *kernel.shape[1:]))
    if "bias" in w:
        y = em.binary("ADD", y, em.const(w["bias"], name="bias"))
    return activations.emit(em, y, activations.activation_name(layer.activation))


def check_einsum_dense(layer):
    lhs, ker, out = _einsum_split(layer.equation)
    if not (ker[0] == lhs[-1] and ker[0] not in out and out == lhs[:-1] + ker[1:]):
        return f"equation {layer.equation!r} (only contractions of the input's last axis)"
    return check_dense(layer)


def adaptive_pool(em: Emitter, layer, x: T, op_type: str) -> T:
    """Adaptive pooling with output sizes dividing the input's: a plain pool with kernel = stride."""
    (h, w), (oh, ow) = x.shape[1:3], layer.output_size
    if h % oh or w % ow:
        raise NotImplementedError(f"output size {(oh, ow)} does not divide the input's {(h, w)}")
    kh, kw = h // oh, w // ow
    opts = {"padding": VALID, "stride_h": kh, "stride_w": kw, "filter_height": kh, "filter_width": kw}
    return em.op(op_type, [x], (x.shape[0], *layer.output_size, x.shape[3]), opts)


def check_adaptive_pool(layer):
    return check_channels_last(layer)


def check_dense(layer):
    if getattr(layer, "lora_enabled", False):
        return "LoRA weights (merge them first)"
    if getattr(layer, "quantization_mode", None):
        return f"quantization_mode={layer.quantization_mode!r}"
    act = activations.activation_name(layer.activation)
    return None if activations.known(act) else f"activation {act!r}"


def pool(em: Emitter, layer, x: T, op_type: str) -> T:
    size, strides = tuple(layer.pool_size), tuple(layer.strides)
    one_d = len(size) == 1
    if one_d:
        size, strides, x = (1, size[0]), (1, strides[0]), to_2d(em, x)
    oh = _conv_out(x.shape[1], size[0], strides[0], 1, layer.padding)
    ow = _conv_out(x.shape[2], size[1], strides[1], 1, layer.padding)
    opts = {"padding": SAME if layer.padding == "same" else VALID, "stride_h": int(strides[0]),
            "stride_w": int(strides[1]), "filter_height": int(size[0]), "filter_width": int(size[1])}
    y = em.op(op_type, [x], (x.shape[0], oh, ow, x.shape[3]), opts)
    return from_2d(em, y) if one_d else y


def global_pool(em: Emitter, layer, x: T, op_type: str) -> T:
    return em.reduce(op_type, x, list(range(1, x.rank - 1)), bool(layer.keepdims))


RULES = {
    "Dense": (dense, check_dense),
    "Conv1D": (conv, check_conv), "Conv2D": (conv, check_conv),
    "DepthwiseConv1D": (depthwise, check_conv), "DepthwiseConv2D": (depthwise, check_conv),
    "SeparableConv1D": (separable, check_conv), "SeparableConv2D": (separable, check_conv),
    "MaxPooling1D": (lambda em, la, x: pool(em, la, x, "MAX_POOL_2D"), check_channels_last),
    "MaxPooling2D": (lambda em, la, x: pool(em, la, x, "MAX_POOL_2D"), check_channels_last),
    "AveragePooling1D": (lambda em, la, x: pool(em, la, x, "AVERAGE_POOL_2D"), check_channels_last),
    "AveragePooling2D": (lambda em, la, x: pool(em, la, x, "AVERAGE_POOL_2D"), check_channels_last),
    "GlobalAveragePooling1D": (lambda em, la, x: global_pool(em, la, x, "MEAN"), check_channels_last),
    "GlobalAveragePooling2D": (lambda em, la, x: global_pool(em, la, x, "MEAN"), check_channels_last),
    "GlobalAveragePooling3D": (lambda em, la, x: global_pool(em, la, x, "MEAN"), check_channels_last),
    "GlobalMaxPooling1D": (lambda em, la, x: global_pool(em, la, x, "REDUCE_MAX"), check_channels_last),
    "GlobalMaxPooling2D": (lambda em, la, x: global_pool(em, la, x, "REDUCE_MAX"), check_channels_last),
    "GlobalMaxPooling3D": (lambda em, la, x: global_pool(em, la, x, "REDUCE_MAX"), check_channels_last),
    "Conv3D": (conv3d, check_conv3d),
    "EinsumDense": (einsum_dense, check_einsum_dense),
    "AdaptiveAveragePooling2D": (lambda em, la, x: adaptive_pool(em, la, x, "AVERAGE_POOL_2D"), check_adaptive_pool),
    "AdaptiveMaxPooling2D": (lambda em, la, x: adaptive_pool(em, la, x, "MAX_POOL_2D"), check_adaptive_pool),
    "Conv1DTranspose": (conv_transpose, check_conv_transpose, "call"),
    "Conv2DTranspose": (conv_transpose, check_conv_transpose, "call"),
}
