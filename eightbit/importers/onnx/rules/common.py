"""Helpers shared by the rule modules (not a rule module itself)."""

from __future__ import annotations

import numpy as np

NONE = 0  # fused_activation_function NONE
SAME, VALID = 0, 1  # TFLite Padding


def norm_axis(axis: int, rank: int) -> int:
    axis = int(axis)
    return axis + rank if axis < 0 else axis


def same_rank(ctx, idx: int, rank: int) -> int:
    """Give a lower-rank (non-scalar) operand leading 1-dimensions so broadcasting is rank-equal."""
    t = ctx.ir(idx)
    if len(t.shape) >= rank or len(t.shape) == 0:
        return idx
    shape = (1,) * (rank - len(t.shape)) + tuple(t.shape)
    if t.is_constant:
        return ctx.add_const(t.data.reshape(shape), f"{t.name}_r{rank}")
    return reshape(ctx, idx, shape)


def reshape(ctx, idx: int, shape, out: int | None = None) -> int:
    shape = tuple(int(d) for d in shape)
    if out is None:
        out = ctx.temp(shape, ctx.ir(idx).dtype, f"{ctx.ir(idx).name}_reshaped")
    ctx.emit("RESHAPE", [idx, ctx.add_const(np.array(shape, np.int32), "shape")], [out],
             {"new_shape": list(shape)})
    return out


def transpose(ctx, idx: int, perm, out: int | None = None) -> int:
    perm = [int(p) for p in perm]
    src = ctx.ir(idx)
    if out is None:
        out = ctx.temp([src.shape[p] for p in perm], src.dtype, f"{src.name}_transposed")
    ctx.emit("TRANSPOSE", [idx, ctx.add_const(np.array(perm, np.int32), "perm")], [out])
    return out


def binary(ctx, op_type: str, a: int, b: int, out: int | None = None, options=None) -> int:
    """Elementwise binary op with rank-equal broadcasting; returns the output index."""
    ta, tb = ctx.ir(a), ctx.ir(b)
    rank = max(len(ta.shape), len(tb.shape))
    a, b = same_rank(ctx, a, rank), same_rank(ctx, b, rank)
    if out is None:
        shape = np.broadcast_shapes(tuple(ctx.ir(a).shape), tuple(ctx.ir(b).shape))
        dtype = np.bool_ if op_type in COMPARISONS else ta.dtype
        out = ctx.temp(shape, dtype, f"{ta.name}_{op_type.lower()}")
    if options is None:
        options = {"fused_activation_function": NONE} if op_type in FUSED_BINARY else {}
    ctx.emit(op_type, [a, b], [out], options)
    return out


def unary(ctx, op_type: str, x: int, out: int | None = None, options=None) -> int:
    if out is None:
        t = ctx.ir(x)
        out = ctx.temp(t.shape, t.dtype, f"{t.name}_{op_type.lower()}")
    ctx.emit(op_type, [x], [out], options or {})
    return out


def scalar(ctx, value, like: int, hint: str = "c") -> int:
    """A rank-0 constant of `like`'s dtype."""
    return ctx.add_const(np.asarray(value, ctx.ir(like).dtype), hint)


COMPARISONS = frozenset({"EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"})
FUSED_BINARY = frozenset({"ADD", "SUB", "MUL", "DIV"})


def conv_padding(in_sizes, kernel, strides, dilations, pads, auto_pad: str):
    """Explicit ONNX pads [b0, b1, ..., e0, e1, ...] for a conv/pool, resolving auto_pad."""
    n = len(in_sizes)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, k, s, d in zip(in_sizes, kernel, strides, dilations):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            small, big = total // 2, total - total // 2
            begin.append(small if auto_pad == "SAME_UPPER" else big)
            end.append(big if auto_pad == "SAME_UPPER" else small)
        return begin + end
    if auto_pad == "VALID":
        return [0] * (2 * n)
    return list(pads) if pads else [0] * (2 * n)


def tflite_same_pads(in_sizes, kernel, strides, dilations):
    """The pads TFLite's SAME padding uses (extra pixel at the end), as [b0, b1, e0, e1]."""
    begin, end = [], []
    for size, k, s, d in zip(in_sizes, kernel, strides, dilations):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


def pad_op(ctx, x: int, pads_by_axis, value: float = 0.0) -> int:
    """PAD (or PADV2 for a non-zero value): pads_by_axis [(before, after)] for every dimension."""
    t = ctx.ir(x)
    shape = [d + b + e for d, (b, e) in zip(t.shape, pads_by_axis)]
    out = ctx.temp(shape, t.dtype, f"{t.name}_padded")
    paddings = ctx.add_const(np.array(pads_by_axis, np.int32), "paddings")
    if value == 0:
        ctx.emit("PAD", [x, paddings], [out])
    else:
        ctx.emit("PADV2", [x, paddings, ctx.add_const(np.array(value, t.dtype), "pad_value")], [out])
    return out
