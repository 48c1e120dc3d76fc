"""Reductions (axes as attribute or input) and ArgMax / ArgMin."""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.rules import rule
from eightbit.importers.onnx.rules.common import binary, norm_axis, reshape, unary

REDUCE = {"ReduceMean": "MEAN", "ReduceSum": "SUM", "ReduceMax": "REDUCE_MAX", "ReduceMin": "REDUCE_MIN",
          "ReduceProd": "REDUCE_PROD", "ReduceL2": "SUM", "ReduceSumSquare": "SUM", "ReduceL1": "SUM",
          "ReduceLogSumExp": "SUM", "ReduceLogSum": "SUM"}
# opset from which `axes` is an input instead of an attribute
AXES_INPUT_OPSET = {"ReduceSum": 13}


def reduce_axes(ctx, node, rank: int):
    """The reduced axes (normalized, sorted) or None for 'no reduction' (noop_with_empty_axes)."""
    if ctx.opset >= AXES_INPUT_OPSET.get(node.op_type, 18):
        axes = ctx.require_const(node, 1, "axes") if ctx.has_input(node, 1) else None
    else:
        axes = ctx.attr(node, "axes", None)
    if axes is None or len(axes) == 0:
        if ctx.attr(node, "noop_with_empty_axes", 0):
            return None
        return list(range(rank))
    return sorted({norm_axis(a, rank) for a in np.asarray(axes).reshape(-1)})


@rule(*REDUCE)
def reduce(ctx, node):
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    rank = len(ctx.ir(x).shape)
    axes = reduce_axes(ctx, node, rank)
    keep = bool(ctx.attr(node, "keepdims", 1))
    kind = node.op_type
    if kind in ("ReduceL2", "ReduceSumSquare"):
        x = binary(ctx, "MUL", x, x)
    elif kind == "ReduceL1":
        x = unary(ctx, "ABS", x)
    elif kind == "ReduceLogSumExp":
        x = unary(ctx, "EXP", x)
    if axes is None:
        reshape(ctx, x, ctx.ir(out).shape, out)
        return
    if kind == "ReduceProd":
        _reduce_prod(ctx, node, x, axes, out)
        return
    post = kind in ("ReduceL2", "ReduceLogSumExp", "ReduceLogSum")
    y = ctx.temp(ctx.ir(out).shape, ctx.ir(out).dtype, f"{node.outputs[0]}_sum") if post else out
    ctx.emit(REDUCE[kind], [x, ctx.add_const(np.array(axes, np.int32), "axes")], [y], {"keep_dims": keep})
    if post:
        unary(ctx, "SQRT" if kind == "ReduceL2" else "LOG", y, out)


MAX_PROD_AXIS = 256


def _reduce_prod(ctx, node, x, axes, out):
    """TFLite's REDUCE_PROD has no reference kernel here: SPLIT each reduced axis into its slices
    and multiply them (exact: the same products)."""
    acc = x
    for axis in axes:
        t = ctx.ir(acc)
        n = t.shape[axis]
        if n > MAX_PROD_AXIS:
            raise ctx.unsupported(node, f"a product over {n} elements (at most {MAX_PROD_AXIS})")
        if n == 1:
            continue
        shape = list(t.shape)
        shape[axis] = 1
        parts = [ctx.temp(shape, t.dtype, f"{node.outputs[0]}_slice{k}") for k in range(n)]
        ctx.emit("SPLIT", [ctx.add_const(np.array(axis, np.int32), "axis"), acc], parts, {"num_splits": n})
        acc = parts[0]
        for p in parts[1:]:
            acc = binary(ctx, "MUL", acc, p)
    reshape(ctx, acc, ctx.ir(out).shape, out)


@rule("ArgMax", "ArgMin")
def arg_max_min(ctx, node):
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    shape = tuple(ctx.ir(x).shape)
    axis = norm_axis(ctx.attr(node, "axis", 0), len(shape))
    last = bool(ctx.attr(node, "select_last_index", 0))
    if last:  # the first index in the reversed axis is the last one: n - 1 - i
        x = _reverse(ctx, x, axis)
    keep = bool(ctx.attr(node, "keepdims", 1))
    op = "ARG_MAX" if node.op_type == "ArgMax" else "ARG_MIN"
    reduced = shape[:axis] + shape[axis + 1:]
    y = ctx.temp(reduced, np.int64, f"{node.outputs[0]}_arg") if (keep or last) else out
    ctx.emit(op, [x, ctx.add_const(np.array([axis], np.int32), "axis")], [y], {"output_type": 4})  # INT64
    if last:
        y = binary(ctx, "SUB", ctx.add_const(np.array(shape[axis] - 1, np.int64), "last"), y,
                   None if keep else out)
    if keep:
        ctx.emit("EXPAND_DIMS", [y, ctx.add_const(np.array(axis, np.int32), "axis")], [out])


def _reverse(ctx, x, axis):
    t = ctx.ir(x)
    n = len(t.shape)
    begin, end, strides = [0] * n, list(t.shape), [1] * n
    begin[axis], end[axis], strides[axis] = t.shape[axis] - 1, 0, -1
    out = ctx.temp(t.shape, t.dtype, f"{t.name}_reversed")
    ctx.emit("STRIDED_SLICE", [x, ctx.add_const(np.array(begin, np.int32), "begin"),
                               ctx.add_const(np.array(end, np.int32), "end"),
                               ctx.add_const(np.array(strides, np.int32), "strides")], [out],
             {"begin_mask": 0, "end_mask": 1 << axis, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0,
              "offset": False})
    return out


@rule("CumSum")
def cumsum(ctx, node):
    """A running sum is a product with a triangular matrix of ones: FULLY_CONNECTED over the last
    axis (other axes through a TRANSPOSE pair). exclusive / reverse choose the triangle."""
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    shape = tuple(ctx.ir(x).shape)
    if not np.issubdtype(ctx.ir(x).dtype, np.floating):
        raise ctx.unsupported(node, "integer cumulative sum")
    axis = norm_axis(int(ctx.require_const(node, 1, "axis").reshape(-1)[0]), len(shape))
    n = shape[axis]
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")  # out[j] = sum_i x[i] * tri[i, j]
    exclusive, reverse = bool(ctx.attr(node, "exclusive", 0)), bool(ctx.attr(node, "reverse", 0))
    if reverse:
        tri = (i > j) if exclusive else (i >= j)
    else:
        tri = (i < j) if exclusive else (i <= j)
    from eightbit.importers.onnx.rules.common import transpose
    from eightbit.importers.onnx.rules.matmul import fully_connected

    last = axis == len(shape) - 1
    perm = [d for d in range(len(shape)) if d != axis] + [axis]
    src = x if last else transpose(ctx, x, perm)
    y = out if last else ctx.temp(ctx.ir(src).shape, ctx.ir(x).dtype, f"{node.outputs[0]}_cumsum")
    fully_connected(ctx, src, tri.T.astype(np.float32), None, y, True, node.outputs[0])
    if not last:
        transpose(ctx, y, list(np.argsort(perm)), out)
