"""keras.ops calls recorded in a Functional graph (`x + 3.0`, `ops.reshape(x, ...)`, `x[:, 0]`), and
the small custom layers keras.applications defines (ConvNeXt's LayerScale, InceptionResNetV2's
CustomScaleLayer). Operands that are not graph tensors are constants."""

from __future__ import annotations

import numpy as np

from eightbit.importers.keras import activations
from eightbit.importers.keras.emitter import Emitter, T, to_numpy


def _operand(em: Emitter, v, like: T | None = None) -> T:
    if isinstance(v, T):
        return v
    value = to_numpy(v, None)
    dtype = like.dtype if like is not None else ("float32" if value.dtype.kind == "f" else "int32")
    return em.const(value.astype(dtype), dtype, "const")


def _binary(op_type, swap=False):
    def rule(em: Emitter, op, call) -> T:
        a, b = call.args[0], call.args[1]
        like = a if isinstance(a, T) else b
        a, b = _operand(em, a, like), _operand(em, b, like)
        return em.binary(op_type, b, a) if swap else em.binary(op_type, a, b)
    return rule


def _unary(op_type, options=None):
    def rule(em: Emitter, op, call) -> T:
        return em.unary(op_type, call.x, options)
    return rule


def _activation(name):
    def rule(em: Emitter, op, call) -> T:
        return activations.emit(em, call.x, name)
    return rule


def _square(em: Emitter, op, call) -> T:
    return em.binary("MUL", call.x, call.x)


def _reshape(em: Emitter, op, call) -> T:
    shape = [int(d) for d in op.newshape] if hasattr(op, "newshape") else [int(d) for d in call.args[1]]
    x = call.x
    if shape and shape[0] in (-1, None) and -1 not in shape[1:]:
        shape[0] = x.shape[0]
    return em.reshape(x, shape, keep_batch=shape[0] == x.shape[0])


def _transpose(em: Emitter, op, call) -> T:
    axes = getattr(op, "axes", None)
    perm = list(range(call.x.rank))[::-1] if axes is None else list(axes)
    return em.transpose(call.x, perm)


def _concatenate(em: Emitter, op, call) -> T:
    return em.concat([_operand(em, v) for v in call.args[0]], getattr(op, "axis", 0))


def _reduction(op_type):
    def rule(em: Emitter, op, call) -> T:
        axis = getattr(op, "axis", None)
        axes = list(range(call.x.rank)) if axis is None else ([axis] if isinstance(axis, int) else list(axis))
        return em.reduce(op_type, call.x, axes, bool(getattr(op, "keepdims", False)))
    return rule


def _matmul(em: Emitter, op, call) -> T:
    a, b = call.args[0], call.args[1]
    if isinstance(b, T) and isinstance(a, T):
        return em.batch_matmul(a, b)
    if isinstance(a, T):  # x @ constant [k, n]
        w = to_numpy(b)
        if w.ndim == 2:
            return em.fully_connected(a, w.T)
    raise NotImplementedError("matmul with a constant left operand")


def _clip(em: Emitter, op, call) -> T:
    lo = getattr(op, "x_min", None)
    hi = getattr(op, "x_max", None)
    if lo is None and len(call.args) > 1:
        lo, hi = call.args[1], call.args[2]
    return em.scalar_op("MINIMUM", em.scalar_op("MAXIMUM", call.x, float(lo)), float(hi))


def _get_item(em: Emitter, op, call) -> T:
    """x[...] with ints and slices (step 1 or more); no arrays, no None/newaxis."""
    x, key = call.args[0], call.args[1]
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (x.rank - len(key) + 1) + key[i + 1:]
    key = key + (slice(None),) * (x.rank - len(key))
    begin, end, strides, shrink = [], [], [], 0
    for axis, k in enumerate(key):
        if isinstance(k, (int, np.integer)):
            begin.append(int(k))
            end.append(int(k) + 1 if k != -1 else None)
            strides.append(1)
            shrink |= 1 << axis
        elif isinstance(k, slice):
            if k.step is not None and k.step < 1:
                raise NotImplementedError("negative slice steps")
            begin.append(k.start)
            end.append(k.stop)
            strides.append(k.step or 1)
        else:
            raise NotImplementedError(f"indexing with {type(k).__name__}")
    return em.strided_slice(x, begin, end, strides, shrink)


def _softmax(em: Emitter, op, call) -> T:
    return activations.softmax(em, call.x, getattr(op, "axis", -1))


def _layer_scale(em: Emitter, layer, x: T) -> T:
    return em.binary("MUL", x, em.const(to_numpy(layer.gamma), name="gamma"))


def _custom_scale(em: Emitter, layer, call) -> T:
    a, b = call.tensors
    return em.binary("ADD", a, em.scalar_op("MUL", b, float(layer.scale), "scale"))


OPS = {
    "Add": _binary("ADD"), "Subtract": _binary("SUB"), "Multiply": _binary("MUL"), "Divide": _binary("DIV"),
    "TrueDivide": _binary("DIV"), "Maximum": _binary("MAXIMUM"), "Minimum": _binary("MINIMUM"),
    "Matmul": _matmul, "Reshape": _reshape, "Transpose": _transpose, "Concatenate": _concatenate,
    "Mean": _reduction("MEAN"), "Sum": _reduction("SUM"), "Max": _reduction("REDUCE_MAX"),
    "Min": _reduction("REDUCE_MIN"), "Sqrt": _unary("SQRT"), "Rsqrt": _unary("RSQRT"), "Exp": _unary("EXP"),
    "Log": _unary("LOG"), "Abs": _unary("ABS"), "Absolute": _unary("ABS"), "Negative": _unary("NEG"),
    "Square": _square, "Tanh": _unary("TANH"), "Sigmoid": _unary("LOGISTIC"), "Relu": _unary("RELU"),
    "Relu6": _unary("RELU6"), "Silu": _activation("silu"), "Gelu": _activation("gelu"),
    "HardSigmoid": _activation("hard_sigmoid"), "HardSilu": _activation("hard_silu"), "Softmax": _softmax,
    "Clip": _clip, "GetItem": _get_item,
}

APPLICATION_LAYERS = {
    "LayerScale": (_layer_scale, None),
    "CustomScaleLayer": (_custom_scale, None, "call"),
}
