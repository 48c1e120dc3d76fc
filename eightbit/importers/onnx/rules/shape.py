"""Shape arithmetic (folded to constants: every shape is static) and reshaping ops."""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.rules import rule
from eightbit.importers.onnx.rules.common import norm_axis, reshape

TFLITE_TYPE_CODE = {np.dtype(np.float32): 0, np.dtype(np.float16): 1, np.dtype(np.int32): 2, np.dtype(np.uint8): 3,
                    np.dtype(np.int64): 4, np.dtype(np.bool_): 6, np.dtype(np.int16): 7, np.dtype(np.int8): 9,
                    np.dtype(np.float64): 10}


@rule("Shape")
def shape(ctx, node):
    dims = ctx.shape(node, 0)
    rank = len(dims)
    start = int(ctx.attr(node, "start", 0))
    end = ctx.attr(node, "end", None)
    start = max(0, min(rank, start + rank if start < 0 else start))
    end = rank if end is None else max(0, min(rank, int(end) + rank if int(end) < 0 else int(end)))
    ctx.fold(node, 0, np.array(dims[start:end], np.int64))


@rule("Size")
def size(ctx, node):
    ctx.fold(node, 0, np.array(int(np.prod(ctx.shape(node, 0), dtype=np.int64)), np.int64))


@rule("Identity", "Dropout")
def identity(ctx, node):
    training = ctx.const(node, 2) if node.op_type == "Dropout" else None
    if node.op_type == "Dropout" and ctx.has_input(node, 2) and (training is None or bool(training)):
        raise ctx.unsupported(node, "training mode (random)")
    ctx.alias(node, 0, ctx.tensor(node, 0))
    if len(node.outputs) > 1 and node.outputs[1]:  # inference: nothing dropped, the mask is all True
        ctx.fold(node, 1, np.ones(ctx.shape(node, 0), np.bool_))


@rule("Reshape")
def reshape_rule(ctx, node):
    x = ctx.tensor(node, 0)
    target = ctx.const(node, 1)
    if target is not None:
        in_shape = ctx.shape(node, 0)
        allow_zero = bool(ctx.attr(node, "allowzero", 0))
        dims = [in_shape[k] if (d == 0 and not allow_zero) else int(d) for k, d in enumerate(target.reshape(-1))]
        if -1 in dims:
            known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
            dims[dims.index(-1)] = int(np.prod(in_shape, dtype=np.int64)) // max(known, 1)
        out = ctx.output(node, 0, shape=dims)
    else:
        out = ctx.output(node, 0)
    reshape(ctx, x, ctx.ir(out).shape, out)


@rule("Flatten")
def flatten(ctx, node):
    in_shape = ctx.shape(node, 0)
    axis = norm_axis(ctx.attr(node, "axis", 1), len(in_shape))
    dims = (int(np.prod(in_shape[:axis], dtype=np.int64)), int(np.prod(in_shape[axis:], dtype=np.int64)))
    reshape(ctx, ctx.tensor(node, 0), dims, ctx.output(node, 0, shape=dims))


def _axes(ctx, node, since_opset: int):
    if ctx.opset >= since_opset:
        return None if not ctx.has_input(node, 1) else [int(a) for a in ctx.require_const(node, 1, "axes").reshape(-1)]
    axes = ctx.attr(node, "axes", None)
    return None if axes is None else [int(a) for a in axes]


@rule("Squeeze")
def squeeze(ctx, node):
    in_shape = ctx.shape(node, 0)
    axes = _axes(ctx, node, 13)
    axes = [k for k, d in enumerate(in_shape) if d == 1] if axes is None else sorted(
        norm_axis(a, len(in_shape)) for a in axes)
    dims = [d for k, d in enumerate(in_shape) if k not in axes]
    out = ctx.output(node, 0, shape=dims)
    ctx.emit("SQUEEZE", [ctx.tensor(node, 0)], [out], {"squeeze_dims": axes})


@rule("Unsqueeze")
def unsqueeze(ctx, node):
    in_shape = list(ctx.shape(node, 0))
    axes = _axes(ctx, node, 13)
    if axes is None:
        raise ctx.unsupported(node, "no axes")
    rank = len(in_shape) + len(axes)
    axes = sorted(norm_axis(a, rank) for a in axes)
    dims = list(in_shape)
    for a in axes:
        dims.insert(a, 1)
    out = ctx.output(node, 0, shape=dims)
    if len(axes) == 1:
        ctx.emit("EXPAND_DIMS", [ctx.tensor(node, 0), ctx.add_const(np.array(axes[0], np.int32), "axis")], [out])
    else:
        reshape(ctx, ctx.tensor(node, 0), dims, out)


@rule("Expand")
def expand(ctx, node):
    target = ctx.require_const(node, 1, "shape")
    in_shape = ctx.shape(node, 0)
    dims = np.broadcast_shapes(tuple(in_shape), tuple(int(d) for d in target.reshape(-1)))
    out = ctx.output(node, 0, shape=dims)
    from eightbit.importers.onnx.rules.common import same_rank

    x = same_rank(ctx, ctx.tensor(node, 0), len(dims))
    if tuple(ctx.ir(x).shape) == tuple(dims):
        reshape(ctx, x, dims, out)
        return
    ctx.emit("BROADCAST_TO", [x, ctx.add_const(np.array(dims, np.int32), "shape")], [out])


@rule("Tile")
def tile(ctx, node):
    reps = ctx.require_const(node, 1, "repeats").reshape(-1)
    ctx.emit("TILE", [ctx.tensor(node, 0), ctx.add_const(reps.astype(np.int32), "multiples")], [ctx.output(node, 0)])


@rule("ConstantOfShape")
def constant_of_shape(ctx, node):
    dims = [int(d) for d in ctx.require_const(node, 0, "shape").reshape(-1)]
    value = ctx.attr(node, "value", np.zeros(1, np.float32))
    ctx.fold(node, 0, np.full(dims, np.asarray(value).reshape(-1)[0], np.asarray(value).dtype))


@rule("Cast", "CastLike")
def cast(ctx, node):
    from onnx import helper

    if node.op_type == "Cast":
        to = np.dtype(helper.tensor_dtype_to_np_dtype(int(ctx.attr(node, "to"))))
    else:
        to = ctx.dtype(node, 1)
    if to == np.float16:
        to = np.dtype(np.float32)  # float16 models run as float32
    x = ctx.tensor(node, 0)
    src = ctx.ir(x).dtype
    if src == to:
        ctx.alias(node, 0, x)
        return
    if to not in TFLITE_TYPE_CODE:
        raise ctx.unsupported(node, f"cast to {to}")
    out = ctx.output(node, 0, dtype=to)
    ctx.emit("CAST", [x], [out], {"in_data_type": TFLITE_TYPE_CODE.get(src, 0), "out_data_type": TFLITE_TYPE_CODE[to]})


@rule("If")
def if_constant(ctx, node):
    """An If whose condition is known at import time (exporters' shape checks): its branch inlined."""
    cond = ctx.const(node, 0)
    if cond is None:
        raise ctx.unsupported(node, "condition computed at run time (control flow)")
    from eightbit.importers.onnx.importer import lower_branch

    branch = ctx.attr(node, "then_branch" if bool(np.asarray(cond).reshape(-1)[0]) else "else_branch")
    for j, name in enumerate(lower_branch(ctx, branch)):
        if name in ctx.consts and name not in ctx.values:
            ctx.fold(node, j, ctx.consts[name])
        else:
            ctx.alias(node, j, ctx.value_tensor(name))
