"""Gemm, MatMul and Einsum's matrix-product patterns."""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.rules import rule
from eightbit.importers.onnx.rules.common import NONE, binary, reshape, same_rank, scalar, transpose


def fully_connected(ctx, x: int, weights, bias, out: int, keep_num_dims: bool, hint: str) -> int:
    """FULLY_CONNECTED with weights [N, K] (TFLite's layout; an array, or a tensor index) and a float bias [N]."""
    w_t = weights if isinstance(weights, int) else ctx.add_const(np.asarray(weights, np.float32), f"{hint}_weights")
    n = ctx.ir(w_t).shape[0]
    b = np.zeros(n, np.float32) if bias is None else np.asarray(bias, np.float32)
    b_t = ctx.add_const(b, f"{hint}_bias")
    ctx.emit("FULLY_CONNECTED", [x, w_t, b_t], [out],
             {"fused_activation_function": NONE, "weights_format": 0, "keep_num_dims": keep_num_dims,
              "asymmetric_quantize_inputs": False})
    return out


def batch_matmul(ctx, a: int, b: int, out: int | None = None, adj_x=False, adj_y=False) -> int:
    ta, tb = ctx.ir(a), ctx.ir(b)
    rank = max(len(ta.shape), len(tb.shape))
    a, b = same_rank(ctx, a, rank), same_rank(ctx, b, rank)
    if out is None:
        sa, sb = ctx.ir(a).shape, ctx.ir(b).shape
        m = sa[-1] if adj_x else sa[-2]
        n = sb[-2] if adj_y else sb[-1]
        batch = np.broadcast_shapes(tuple(sa[:-2]), tuple(sb[:-2]))
        out = ctx.temp(tuple(batch) + (m, n), ta.dtype, f"{ta.name}_matmul")
    ctx.emit("BATCH_MATMUL", [a, b], [out], {"adj_x": bool(adj_x), "adj_y": bool(adj_y),
                                             "asymmetric_quantize_inputs": False})
    return out


@rule("Gemm")
def gemm(ctx, node):
    """alpha * A' B' + beta * C: FULLY_CONNECTED for a constant B (alpha folded into the
    weights, a vector C into the bias), BATCH_MATMUL otherwise."""
    alpha, beta = float(ctx.attr(node, "alpha", 1.0)), float(ctx.attr(node, "beta", 1.0))
    trans_a, trans_b = int(ctx.attr(node, "transA", 0)), int(ctx.attr(node, "transB", 0))
    a, out = ctx.tensor(node, 0), ctx.output(node, 0)
    if trans_a:
        a = transpose(ctx, a, [1, 0])
    b_const, c_const = ctx.const(node, 1), ctx.const(node, 2)
    n = ctx.ir(out).shape[1]
    c_is_vector = c_const is not None and c_const.size in (1, n) and (c_const.ndim <= 1 or c_const.shape[0] == 1)
    has_c = ctx.has_input(node, 2)
    if b_const is not None:
        if trans_b and alpha == 1.0 and ctx.plain_const(node, 1):
            weights = ctx.tensor(node, 1)  # already [N, K]: shared, not copied
        else:
            weights = b_const if trans_b else b_const.T
            weights = weights * np.float32(alpha) if alpha != 1.0 else weights
        if not has_c or c_is_vector:
            bias = None if not has_c else np.broadcast_to(c_const.reshape(-1) * beta, (n,))
            fully_connected(ctx, a, weights, bias, out, False, node.outputs[0])
            ctx.release(node, 1)
            return
        y = fully_connected(ctx, a, weights, None, ctx.temp(ctx.ir(out).shape, np.float32, "gemm_ab"),
                            False, node.outputs[0])
    else:
        y = batch_matmul(ctx, a, ctx.tensor(node, 1), None if (has_c or alpha != 1.0) else out, adj_y=bool(trans_b))
        if alpha != 1.0:
            y = binary(ctx, "MUL", y, scalar(ctx, alpha, y, "alpha"), None if has_c else out)
        if not has_c:
            return
    c = ctx.tensor(node, 2)
    if beta != 1.0:
        c = binary(ctx, "MUL", c, scalar(ctx, beta, c, "beta"))
    binary(ctx, "ADD", y, c, out)


@rule("MatMul")
def matmul(ctx, node):
    """FULLY_CONNECTED (keep_num_dims) for a constant 2-D right operand, BATCH_MATMUL otherwise."""
    a, out = ctx.tensor(node, 0), ctx.output(node, 0)
    b_const = ctx.const(node, 1)
    a_rank = len(ctx.ir(a).shape)
    if a_rank == 1 or ctx.rank(node, 1) == 1:
        _vector_matmul(ctx, node, a, out)
        return
    if b_const is not None and b_const.ndim == 2 and np.issubdtype(b_const.dtype, np.floating):
        fully_connected(ctx, a, b_const.T, None, out, True, node.outputs[0])
        ctx.release(node, 1)
        return
    batch_matmul(ctx, a, ctx.tensor(node, 1), out)


def _vector_matmul(ctx, node, a, out):
    """numpy's 1-D rules: a 1-D operand gains a unit dimension that the result drops again."""
    b = ctx.tensor(node, 1)
    sa, sb = tuple(ctx.ir(a).shape), tuple(ctx.ir(b).shape)
    if len(sa) == 1:
        a = reshape(ctx, a, (1,) + sa)
    if len(sb) == 1:
        b = reshape(ctx, b, sb + (1,))
    y = batch_matmul(ctx, a, b)
    reshape(ctx, y, ctx.ir(out).shape, out)


def _parse_einsum(equation: str):
    eq = equation.replace(" ", "")
    if "->" not in eq or "." in eq:
        return None
    lhs, rhs = eq.split("->")
    ops = lhs.split(",")
    if len(ops) not in (1, 2) or any(len(set(o)) != len(o) for o in ops + [rhs]):
        return None
    return (*ops, rhs)


@rule("Einsum")
def einsum(ctx, node):
    """Two-operand contractions: transpose to [batch, free, contracted], BATCH_MATMUL, reshape back."""
    parsed = _parse_einsum(ctx.attr(node, "equation"))
    if parsed is None or len(parsed) != len(node.inputs) + 1:
        raise ctx.unsupported(node, f"equation {ctx.attr(node, 'equation')!r} (one or two operands, explicit "
                                    "output, no ellipsis or repeated index)")
    if len(parsed) == 2:
        _einsum_unary(ctx, node, *parsed)
        return
    sa, sb, so = parsed
    batch = [c for c in so if c in sa and c in sb]
    contracted = [c for c in sa if c in sb and c not in so]
    free_a = [c for c in sa if c not in sb]
    free_b = [c for c in sb if c not in sa]
    if any(c not in so for c in free_a + free_b) or sorted(so) != sorted(batch + free_a + free_b):
        raise ctx.unsupported(node, f"equation {ctx.attr(node, 'equation')!r} (reduces a single operand's axis)")
    a, b, out = ctx.tensor(node, 0), ctx.tensor(node, 1), ctx.output(node, 0)
    dims = dict(zip(sa, ctx.ir(a).shape))
    dims.update(zip(sb, ctx.ir(b).shape))
    size = lambda letters: int(np.prod([dims[c] for c in letters], dtype=np.int64))  # noqa: E731
    a = _arrange(ctx, a, sa, batch + free_a + contracted, [dims[c] for c in batch] + [size(free_a), size(contracted)])
    b = _arrange(ctx, b, sb, batch + contracted + free_b, [dims[c] for c in batch] + [size(contracted), size(free_b)])
    y = batch_matmul(ctx, a, b)
    order = batch + free_a + free_b
    y_shape = [dims[c] for c in order]
    if order == list(so):
        reshape(ctx, y, y_shape, out)
        return
    y = reshape(ctx, y, y_shape)
    transpose(ctx, y, [order.index(c) for c in so], out)


def _einsum_unary(ctx, node, sa, so):
    """One operand: SUM over the letters the output drops, then TRANSPOSE to the output order."""
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    dropped = [k for k, c in enumerate(sa) if c not in so]
    kept = [c for c in sa if c in so]
    if dropped:
        shape = [d for k, d in enumerate(ctx.ir(x).shape) if k not in dropped]
        y = out if kept == list(so) else ctx.temp(shape, ctx.ir(x).dtype, "einsum_sum")
        ctx.emit("SUM", [x, ctx.add_const(np.array(dropped, np.int32), "axes")], [y], {"keep_dims": False})
        x = y
    if kept != list(so):
        transpose(ctx, x, [kept.index(c) for c in so], out)
    elif not dropped:
        reshape(ctx, x, ctx.ir(out).shape, out)


def _arrange(ctx, x, letters, order, shape):
    if list(letters) != order:
        x = transpose(ctx, x, [letters.index(c) for c in order])
    if tuple(ctx.ir(x).shape) != tuple(shape):
        x = reshape(ctx, x, shape)
    return x
