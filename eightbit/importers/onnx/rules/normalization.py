"""BatchNormalization, InstanceNormalization, LayerNormalization, GroupNormalization."""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.rules import rule
from eightbit.importers.onnx.rules.common import binary, norm_axis, reshape, scalar, unary


def _channel_const(ctx, value, rank: int, hint: str) -> int:
    """A per-channel vector [C] as [1, C, 1, ...] of the activation's rank."""
    return ctx.add_const(np.asarray(value, np.float32).reshape((1, -1) + (1,) * (rank - 2)), hint)


@rule("BatchNormalization")
def batch_norm(ctx, node):
    """Inference form: x * s + (B - mean * s), s = scale / sqrt(var + eps): one MUL and one ADD."""
    if len([o for o in node.outputs if o]) > 1:
        raise ctx.unsupported(node, "training mode (running mean / variance outputs)")
    consts = [ctx.const(node, i) for i in range(1, 5)]
    if any(c is None for c in consts):
        _runtime_batch_norm(ctx, node)
        return
    scale, bias, mean, var = (np.asarray(c, np.float64) for c in consts)
    eps = float(ctx.attr(node, "epsilon", 1e-5))
    s = scale / np.sqrt(var + eps)
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    rank = len(ctx.ir(x).shape)
    y = binary(ctx, "MUL", x, _channel_const(ctx, s, rank, f"{node.outputs[0]}_scale"))
    binary(ctx, "ADD", y, _channel_const(ctx, bias - mean * s, rank, f"{node.outputs[0]}_shift"), out)


def _runtime_batch_norm(ctx, node):
    """(x - mean) * scale * rsqrt(var + eps) + B with the per-channel vectors fed at run time."""
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    rank = len(ctx.ir(x).shape)
    c = ctx.ir(x).shape[1]
    scale, bias, mean, var = (reshape(ctx, ctx.tensor(node, i), (1, c) + (1,) * (rank - 2)) for i in range(1, 5))
    eps = scalar(ctx, float(ctx.attr(node, "epsilon", 1e-5)), x, "eps")
    s = binary(ctx, "MUL", scale, unary(ctx, "RSQRT", binary(ctx, "ADD", var, eps)))
    binary(ctx, "ADD", binary(ctx, "MUL", binary(ctx, "SUB", x, mean), s), bias, out)


def normalize(ctx, x: int, axes, eps: float, out: int | None = None, stats=None) -> int:
    """(x - mean) / sqrt(var + eps) over `axes` (kept): MEAN, SUB, MUL, MEAN, ADD, RSQRT, MUL."""
    axes_t = ctx.add_const(np.array(axes, np.int32), "norm_axes")
    t = ctx.ir(x)
    kept = tuple(1 if d in axes else s for d, s in enumerate(t.shape))
    mean = ctx.temp(kept, t.dtype, f"{t.name}_mean")
    ctx.emit("MEAN", [x, axes_t], [mean], {"keep_dims": True})
    centered = binary(ctx, "SUB", x, mean)
    var = ctx.temp(kept, t.dtype, f"{t.name}_var")
    ctx.emit("MEAN", [binary(ctx, "MUL", centered, centered), axes_t], [var], {"keep_dims": True})
    inv = unary(ctx, "RSQRT", binary(ctx, "ADD", var, scalar(ctx, eps, x, "eps")), (stats or {}).get("inv"))
    if stats is not None:
        stats["mean"] = mean
    return binary(ctx, "MUL", centered, inv, out)


def _affine(ctx, y: int, scale: int | None, bias: int | None, out: int) -> None:
    if scale is None and bias is None:
        reshape(ctx, y, ctx.ir(out).shape, out)
        return
    if scale is not None:
        y = binary(ctx, "MUL", y, scale, out if bias is None else None)
    if bias is not None:
        binary(ctx, "ADD", y, bias, out)


@rule("InstanceNormalization")
def instance_norm(ctx, node):
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    rank = len(ctx.ir(x).shape)
    y = normalize(ctx, x, list(range(2, rank)), float(ctx.attr(node, "epsilon", 1e-5)))
    scale, bias = ctx.const(node, 1), ctx.const(node, 2)
    if scale is None or bias is None:
        raise ctx.unsupported(node, "scale or bias computed at run time")
    _affine(ctx, y, _channel_const(ctx, scale, rank, "in_scale"), _channel_const(ctx, bias, rank, "in_bias"), out)


@rule("LayerNormalization")
def layer_norm(ctx, node):
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    rank = len(ctx.ir(x).shape)
    axis = norm_axis(ctx.attr(node, "axis", -1), rank)
    stats = {}
    if len(node.outputs) > 2 and node.outputs[2]:
        stats["inv"] = ctx.output(node, 2)
    y = normalize(ctx, x, list(range(axis, rank)), float(ctx.attr(node, "epsilon", 1e-5)), stats=stats)
    if len(node.outputs) > 1 and node.outputs[1]:
        ctx.alias(node, 1, stats["mean"])
    scale = ctx.tensor(node, 1)
    bias = ctx.tensor(node, 2) if ctx.has_input(node, 2) else None
    _affine(ctx, y, scale, bias, out)


@rule("GroupNormalization")
def group_norm(ctx, node):
    """Reshape [N, C, ...] to [N, G, C/G * ...], normalize the last axis, reshape back, per-channel affine."""
    x = ctx.tensor(node, 0)
    out = ctx.output(node, 0, shape=ctx.ir(x).shape)
    shape = tuple(ctx.ir(x).shape)
    groups = int(ctx.attr(node, "num_groups"))
    grouped = reshape(ctx, x, (shape[0], groups, int(np.prod(shape[1:], dtype=np.int64)) // groups))
    y = reshape(ctx, normalize(ctx, grouped, [2], float(ctx.attr(node, "epsilon", 1e-5))), shape)
    scale, bias = ctx.const(node, 1), ctx.const(node, 2)
    if scale is None or bias is None:
        raise ctx.unsupported(node, "scale or bias computed at run time")
    c = shape[1]
    if scale.size != c:  # opset 18: one value per group
        scale, bias = np.repeat(scale, c // groups), np.repeat(bias, c // groups)
    rank = len(shape)
    _affine(ctx, y, _channel_const(ctx, scale, rank, "gn_scale"), _channel_const(ctx, bias, rank, "gn_bias"), out)
