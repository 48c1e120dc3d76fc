"""Activations and softmax."""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.rules import rule
from eightbit.importers.onnx.rules.common import binary, norm_axis, reshape, scalar, transpose, unary

SIMPLE = {"Relu": "RELU", "Sigmoid": "LOGISTIC", "Tanh": "TANH", "HardSwish": "HARD_SWISH"}


@rule(*SIMPLE)
def simple(ctx, node):
    unary(ctx, SIMPLE[node.op_type], ctx.tensor(node, 0), ctx.output(node, 0))


def _bound(ctx, node, i, attr):
    if ctx.opset < 11:
        return ctx.attr(node, attr, None)
    if not ctx.has_input(node, i):
        return None
    value = ctx.const(node, i)
    return float(value) if value is not None else ctx.tensor(node, i)


@rule("Clip")
def clip(ctx, node):
    """RELU / RELU6 / RELU_N1_TO_1 for their bounds, else MAXIMUM then MINIMUM."""
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    lo, hi = _bound(ctx, node, 1, "min"), _bound(ctx, node, 2, "max")
    named = {(0.0, None): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}
    key = (lo, hi) if all(v is None or isinstance(v, float) for v in (lo, hi)) else None
    if key in named and np.issubdtype(ctx.ir(x).dtype, np.floating):
        unary(ctx, named[key], x, out)
        return
    if lo is None and hi is None:
        reshape(ctx, x, ctx.ir(out).shape, out)
        return
    y = x
    if lo is not None:
        lo_t = scalar(ctx, lo, x, "clip_min") if isinstance(lo, float) else lo
        y = binary(ctx, "MAXIMUM", y, lo_t, out if hi is None else None)
    if hi is not None:
        hi_t = scalar(ctx, hi, x, "clip_max") if isinstance(hi, float) else hi
        binary(ctx, "MINIMUM", y, hi_t, out)


@rule("LeakyRelu")
def leaky_relu(ctx, node):
    unary(ctx, "LEAKY_RELU", ctx.tensor(node, 0), ctx.output(node, 0), {"alpha": float(ctx.attr(node, "alpha", 0.01))})


@rule("PRelu")
def prelu(ctx, node):
    from eightbit.importers.onnx.rules.common import same_rank

    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    ctx.emit("PRELU", [x, same_rank(ctx, ctx.tensor(node, 1), len(ctx.ir(x).shape))], [out])


def _exp_minus_one_of_negative(ctx, x):
    """exp(min(x, 0)) - 1: the negative branch of ELU/SELU."""
    neg = binary(ctx, "MINIMUM", x, scalar(ctx, 0.0, x))
    return binary(ctx, "SUB", unary(ctx, "EXP", neg), scalar(ctx, 1.0, x))


@rule("Elu")
def elu(ctx, node):
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    alpha = float(ctx.attr(node, "alpha", 1.0))
    if alpha == 1.0:
        unary(ctx, "ELU", x, out)
        return
    negative = binary(ctx, "MUL", _exp_minus_one_of_negative(ctx, x), scalar(ctx, alpha, x))
    binary(ctx, "ADD", unary(ctx, "RELU", x), negative, out)


@rule("Selu")
def selu(ctx, node):
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    alpha = float(ctx.attr(node, "alpha", 1.67326319217681884765625))
    gamma = float(ctx.attr(node, "gamma", 1.05070102214813232421875))
    negative = binary(ctx, "MUL", _exp_minus_one_of_negative(ctx, x), scalar(ctx, alpha, x))
    inner = binary(ctx, "ADD", unary(ctx, "RELU", x), negative)
    binary(ctx, "MUL", inner, scalar(ctx, gamma, x), out)


@rule("Swish")
def swish(ctx, node):
    """x * sigmoid(alpha * x) (opset 24)."""
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    alpha = float(ctx.attr(node, "alpha", 1.0))
    inner = x if alpha == 1.0 else binary(ctx, "MUL", x, scalar(ctx, alpha, x))
    binary(ctx, "MUL", x, unary(ctx, "LOGISTIC", inner), out)


@rule("HardSigmoid")
def hard_sigmoid(ctx, node):
    """max(0, min(1, alpha * x + beta))."""
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    alpha, beta = float(ctx.attr(node, "alpha", 0.2)), float(ctx.attr(node, "beta", 0.5))
    y = binary(ctx, "ADD", binary(ctx, "MUL", x, scalar(ctx, alpha, x)), scalar(ctx, beta, x))
    binary(ctx, "MINIMUM", unary(ctx, "RELU", y), scalar(ctx, 1.0, x), out)


def _softplus(ctx, x, out=None):
    """log(1 + exp(x)) computed as relu(x) + log(1 + exp(-|x|)): no overflow for large x."""
    tail = unary(ctx, "LOG", binary(ctx, "ADD", unary(ctx, "EXP", unary(ctx, "NEG", unary(ctx, "ABS", x))),
                                     scalar(ctx, 1.0, x)))
    return binary(ctx, "ADD", unary(ctx, "RELU", x), tail, out)


@rule("Softplus")
def softplus(ctx, node):
    _softplus(ctx, ctx.tensor(node, 0), ctx.output(node, 0))


@rule("Mish")
def mish(ctx, node):
    x = ctx.tensor(node, 0)
    binary(ctx, "MUL", x, unary(ctx, "TANH", _softplus(ctx, x)), ctx.output(node, 0))


@rule("Gelu")
def gelu(ctx, node):
    approximate = ctx.attr(node, "approximate", "none") == "tanh"
    unary(ctx, "GELU", ctx.tensor(node, 0), ctx.output(node, 0), {"approximate": approximate})


@rule("Softmax", "LogSoftmax")
def softmax(ctx, node):
    """Over the last axis directly; another axis (opset >= 13) through a TRANSPOSE pair; opset < 13's
    'flatten from axis' semantics through a 2-D RESHAPE."""
    op = "SOFTMAX" if node.op_type == "Softmax" else "LOG_SOFTMAX"
    options = {"beta": 1.0} if op == "SOFTMAX" else {}
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    shape = tuple(ctx.ir(x).shape)
    rank = len(shape)
    axis = norm_axis(ctx.attr(node, "axis", -1 if ctx.opset >= 13 else 1), rank)
    if axis == rank - 1:
        unary(ctx, op, x, out, options)
    elif ctx.opset < 13:
        rows = int(np.prod(shape[:axis], dtype=np.int64))
        flat = reshape(ctx, x, (rows, int(np.prod(shape[axis:], dtype=np.int64))))
        reshape(ctx, unary(ctx, op, flat, None, options), shape, out)
    else:
        perm = [d for d in range(rank) if d != axis] + [axis]
        inverse = list(np.argsort(perm))
        moved = unary(ctx, op, transpose(ctx, x, perm), None, options)
        transpose(ctx, moved, inverse, out)
