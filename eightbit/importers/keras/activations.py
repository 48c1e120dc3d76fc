"""Keras activation functions as TFLite builtins.

Where TFLite has the function (RELU, RELU6, LOGISTIC, TANH, ELU, GELU, HARD_SWISH, SOFTMAX,
LOG_SOFTMAX, LEAKY_RELU, RELU_N1_TO_1) it is used; the rest are composed from exact
elementwise builtins, the way TF's converter decomposes them (silu = x * LOGISTIC(x),
hard_sigmoid = RELU6(x + 3) / 6, softplus = relu(x) + log(1 + exp(-|x|)), ...).
"""

from __future__ import annotations

import numpy as np

from eightbit.importers.keras.emitter import Emitter, T

SIMPLE = {"relu": "RELU", "relu6": "RELU6", "sigmoid": "LOGISTIC", "tanh": "TANH", "hard_tanh": "RELU_N1_TO_1",
          "hard_silu": "HARD_SWISH", "hard_swish": "HARD_SWISH", "exponential": "EXP"}
FUSABLE = {"relu": "RELU", "relu6": "RELU6", "hard_tanh": "RELU_N1_TO_1"}
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def activation_name(fn) -> str | None:
    """The Keras name of an activation function object (None: identity)."""
    if fn is None:
        return None
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return {"swish": "silu", "hard_swish": "hard_silu"}.get(name, name)


def known(name) -> bool:
    return name in (None, "linear") or name in SIMPLE or name in _COMPOSED


def emit(em: Emitter, x: T, name, fuse: bool = False) -> T:
    """Apply activation `name` to x. fuse=True (only for a layer's own `activation=`, whose input has no
    other reader) fuses it into the op that produced x where TFLite fuses it; graph-level fusion is
    left to passes.fuse_activations, which checks the readers."""
    if name in (None, "linear"):
        return x
    if fuse and name in FUSABLE and em.fuse(x, FUSABLE[name]):
        return x
    if name in SIMPLE:
        return em.unary(SIMPLE[name], x)
    return _COMPOSED[name](em, x)


def softmax(em: Emitter, x: T, axis=-1) -> T:
    axis = axis % x.rank
    if axis == x.rank - 1:
        return em.unary("SOFTMAX", x, {"beta": 1.0})
    perm = list(range(x.rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    y = em.unary("SOFTMAX", em.transpose(x, perm), {"beta": 1.0})
    return em.transpose(y, perm)


def _log_softmax(em, x):
    return em.unary("LOG_SOFTMAX", x)


def _softplus(em, x):
    # relu(x) + log(1 + exp(-|x|)): exp never overflows
    tail = em.unary("LOG", em.scalar_op("ADD", em.unary("EXP", em.unary("NEG", em.unary("ABS", x))), 1.0))
    return em.binary("ADD", em.unary("RELU", x), tail)


def _softsign(em, x):
    return em.binary("DIV", x, em.scalar_op("ADD", em.unary("ABS", x), 1.0))


def _silu(em, x):
    return em.binary("MUL", x, em.unary("LOGISTIC", x))


def _gelu(em, x, approximate=False):
    return em.unary("GELU", x, {"approximate": approximate})


def _hard_sigmoid(em, x):
    return em.scalar_op("MUL", em.unary("RELU6", em.scalar_op("ADD", x, 3.0)), 1.0 / 6.0)


def _elu(em, x, alpha=1.0):
    if alpha == 1.0:
        return em.unary("ELU", x)
    # relu(x) + alpha * min(elu(x), 0)
    neg = em.scalar_op("MINIMUM", em.unary("ELU", x), 0.0)
    return em.binary("ADD", em.unary("RELU", x), em.scalar_op("MUL", neg, alpha))


def _selu(em, x):
    neg = em.scalar_op("MINIMUM", em.unary("ELU", x), 0.0)
    pos = em.scalar_op("MUL", em.unary("RELU", x), SELU_SCALE)
    return em.binary("ADD", pos, em.scalar_op("MUL", neg, SELU_SCALE * SELU_ALPHA))


def _celu(em, x, alpha=1.0):
    neg = em.scalar_op("MINIMUM", em.unary("ELU", em.scalar_op("MUL", x, 1.0 / alpha)), 0.0)
    return em.binary("ADD", em.unary("RELU", x), em.scalar_op("MUL", neg, alpha))


def _leaky_relu(em, x, alpha=0.2):
    return em.unary("LEAKY_RELU", x, {"alpha": float(alpha)})


def _mish(em, x):
    return em.binary("MUL", x, em.unary("TANH", _softplus(em, x)))


def _log_sigmoid(em, x):
    return em.unary("NEG", _softplus(em, em.unary("NEG", x)))


def _tanh_shrink(em, x):
    return em.binary("SUB", x, em.unary("TANH", x))


def _soft_shrink(em, x, threshold=0.5):
    clipped = em.scalar_op("MINIMUM", em.scalar_op("MAXIMUM", x, -threshold), threshold)
    return em.binary("SUB", x, clipped)


def _select(em, cond: T, a: T, b: T) -> T:
    return em.op("SELECT_V2", [cond, a, b], cond.shape)


def _compare(em, op_type, x, value):
    return em.op(op_type, [x, em.const(np.float32(value))], x.shape, dtype="bool")


def _hard_shrink(em, x, threshold=0.5):
    keep = _compare(em, "GREATER", em.unary("ABS", x), threshold)
    return _select(em, keep, x, em.const(np.zeros(x.shape, np.float32), name="zeros"))


def _threshold(em, x, threshold=0.0, default_value=0.0):
    keep = _compare(em, "GREATER", x, threshold)
    return _select(em, keep, x, em.const(np.full(x.shape, default_value, np.float32), name="default"))


def _sparse_plus(em, x):
    # 0 for x <= -1, (x + 1)^2 / 4 inside, x for x >= 1
    inner = em.scalar_op("ADD", x, 1.0)
    quad = em.scalar_op("MUL", em.binary("MUL", inner, inner), 0.25)
    upper = _select(em, _compare(em, "GREATER_EQUAL", x, 1.0), x, quad)
    return _select(em, _compare(em, "LESS_EQUAL", x, -1.0), em.const(np.zeros(x.shape, np.float32)), upper)


def _sparse_sigmoid(em, x):
    # clip((x + 1) / 2, 0, 1)
    half = em.scalar_op("MUL", em.scalar_op("ADD", x, 1.0), 0.5)
    return em.scalar_op("MINIMUM", em.scalar_op("MAXIMUM", half, 0.0), 1.0)


def _squareplus(em, x, b=4.0):
    root = em.unary("SQRT", em.scalar_op("ADD", em.binary("MUL", x, x), b))
    return em.scalar_op("MUL", em.binary("ADD", x, root), 0.5)


def _glu(em, x, axis=-1):
    axis %= x.rank
    half = list(x.shape)
    half[axis] //= 2
    a, b = em.op("SPLIT", [em.ints([axis], "axis"), x], [tuple(half), tuple(half)], {"num_splits": 2})
    return em.binary("MUL", a, em.unary("LOGISTIC", b))


_COMPOSED = {
    "softmax": softmax, "log_softmax": _log_softmax, "softplus": _softplus, "softsign": _softsign, "silu": _silu,
    "gelu": _gelu, "hard_sigmoid": _hard_sigmoid, "elu": _elu, "selu": _selu, "celu": _celu,
    "leaky_relu": _leaky_relu, "mish": _mish, "log_sigmoid": _log_sigmoid, "tanh_shrink": _tanh_shrink,
    "soft_shrink": _soft_shrink, "hard_shrink": _hard_shrink, "threshold": _threshold, "sparse_plus": _sparse_plus,
    "sparse_sigmoid": _sparse_sigmoid, "squareplus": _squareplus, "glu": _glu,
}
