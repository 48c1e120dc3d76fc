"""Generators for one-input elementwise ops: activations, ABS/SQRT/RSQRT/LOG/EXP/NEG, softmaxes,
L2 normalization, QUANTIZE and DEQUANTIZE."""

from __future__ import annotations

import numpy as np

from tests.fuzz.common import DTYPE, NONE, QT, Gen, T, make_case


def _shape(g: Gen, lo_rank=1, hi_rank=5, hi=6):
    rank = g.int(lo_rank, hi_rank)
    return g.dims(rank, 1, hi)


def _unary(g: Gen, op: str, kind: str, out_q=None, options=None, in_q=None, shape=None, data=None,
           out_kind=None, resolver="ref", lo_rank=1, hi_rank=5, **kw):
    """One input, one output of the input's shape. out_q: (scale, zp), "same", "free" or None (float)."""
    shape = shape or _shape(g, lo_rank, hi_rank)
    file_shape, feed_shape = g.batch_resize(shape)
    out_kind = out_kind or kind
    if in_q is None:
        in_q = g.qparams(kind)
    if kind in ("float32",):
        oq = (None, None)
    elif out_q == "same" or out_q is None:
        oq = in_q
    elif out_q == "free":
        oq = (g.rel_scale(in_q[0]), g.zp(out_kind))
    else:
        oq = out_q
    x = data if data is not None else g.data(kind, feed_shape, in_q[1] or 0)
    if data is not None and tuple(data.shape) != tuple(feed_shape):
        x = np.resize(data, feed_shape)
    g.note(shape=tuple(feed_shape), in_q=in_q, out_q=oq)
    return make_case(g, op, kind, [QT(file_shape, kind, in_q)], [QT(file_shape, out_kind, oq)], [x], options,
                     resolver=resolver, **kw)


def generic(g, kind, op):
    """Any elementwise op of one input (the registry uses it for table ops without their own)."""
    return _unary(g, op, kind, "free")


def relu(g, kind):
    return _unary(g, "RELU", kind, "free")


def relu6(g, kind):
    return _unary(g, "RELU6", kind, "free")


def relu_n1_to_1(g, kind):
    return _unary(g, "RELU_N1_TO_1", kind, "free")


def leaky_relu(g, kind):
    alpha = float(np.float32(g.pick([0.1, 0.2, 0.01, 0.5, 1.0, 1.5, -0.3, g.rng.uniform(-2, 2), 0.0, 1e-5, 30.0,
                                     -7.0])))
    g.note(alpha=alpha)
    return _unary(g, "LEAKY_RELU", kind, "free", {"alpha": alpha})


def hard_swish(g, kind):
    in_q = g.qparams(kind)
    out_q = None
    if kind != "float32":  # TFLite's Prepare needs input_scale / 128 < output_scale
        out_q = (max(g.rel_scale(in_q[0]), float(np.float32(in_q[0] / 100.0))), g.zp(kind))
    return _unary(g, "HARD_SWISH", kind, out_q, in_q=in_q)


def elu(g, kind):
    # LiteRT's BUILTIN_REF resolver has no ELU; its builtin resolver (without delegates) does.
    return _unary(g, "ELU", kind, "free", resolver="default")


def gelu(g, kind):
    approximate = g.coin()
    g.note(approximate=approximate)
    return _unary(g, "GELU", kind, "free", {"approximate": approximate})


FIXED = {
    "LOGISTIC": {"int8": (1 / 256, -128), "uint8": (1 / 256, 0), "int16": (1 / 32768, 0)},
    "TANH": {"int8": (1 / 128, 0), "uint8": (1 / 128, 128), "int16": (1 / 32768, 0)},
    "SOFTMAX": {"int8": (1 / 256, -128), "uint8": (1 / 256, 0), "int16": (1 / 32768, 0)},
    "LOG_SOFTMAX": {"int8": (16 / 256, 127), "uint8": (16 / 256, 255)},
    "L2_NORMALIZATION": {"int8": (1 / 128, 0), "uint8": (1 / 128, 128)},
}


def logistic(g, kind):
    return _unary(g, "LOGISTIC", kind, FIXED["LOGISTIC"].get(kind))


def tanh(g, kind):
    return _unary(g, "TANH", kind, FIXED["TANH"].get(kind))


def softmax(g, kind):
    beta = float(np.float32(g.pick([1.0, 1.0, 0.5, 2.0, g.loguniform(0.05, 5.0), g.loguniform(5.0, 100.0)])))
    out_kind = kind
    out_q = FIXED["SOFTMAX"].get(kind)
    in_q = g.qparams(kind, 1e-4, 1e3)
    if kind in ("int8", "uint8") and g.coin(0.3):  # 8-bit in, int16 out
        out_kind, out_q = "int16", (1 / 32768, 0)
    if kind != "float32" and in_q[0] * beta < 1e-4:
        in_q = (1e-4 / beta, in_q[1])  # LiteRT aborts on a tiny input_scale * beta (int8)
    g.note(beta=beta, out_kind=out_kind)
    return _unary(g, "SOFTMAX", kind, out_q, {"beta": beta}, in_q=in_q, out_kind=out_kind)


def log_softmax(g, kind):
    in_q = g.qparams(kind, 1e-4, 1e3)
    return _unary(g, "LOG_SOFTMAX", kind, FIXED["LOG_SOFTMAX"].get(kind), in_q=in_q)


def l2_normalization(g, kind):
    return _unary(g, "L2_NORMALIZATION", kind, FIXED["L2_NORMALIZATION"].get(kind), {"fused_activation_function": NONE},
                  hi_rank=4)


def abs_(g, kind):
    return _unary(g, "ABS", kind, "free")


def exp(g, kind):
    in_q = g.qparams(kind, 1e-4, 1.0)
    return _unary(g, "EXP", kind, "free", in_q=in_q)


def log(g, kind):
    return _unary(g, "LOG", kind, "free")


def _nonnegative(g: Gen, kind, op):
    in_q = g.qparams(kind)
    shape = _shape(g)
    out_q = "free"
    if kind == "float32":
        x = g.fdata(shape, positive=not g.coin(0.2))
    else:
        info = np.iinfo(DTYPE[kind])
        x = g.qdata(kind, shape, in_q[1], lo=max(in_q[1], info.min))
    return _unary(g, op, kind, out_q, in_q=in_q, shape=shape, data=x)


def sqrt(g, kind):
    return _nonnegative(g, kind, "SQRT")


def rsqrt(g, kind):
    return _nonnegative(g, kind, "RSQRT")


def neg(g, kind):
    return _unary(g, "NEG", kind, "same")


def prelu(g, kind):
    shape = _shape(g, 1, 4)
    file_shape, feed_shape = g.batch_resize(shape)
    in_q = g.qparams(kind)
    # alpha broadcasts against the input: trailing dimensions, some set to 1
    r = g.int(1, len(shape))
    a_shape = tuple(1 if g.coin(0.3) else d for d in file_shape[len(shape) - r:])
    const = g.coin(0.8)
    if kind == "float32":
        a_q, out_q = (None, None), (None, None)
        alpha = g.rng.uniform(-1.5, 1.5, a_shape).astype(np.float32)
    else:
        a_q = (g.scale(1e-4, 1.0), g.zp(kind))
        out_q = (g.rel_scale(in_q[0]), g.zp(kind))
        alpha = g.qdata(kind, a_shape, a_q[1])
    g.note(shape=feed_shape, alpha_shape=a_shape, alpha_const=const, in_q=in_q, alpha_q=a_q, out_q=out_q)
    x = g.data(kind, feed_shape, in_q[1] or 0)
    ins = [QT(file_shape, kind, in_q), QT(a_shape, kind, a_q, data=alpha if const else None)]
    feeds = [x] if const else [x, alpha]
    return make_case(g, "PRELU", kind, ins, [QT(file_shape, kind, out_q)], feeds)


def quantize(g, kind):
    """kind = the output type; the input is float32, or (requantize) an integer type."""
    shape = _shape(g)
    file_shape, feed_shape = g.batch_resize(shape)
    sources = {"int8": ["float32", "int8", "uint8", "int16"], "uint8": ["float32", "int8", "uint8"],
               "int16": ["float32", "int16", "int8"]}[kind]
    src = g.pick(sources)
    out_q = (g.scale(), g.zp(kind))
    if src == "float32":
        in_q = (None, None)
        x = g.fdata(feed_shape, mag=g.pick([out_q[0] * 50, out_q[0] * 300, 1.0, 1e6]))
    else:
        in_q = (g.rel_scale(out_q[0], 64.0), g.zp(src))
        x = g.qdata(src, feed_shape, in_q[1])
    g.note(src=src, shape=feed_shape, in_q=in_q, out_q=out_q)
    return make_case(g, "QUANTIZE", kind, [QT(file_shape, src, in_q)], [QT(file_shape, kind, out_q)], [x])


def dequantize(g, kind):
    shape = _shape(g)
    if kind != "int16" and g.coin(0.3):  # a per-channel constant
        ax = g.int(0, len(shape) - 1)
        n = shape[ax]
        scales = [g.scale(1e-5, 10.0) for _ in range(n)]
        zps = [0] * n if kind == "int8" else [g.zp(kind) for _ in range(n)]
        w = g.qdata(kind, shape)
        g.note(shape=shape, per_channel_axis=ax, scales=scales, zps=zps)
        return make_case(g, "DEQUANTIZE", kind, [T(shape, kind, scales, zps, data=w, qdim=ax)],
                         [T(shape, "float32")], [])
    file_shape, feed_shape = g.batch_resize(shape)
    q = (g.scale(), g.zp(kind))
    g.note(shape=feed_shape, q=q)
    return make_case(g, "DEQUANTIZE", kind, [QT(file_shape, kind, q)], [T(file_shape, "float32")],
                     [g.qdata(kind, feed_shape, q[1])])


SPECIALS = True  # float inputs may hold inf / NaN / huge values
Q3 = ("float32", "int8", "uint8", "int16")
Q2 = ("float32", "int8", "uint8")
GENERATORS = {
    "RELU": (Q3, relu),
    "RELU6": (Q3, relu6),
    "RELU_N1_TO_1": (Q2, relu_n1_to_1),
    "LEAKY_RELU": (Q3, leaky_relu),
    "PRELU": (Q2, prelu),
    "ELU": (("float32", "int8"), elu),
    "HARD_SWISH": (Q2, hard_swish),
    "LOGISTIC": (Q3, logistic),
    "TANH": (Q3, tanh),
    "SOFTMAX": (Q3, softmax),
    "LOG_SOFTMAX": (Q2, log_softmax),
    "GELU": (Q3, gelu),
    "L2_NORMALIZATION": (Q2, l2_normalization),
    "ABS": (("float32", "int8", "int16"), abs_),
    "SQRT": (("float32", "int8", "int16"), sqrt),
    "RSQRT": (("float32", "int8", "int16"), rsqrt),
    "LOG": (("float32", "int8", "int16"), log),
    "EXP": (("float32", "int8", "int16"), exp),
    "NEG": (("float32", "int8", "int16"), neg),
    "QUANTIZE": (("int8", "uint8", "int16"), quantize),
    "DEQUANTIZE": (("int8", "uint8", "int16"), dequantize),
}
