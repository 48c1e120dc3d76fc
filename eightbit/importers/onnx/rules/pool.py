"""MaxPool, AveragePool (pads, ceil_mode, count_include_pad), the global pools."""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.rules import rule
from eightbit.importers.onnx.rules.common import NONE, SAME, VALID, binary, conv_padding, pad_op, tflite_same_pads
from eightbit.importers.onnx.rules.conv import expand_1d, squeeze_1d, widen, widen_pads


def edge_pad(ctx, x: int, axis: int, before: int, after: int, mode: str = "edge") -> int:
    """Pad one axis by repeating (edge) or mirroring (reflect) its values: one GATHER, exact."""
    if before == 0 and after == 0:
        return x
    t = ctx.ir(x)
    n = t.shape[axis]
    idx = np.arange(-before, n + after)
    if mode == "edge":
        idx = np.clip(idx, 0, n - 1)
    else:  # reflect without repeating the edge: -1 -> 1, n -> n - 2
        period = 2 * (n - 1) if n > 1 else 1
        idx = np.abs(idx) % period
        idx = np.where(idx >= n, period - idx, idx)
    shape = list(t.shape)
    shape[axis] = idx.size
    out = ctx.temp(shape, t.dtype, f"{t.name}_{mode}pad")
    ctx.emit("GATHER", [x, ctx.add_const(idx.astype(np.int32), "pad_indices")], [out], {"axis": axis, "batch_dims": 0})
    return out


def _pool_setup(ctx, node):
    """(x, out, one_d, kernel, strides, pads[b.., e..] including ceil_mode's extra end pads)."""
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    kernel = list(ctx.attr(node, "kernel_shape"))
    if len(kernel) not in (1, 2):
        raise ctx.unsupported(node, f"{len(kernel)}-D pooling")
    if any(d != 1 for d in ctx.attr(node, "dilations", [1] * len(kernel))):
        raise ctx.unsupported(node, "dilated pooling")
    if len(node.outputs) > 1 and node.outputs[1]:
        raise ctx.unsupported(node, "the Indices output")
    strides = list(ctx.attr(node, "strides", [1] * len(kernel)))
    in_sizes = list(ctx.ir(x).shape[2:])
    pads = conv_padding(in_sizes, kernel, strides, [1] * len(kernel), ctx.attr(node, "pads", None),
                        ctx.attr(node, "auto_pad", "NOTSET"))
    explicit = list(pads)
    n = len(kernel)
    out_sizes = list(ctx.ir(out).shape[2:])
    for a in range(n):  # ceil_mode: the last window may start inside the data and run past the pads
        needed = (out_sizes[a] - 1) * strides[a] + kernel[a] - (in_sizes[a] + pads[a] + pads[n + a])
        pads[n + a] += max(needed, 0)
    one_d = n == 1
    if one_d:
        x = expand_1d(ctx, x)
        kernel, strides, in_sizes, out_sizes = widen(kernel, 1), widen(strides, 1), [1] + in_sizes, [1] + out_sizes
        pads, explicit = widen_pads(pads), widen_pads(explicit)
    return x, out, one_d, kernel, strides, pads, explicit, in_sizes, out_sizes


def _finish(ctx, node, out, one_d, op_type, x, kernel, strides, padding, scale=None):
    t_out = ctx.ir(out)
    n, c = t_out.shape[:2]
    sizes = (1,) + tuple(t_out.shape[2:]) if one_d else tuple(t_out.shape[2:])
    direct = not one_d and scale is None
    y = out if direct else ctx.temp((n, c) + sizes, t_out.dtype, f"{node.outputs[0]}_pool")
    options = {"padding": padding, "stride_h": int(strides[0]), "stride_w": int(strides[1]),
               "filter_height": int(kernel[0]), "filter_width": int(kernel[1]), "fused_activation_function": NONE}
    ctx.emit(op_type, [x], [y], options, layout="NCHW")
    if scale is not None:
        y = binary(ctx, "MUL", y, ctx.add_const(scale.astype(np.float32), "avgpool_count_fix"),
                   None if one_d else out)
    if one_d:
        squeeze_1d(ctx, y, out)


@rule("MaxPool")
def max_pool(ctx, node):
    """Padding that is not TFLite's SAME is done by repeating edge values (exact for a max)."""
    x, out, one_d, kernel, strides, pads, _, in_sizes, _ = _pool_setup(ctx, node)
    if not any(pads):
        padding = VALID
    elif pads == tflite_same_pads(in_sizes, kernel, strides, [1, 1]):
        padding = SAME
    else:
        x = edge_pad(ctx, edge_pad(ctx, x, 2, pads[0], pads[2]), 3, pads[1], pads[3])
        padding = VALID
    _finish(ctx, node, out, one_d, "MAX_POOL_2D", x, kernel, strides, padding)


def _divisors(size, k, s, pb, pe, out, include_pad):
    """ONNX's per-window element count along one axis (windows clipped to the padded extent)."""
    start = np.arange(out) * s - pb
    end = np.minimum(start + k, size + pe)
    if include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, size) - np.maximum(start, 0)).astype(np.float64)


@rule("AveragePool")
def average_pool(ctx, node):
    """VALID / SAME when they match; otherwise zero PAD, VALID pool and a constant count correction."""
    x, out, one_d, kernel, strides, pads, explicit, in_sizes, out_sizes = _pool_setup(ctx, node)
    include_pad = bool(ctx.attr(node, "count_include_pad", 0))
    if not any(pads):
        _finish(ctx, node, out, one_d, "AVERAGE_POOL_2D", x, kernel, strides, VALID)
        return
    if not include_pad and pads == tflite_same_pads(in_sizes, kernel, strides, [1, 1]):
        _finish(ctx, node, out, one_d, "AVERAGE_POOL_2D", x, kernel, strides, SAME)
        return
    rank = len(ctx.ir(x).shape)
    x = pad_op(ctx, x, [(0, 0)] * (rank - 2) + [(pads[0], pads[2]), (pads[1], pads[3])])
    counts = [_divisors(in_sizes[a], kernel[a], strides[a], explicit[a], explicit[2 + a], out_sizes[a], include_pad)
              for a in range(2)]
    scale = (kernel[0] * kernel[1]) / np.outer(counts[0], counts[1])
    scale = None if np.all(scale == 1.0) else scale.reshape((1, 1) + scale.shape)
    _finish(ctx, node, out, one_d, "AVERAGE_POOL_2D", x, kernel, strides, VALID, scale)


@rule("GlobalAveragePool", "GlobalMaxPool")
def global_pool(ctx, node):
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    axes = list(range(2, len(ctx.ir(x).shape)))
    op = "MEAN" if node.op_type == "GlobalAveragePool" else "REDUCE_MAX"
    ctx.emit(op, [x, ctx.add_const(np.array(axes, np.int32), "axes")], [out], {"keep_dims": True})
