"""Elementwise arithmetic, comparisons and logic."""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.rules import rule
from eightbit.importers.onnx.rules.common import binary, scalar, unary

BINARY = {
    "Add": "ADD", "Sub": "SUB", "Mul": "MUL", "Div": "DIV",
    "Equal": "EQUAL", "Less": "LESS", "Greater": "GREATER",
    "LessOrEqual": "LESS_EQUAL", "GreaterOrEqual": "GREATER_EQUAL",
}
UNARY = {"Sqrt": "SQRT", "Neg": "NEG", "Abs": "ABS", "Exp": "EXP", "Log": "LOG", "Floor": "FLOOR",
         "Ceil": "CEIL", "Round": "ROUND", "Sin": "SIN", "Cos": "COS"}


@rule(*BINARY)
def elementwise_binary(ctx, node):
    binary(ctx, BINARY[node.op_type], ctx.tensor(node, 0), ctx.tensor(node, 1), ctx.output(node, 0))


@rule(*UNARY)
def elementwise_unary(ctx, node):
    unary(ctx, UNARY[node.op_type], ctx.tensor(node, 0), ctx.output(node, 0))


@rule("Reciprocal")
def reciprocal(ctx, node):
    x = ctx.tensor(node, 0)
    binary(ctx, "DIV", scalar(ctx, 1, x, "one"), x, ctx.output(node, 0))


@rule("Pow")
def power(ctx, node):
    """Small constant exponents become products / SQRT / DIV (exact); others need POW."""
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    e = ctx.const(node, 1)
    if e is not None and e.size == 1 and np.issubdtype(ctx.dtype(node, 0), np.floating):
        e = float(e.reshape(-1)[0])
        if e == 1.0:
            ctx.emit("RESHAPE", [x, ctx.add_const(np.array(ctx.ir(out).shape, np.int32), "shape")], [out])
            return
        if e == 2.0:
            binary(ctx, "MUL", x, x, out)
            return
        if e == 3.0:
            binary(ctx, "MUL", binary(ctx, "MUL", x, x), x, out)
            return
        if e == 0.5:
            unary(ctx, "SQRT", x, out)
            return
        if e == -1.0:
            binary(ctx, "DIV", scalar(ctx, 1, x, "one"), x, out)
            return
        if e == -0.5:
            unary(ctx, "RSQRT", x, out)
            return
    binary(ctx, "POW", x, ctx.tensor(node, 1), out, options={})


@rule("Sign")
def sign(ctx, node):
    """sign(x) = (x > 0) - (x < 0), exact with comparisons, CAST and SUB."""
    _sign(ctx, ctx.tensor(node, 0), ctx.output(node, 0))


def _sign(ctx, x, out=None):
    zero = scalar(ctx, 0, x, "zero")
    t = ctx.ir(x)
    pos = unary(ctx, "CAST", binary(ctx, "GREATER", x, zero), ctx.temp(t.shape, t.dtype, "pos"))
    neg = unary(ctx, "CAST", binary(ctx, "LESS", x, zero), ctx.temp(t.shape, t.dtype, "neg"))
    return binary(ctx, "SUB", pos, neg, out)


@rule("Max", "Min", "Sum", "Mean")
def variadic(ctx, node):
    """Max/Min/Sum over any number of inputs as a chain of binary ops (Mean divides by the count)."""
    op = {"Max": "MAXIMUM", "Min": "MINIMUM", "Sum": "ADD", "Mean": "ADD"}[node.op_type]
    ins = [ctx.tensor(node, i) for i in range(len(node.inputs)) if ctx.has_input(node, i)]
    out = ctx.output(node, 0)
    if len(ins) == 1:
        ctx.emit("RESHAPE", [ins[0], ctx.add_const(np.array(ctx.ir(out).shape, np.int32), "shape")], [out])
        return
    acc = ins[0]
    last = len(ins) - 1 if node.op_type != "Mean" else len(ins)
    for k, x in enumerate(ins[1:], 1):
        acc = binary(ctx, op, acc, x, out if k == last else None)
    if node.op_type == "Mean":
        binary(ctx, "MUL", acc, scalar(ctx, 1.0 / len(ins), acc, "inv_count"), out)


@rule("Where")
def where(ctx, node):
    c, a, b = (ctx.tensor(node, i) for i in range(3))
    out = ctx.output(node, 0)
    rank = len(ctx.ir(out).shape)
    from eightbit.importers.onnx.rules.common import same_rank

    ctx.emit("SELECT_V2", [same_rank(ctx, c, rank), same_rank(ctx, a, rank), same_rank(ctx, b, rank)], [out])


@rule("Not")
def logical_not(ctx, node):
    """not x == (x == False): EQUAL runs on booleans."""
    x = ctx.tensor(node, 0)
    binary(ctx, "EQUAL", x, ctx.add_const(np.array(False), "false"), ctx.output(node, 0))


@rule("And", "Or", "Xor")
def logical(ctx, node):
    """Xor is NOT_EQUAL on booleans; And / Or are MINIMUM / MAXIMUM of the booleans as int32
    (exact), compared with 0 again."""
    a, b, out = ctx.tensor(node, 0), ctx.tensor(node, 1), ctx.output(node, 0)
    if node.op_type == "Xor":
        binary(ctx, "NOT_EQUAL", a, b, out)
        return
    ints = []
    for x in (a, b):
        t = ctx.ir(x)
        ints.append(unary(ctx, "CAST", x, ctx.temp(t.shape, np.int32, f"{t.name}_int"),
                          {"in_data_type": 6, "out_data_type": 2}))
    both = binary(ctx, "MINIMUM" if node.op_type == "And" else "MAXIMUM", *ints)
    binary(ctx, "NOT_EQUAL", both, ctx.add_const(np.array(0, np.int32), "zero"), out)


@rule("Erf")
def erf(ctx, node):
    """erf without a builtin: Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), sign restored.

    The exporters' GELU pattern (x * 0.5 * (1 + erf(x / sqrt 2))) is fused to GELU before
    lowering, so this only runs for a standalone Erf."""
    x, out = ctx.tensor(node, 0), ctx.output(node, 0)
    p, coef = 0.3275911, (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
    ax = unary(ctx, "ABS", x)
    t = binary(ctx, "DIV", scalar(ctx, 1.0, x), binary(ctx, "ADD", binary(ctx, "MUL", ax, scalar(ctx, p, x)),
                                                         scalar(ctx, 1.0, x)))
    poly = binary(ctx, "MUL", t, scalar(ctx, coef[4], x))
    for c in reversed(coef[:4]):
        poly = binary(ctx, "MUL", binary(ctx, "ADD", poly, scalar(ctx, c, x)), t)
    gauss = unary(ctx, "EXP", unary(ctx, "NEG", binary(ctx, "MUL", ax, ax)))
    magnitude = binary(ctx, "SUB", scalar(ctx, 1.0, x), binary(ctx, "MUL", poly, gauss))
    binary(ctx, "MUL", magnitude, _sign(ctx, x), out)  # erf is odd
