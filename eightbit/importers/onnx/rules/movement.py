"""Data movement: Concat, Split, Slice, Gather, Transpose, Pad, DepthToSpace, SpaceToDepth."""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.rules import rule
from eightbit.importers.onnx.rules.common import NONE, norm_axis, pad_op, reshape, transpose
from eightbit.importers.onnx.rules.pool import edge_pad


@rule("Concat")
def concat(ctx, node):
    out = ctx.output(node, 0)
    rank = len(ctx.ir(out).shape)
    axis = norm_axis(ctx.attr(node, "axis"), rank)
    ins = [ctx.tensor(node, i) for i in range(len(node.inputs))
           if ctx.has_input(node, i) and 0 not in ctx.shape(node, i)]
    if len(ins) == 1:
        reshape(ctx, ins[0], ctx.ir(out).shape, out)
        return
    ctx.emit("CONCATENATION", ins, [out], {"axis": axis, "fused_activation_function": NONE})


@rule("Split")
def split(ctx, node):
    x = ctx.tensor(node, 0)
    shape = ctx.ir(x).shape
    axis = norm_axis(ctx.attr(node, "axis", 0), len(shape))
    outs = [ctx.output(node, j) for j in range(len(node.outputs))]
    sizes = [ctx.ir(o).shape[axis] for o in outs]
    axis_t = ctx.add_const(np.array(axis, np.int32), "axis")
    if len(set(sizes)) == 1:
        ctx.emit("SPLIT", [axis_t, x], outs, {"num_splits": len(outs)})
    else:
        ctx.emit("SPLIT_V", [x, ctx.add_const(np.array(sizes, np.int32), "size_splits"), axis_t], outs,
                 {"num_splits": len(outs)})


def _slice_params(ctx, node, shape):
    if ctx.opset >= 10:
        starts = ctx.require_const(node, 1, "starts").reshape(-1)
        ends = ctx.require_const(node, 2, "ends").reshape(-1)
        axes = ctx.const(node, 3) if ctx.has_input(node, 3) else None
        steps = ctx.const(node, 4) if ctx.has_input(node, 4) else None
        if (ctx.has_input(node, 3) and axes is None) or (ctx.has_input(node, 4) and steps is None):
            raise ctx.unsupported(node, "axes or steps computed at run time")
    else:
        starts, ends = np.array(ctx.attr(node, "starts")), np.array(ctx.attr(node, "ends"))
        axes, steps = ctx.attr(node, "axes", None), None
    axes = range(len(starts)) if axes is None else [norm_axis(a, len(shape)) for a in np.asarray(axes).reshape(-1)]
    steps = [1] * len(starts) if steps is None else [int(s) for s in np.asarray(steps).reshape(-1)]
    return list(zip(axes, (int(s) for s in starts), (int(e) for e in ends), steps))


@rule("Slice")
def slice_rule(ctx, node):
    """STRIDED_SLICE with every axis's begin/end/stride resolved by Python's slice rules."""
    x = ctx.tensor(node, 0)
    shape = tuple(ctx.ir(x).shape)
    begin, end, strides = [0] * len(shape), list(shape), [1] * len(shape)
    end_mask = 0
    for axis, start, stop, step in _slice_params(ctx, node, shape):
        big = np.iinfo(np.int64).max
        start, stop = max(min(start, big // 2), -big // 2), max(min(stop, big // 2), -big // 2)
        b, e, s = slice(start, stop, step).indices(shape[axis])
        begin[axis], end[axis], strides[axis] = b, e, s
        if e < 0:  # a negative step running past index 0
            end_mask |= 1 << axis
            end[axis] = 0
    dims = [len(range(b, -1 if end_mask >> k & 1 else e, s)) for k, (b, e, s) in enumerate(zip(begin, end, strides))]
    out = ctx.output(node, 0, shape=dims)
    ctx.emit("STRIDED_SLICE", [x, ctx.add_const(np.array(begin, np.int32), "begin"),
                               ctx.add_const(np.array(end, np.int32), "end"),
                               ctx.add_const(np.array(strides, np.int32), "strides")], [out],
             {"begin_mask": 0, "end_mask": end_mask, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0,
              "offset": False})


@rule("Gather")
def gather(ctx, node):
    x = ctx.tensor(node, 0)
    shape = ctx.ir(x).shape
    axis = norm_axis(ctx.attr(node, "axis", 0), len(shape))
    idx = ctx.const(node, 1)
    if idx is not None:
        idx_t = ctx.add_const(np.where(idx < 0, idx + shape[axis], idx).astype(np.int32), "indices")
    else:  # negative indices count from the end: add the axis size where an index is below 0
        idx_t = ctx.tensor(node, 1)
        it = ctx.ir(idx_t)
        zero, size = ctx.add_const(np.array(0, it.dtype), "zero"), ctx.add_const(np.array(shape[axis], it.dtype), "dim")
        negative = ctx.temp(it.shape, np.bool_, "negative")
        ctx.emit("LESS", [idx_t, zero], [negative])
        wrapped = ctx.temp(it.shape, it.dtype, "wrapped")
        ctx.emit("ADD", [idx_t, size], [wrapped], {"fused_activation_function": NONE})
        fixed = ctx.temp(it.shape, it.dtype, "indices")
        ctx.emit("SELECT_V2", [negative, wrapped, idx_t], [fixed])
        idx_t = fixed
    ctx.emit("GATHER", [x, idx_t], [ctx.output(node, 0)], {"axis": axis, "batch_dims": 0})


@rule("Transpose")
def transpose_rule(ctx, node):
    x = ctx.tensor(node, 0)
    rank = len(ctx.ir(x).shape)
    perm = ctx.attr(node, "perm", list(range(rank))[::-1])
    transpose(ctx, x, perm, ctx.output(node, 0))


def _pads(ctx, node, rank):
    if ctx.opset >= 11:
        pads = [int(p) for p in ctx.require_const(node, 1, "pads").reshape(-1)]
        value = ctx.const(node, 2) if ctx.has_input(node, 2) else None
        if ctx.has_input(node, 2) and value is None:
            value = ctx.tensor(node, 2)  # a run-time pad value: PADV2 takes it as an input
        elif value is None or value.size == 0:
            value = 0.0
        else:
            value = value.reshape(-1)[0]
        axes = ctx.const(node, 3) if ctx.has_input(node, 3) else None
    else:
        pads, value, axes = list(ctx.attr(node, "pads")), ctx.attr(node, "value", 0.0), None
    axes = list(range(rank)) if axes is None else [norm_axis(a, rank) for a in axes.reshape(-1)]
    n = len(axes)
    by_axis = [(0, 0)] * rank
    for k, a in enumerate(axes):
        by_axis[a] = (pads[k], pads[n + k])
    return by_axis, value


@rule("Pad")
def pad(ctx, node):
    """constant: PAD / PADV2; edge and reflect: one GATHER per padded axis (exact, no MIRROR_PAD)."""
    x = ctx.tensor(node, 0)
    rank = len(ctx.ir(x).shape)
    by_axis, value = _pads(ctx, node, rank)
    if any(b < 0 or e < 0 for b, e in by_axis):
        raise ctx.unsupported(node, "negative pads")
    mode = ctx.attr(node, "mode", "constant")
    out = ctx.output(node, 0)
    if mode == "constant" and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        y = _padv2_runtime(ctx, x, by_axis, value)
    elif mode == "constant":
        y = pad_op(ctx, x, by_axis, float(value))
    elif mode in ("edge", "reflect"):
        y = x
        for axis, (b, e) in enumerate(by_axis):
            y = edge_pad(ctx, y, axis, b, e, mode)
    else:
        raise ctx.unsupported(node, f"mode {mode!r}")
    _rename(ctx, y, out, x)


def _padv2_runtime(ctx, x, by_axis, value_tensor):
    t = ctx.ir(x)
    shape = [d + b + e for d, (b, e) in zip(t.shape, by_axis)]
    out = ctx.temp(shape, t.dtype, f"{t.name}_padded")
    scalar_value = reshape(ctx, value_tensor, ()) if ctx.ir(value_tensor).shape != () else value_tensor
    ctx.emit("PADV2", [x, ctx.add_const(np.array(by_axis, np.int32), "paddings"), scalar_value], [out])
    return out


def _rename(ctx, y, out, x):
    """Make `out` the result: the last op writes it, or a RESHAPE copies when nothing was emitted."""
    if y == x:
        reshape(ctx, x, ctx.ir(out).shape, out)
        return
    for op in reversed(ctx.builder.sg.operators):
        if y in op.outputs:
            op.outputs = [out if t == y else t for t in op.outputs]
            return


@rule("DepthToSpace")
def depth_to_space(ctx, node):
    """DCR is TFLite's order; CRD first permutes the channels into DCR order with a GATHER."""
    x = ctx.tensor(node, 0)
    b = int(ctx.attr(node, "blocksize"))
    n, c, h, w = ctx.ir(x).shape
    if ctx.attr(node, "mode", "DCR") == "CRD":
        c_out = c // (b * b)
        # DCR channel (by*b + bx) * c_out + k holds CRD channel k * b*b + (by*b + bx)
        order = np.array([k * b * b + blk for blk in range(b * b) for k in range(c_out)], np.int32)
        y = ctx.temp((n, c, h, w), ctx.ir(x).dtype, f"{node.outputs[0]}_dcr")
        ctx.emit("GATHER", [x, ctx.add_const(order, "channel_order")], [y], {"axis": 1, "batch_dims": 0})
        x = y
    ctx.emit("DEPTH_TO_SPACE", [x], [ctx.output(node, 0)], {"block_size": b}, layout="NCHW")


@rule("SpaceToDepth")
def space_to_depth(ctx, node):
    """TFLite's order is DCR; a CRD mode (opset 25) permutes the channels after, with a GATHER."""
    b = int(ctx.attr(node, "blocksize"))
    out = ctx.output(node, 0)
    crd = ctx.attr(node, "mode", "DCR") == "CRD"
    y = ctx.temp(ctx.ir(out).shape, ctx.ir(out).dtype, f"{node.outputs[0]}_dcr") if crd else out
    ctx.emit("SPACE_TO_DEPTH", [ctx.tensor(node, 0)], [y], {"block_size": b}, layout="NCHW")
    if crd:
        c = ctx.shape(node, 0)[1]
        # CRD channel k * b*b + blk comes from DCR channel blk * c + k
        order = np.array([blk * c + k for k in range(c) for blk in range(b * b)], np.int32)
        ctx.emit("GATHER", [y, ctx.add_const(order, "channel_order")], [out], {"axis": 1, "batch_dims": 0})
