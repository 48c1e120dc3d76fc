"""Normalization, activation, merge and preprocessing layers."""

from __future__ import annotations

import numpy as np

from eightbit.importers.keras import activations
from eightbit.importers.keras.emitter import Emitter, T, to_numpy
from eightbit.importers.keras.layers_conv import weights


def _axes(layer_axis, rank):
    axes = [layer_axis] if isinstance(layer_axis, int) else list(layer_axis)
    return sorted(a % rank for a in axes)


def _along(values, axes, shape) -> np.ndarray:
    """Per-channel values shaped to broadcast along `axes` of a tensor of `shape`."""
    v = np.asarray(values, np.float32)
    rank = len(shape)
    if v.size == 1:
        return v.reshape(())
    if axes == [rank - 1]:
        return v.reshape(-1)
    target = [1] * rank
    for a in axes:
        target[a] = shape[a]
    return v.reshape(target)


def scale_shift(em: Emitter, x: T, scale, shift, axes) -> T:
    """x * scale + shift (MUL then ADD, as TF leaves an unfolded batch norm); identity parts skipped."""
    scale, shift = np.asarray(scale, np.float32), np.asarray(shift, np.float32)
    if not np.all(scale == 1.0):
        x = em.binary("MUL", x, em.const(_along(scale, axes, x.shape), name="scale"))
    if not np.all(shift == 0.0):
        x = em.binary("ADD", x, em.const(_along(shift, axes, x.shape), name="shift"))
    return x


def batch_norm(em: Emitter, layer, x: T) -> T:
    w = weights(layer)
    var, mean = w["moving_variance"], w["moving_mean"]
    gamma = w.get("gamma", np.ones_like(var))
    beta = w.get("beta", np.zeros_like(var))
    scale = (gamma / np.sqrt(var + np.float32(layer.epsilon))).astype(np.float32)
    return scale_shift(em, x, scale, beta - mean * scale, _axes(layer.axis, x.rank))


def check_batch_norm(layer):
    return "renorm" if getattr(layer, "renorm", False) else None


def _moments(em: Emitter, x: T, axes):
    mean = em.reduce("MEAN", x, axes, True)
    var = em.reduce("MEAN", em.binary("SQUARED_DIFFERENCE", x, mean), axes, True)
    return mean, var


def layer_norm(em: Emitter, layer, x: T) -> T:
    w = weights(layer)
    axes = _axes(layer.axis, x.rank)
    if getattr(layer, "rms_scaling", False):
        _, var = _moments(em, x, axes)
        inv = em.unary("RSQRT", em.scalar_op("ADD", var, layer.epsilon, "epsilon"))
        y = em.binary("MUL", x, inv)
        return scale_shift(em, y, w.get("gamma", 1.0), 0.0, axes)
    mean, var = _moments(em, x, axes)
    inv = em.unary("RSQRT", em.scalar_op("ADD", var, layer.epsilon, "epsilon"))
    y = em.binary("MUL", em.binary("SUB", x, mean), inv)
    return scale_shift(em, y, w.get("gamma", 1.0), w.get("beta", 0.0), axes)


def rms_norm(em: Emitter, layer, x: T) -> T:
    """x * rsqrt(mean(x^2) + epsilon) * scale."""
    axes = _axes(layer.axis, x.rank)
    ms = em.reduce("MEAN", em.binary("MUL", x, x), axes, True)
    y = em.binary("MUL", x, em.unary("RSQRT", em.scalar_op("ADD", ms, layer.epsilon, "epsilon")))
    return scale_shift(em, y, weights(layer).get("scale", 1.0), 0.0, axes)


def group_norm(em: Emitter, layer, x: T) -> T:
    w = weights(layer)
    axis = layer.axis % x.rank
    groups = layer.groups
    shape = list(x.shape)
    grouped = shape[:axis] + [groups, shape[axis] // groups] + shape[axis + 1:]
    g = em.reshape(x, grouped)
    axes = [a for a in range(1, len(grouped)) if a != axis]
    mean, var = _moments(em, g, axes)
    inv = em.unary("RSQRT", em.scalar_op("ADD", var, layer.epsilon, "epsilon"))
    y = em.reshape(em.binary("MUL", em.binary("SUB", g, mean), inv), shape)
    return scale_shift(em, y, w.get("gamma", 1.0), w.get("beta", 0.0), [axis])


def unit_norm(em: Emitter, layer, x: T) -> T:
    return em.unary("L2_NORMALIZATION", x)


def check_unit_norm(layer):
    axes = [layer.axis] if isinstance(layer.axis, int) else list(layer.axis)
    return None if axes in ([-1],) else f"axis={layer.axis} (L2_NORMALIZATION normalizes the last axis)"


def rescaling(em: Emitter, layer, x: T) -> T:
    scale = to_numpy(layer.scale)
    offset = to_numpy(layer.offset)
    return scale_shift(em, x, scale, offset, [x.rank - 1])


def normalization(em: Emitter, layer, x: T) -> T:
    mean = to_numpy(layer.mean)
    std = np.maximum(np.sqrt(to_numpy(layer.variance)), np.float32(1e-7))
    if mean.ndim == x.rank:  # already broadcastable: use the stored shape as is
        mean, std = mean.reshape(mean.shape[1:]), std.reshape(std.shape[1:])
    if layer.invert:
        return em.binary("ADD", em.binary("MUL", x, em.const(std, name="std")), em.const(mean, name="mean"))
    return em.binary("MUL", em.binary("SUB", x, em.const(mean, name="mean")), em.const(1.0 / std, name="inv_std"))


# ---- activation layers --------------------------------------------------------------------------

def activation_layer(em: Emitter, layer, x: T) -> T:
    return activations.emit(em, x, activations.activation_name(layer.activation))


def check_activation(layer):
    name = activations.activation_name(layer.activation)
    return None if activations.known(name) else f"activation {name!r}"


def relu_layer(em: Emitter, layer, x: T) -> T:
    """keras.activations.relu: (x > threshold ? x : 0) clipped to max_value, minus
    negative_slope * relu(threshold - x)."""
    mx, slope, thr = layer.max_value, float(layer.negative_slope), float(layer.threshold)
    mx = None if mx is None else float(mx)
    if thr == 0.0 and slope == 0.0 and mx in (None, 6.0):
        return activations.emit(em, x, "relu" if mx is None else "relu6")
    if thr == 0.0 and mx is None:
        return em.unary("LEAKY_RELU", x, {"alpha": slope})
    if thr != 0.0:
        keep = em.op("GREATER", [x, em.const(np.float32(thr))], x.shape, dtype="bool")
        pos = em.op("SELECT_V2", [keep, x, em.const(np.zeros(x.shape, np.float32), name="zeros")], x.shape)
        if mx is not None:
            pos = em.scalar_op("MINIMUM", em.scalar_op("MAXIMUM", pos, 0.0), mx)
    elif mx == 6.0:
        pos = em.unary("RELU6", x)
    else:
        pos = em.unary("RELU", x)
        if mx is not None:
            pos = em.scalar_op("MINIMUM", pos, mx)
    if slope == 0.0:
        return pos
    below = em.unary("RELU", em.unary("NEG", x) if thr == 0.0 else em.binary("SUB", em.const(np.float32(thr)), x))
    return em.binary("SUB", pos, em.scalar_op("MUL", below, slope))


def leaky_relu_layer(em: Emitter, layer, x: T) -> T:
    return em.unary("LEAKY_RELU", x, {"alpha": float(layer.negative_slope)})


def prelu_layer(em: Emitter, layer, x: T) -> T:
    alpha = weights(layer)["alpha"]
    return em.binary("PRELU", x, em.const(alpha, name="alpha"))


def elu_layer(em: Emitter, layer, x: T) -> T:
    return activations.emit(em, x, "elu") if float(layer.alpha) == 1.0 else \
        activations._elu(em, x, float(layer.alpha))


def softmax_layer(em: Emitter, layer, call) -> T:
    if call.kwargs.get("mask") is not None or len(call.tensors) > 1:
        raise NotImplementedError("Softmax with a mask")
    axes = _axes(layer.axis, call.x.rank)
    if len(axes) != 1:
        raise NotImplementedError(f"Softmax over axes {layer.axis}")
    return activations.softmax(em, call.x, axes[0])


# ---- merge layers ---------------------------------------------------------------------------------

def _chain(em: Emitter, op_type, xs):
    y = xs[0]
    for x in xs[1:]:
        y = em.binary(op_type, y, x)
    return y


def merge(op_type):
    def rule(em: Emitter, layer, call) -> T:
        return _chain(em, op_type, call.tensors)
    return rule


def average(em: Emitter, layer, call) -> T:
    return em.scalar_op("MUL", _chain(em, "ADD", call.tensors), 1.0 / len(call.tensors), "inv_n")


def subtract(em: Emitter, layer, call) -> T:
    a, b = call.tensors
    return em.binary("SUB", a, b)


def concatenate(em: Emitter, layer, call) -> T:
    return em.concat(call.tensors, layer.axis)


def dot(em: Emitter, layer, call) -> T:
    a, b = call.tensors
    axes = layer.axes if isinstance(layer.axes, (list, tuple)) else [layer.axes, layer.axes]
    axes = [axes[0] % a.rank, axes[1] % b.rank]
    if layer.normalize:
        a, b = (_l2_along(em, a, axes[0]), _l2_along(em, b, axes[1]))
    if a.rank == 2 and b.rank == 2:  # [B, n] . [B, n] -> [B, 1] as a batched [1, n] x [n, 1] product
        n = a.shape[0]
        y = em.batch_matmul(em.reshape(a, (n, 1, a.shape[1])), em.reshape(b, (n, b.shape[1], 1)))
        return em.reshape(y, (n, 1))
    if a.rank != 3 or b.rank != 3:
        raise NotImplementedError(f"Dot of ranks {a.rank} and {b.rank}")
    # batched: contract a's axes[0] with b's axes[1]
    return em.batch_matmul(a, b, adj_x=axes[0] == 1, adj_y=axes[1] == 2)


def _l2_along(em: Emitter, x: T, axis: int) -> T:
    if axis == x.rank - 1:
        return em.unary("L2_NORMALIZATION", x)
    perm = list(range(x.rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return em.transpose(em.unary("L2_NORMALIZATION", em.transpose(x, perm)), perm)


RULES = {
    "BatchNormalization": (batch_norm, check_batch_norm),
    "LayerNormalization": (layer_norm, None),
    "GroupNormalization": (group_norm, None),
    "RMSNormalization": (rms_norm, None),
    "UnitNormalization": (unit_norm, check_unit_norm),
    "Rescaling": (rescaling, None),
    "Normalization": (normalization, None),
    "Activation": (activation_layer, check_activation),
    "ReLU": (relu_layer, None),
    "LeakyReLU": (leaky_relu_layer, None),
    "PReLU": (prelu_layer, None),
    "ELU": (elu_layer, None),
    "Softmax": (softmax_layer, None, "call"),
    "Add": (merge("ADD"), None, "call"),
    "Multiply": (merge("MUL"), None, "call"),
    "Maximum": (merge("MAXIMUM"), None, "call"),
    "Minimum": (merge("MINIMUM"), None, "call"),
    "Subtract": (subtract, None, "call"),
    "Average": (average, None, "call"),
    "Concatenate": (concatenate, None, "call"),
    "Dot": (dot, None, "call"),
}
