"""Reshaping layers, padding and cropping, resizing, layers that vanish at inference, Embedding."""

from __future__ import annotations

import numpy as np

from eightbit.importers.keras.emitter import Emitter, T
from eightbit.importers.keras.layers_conv import check_channels_last, weights


def reshape(em: Emitter, layer, x: T) -> T:
    return em.reshape(x, (x.shape[0], *layer.target_shape))


def flatten(em: Emitter, layer, x: T) -> T:
    if x.rank == 2:
        return x
    return em.reshape(x, (x.shape[0], int(np.prod(x.shape[1:]))))


def permute(em: Emitter, layer, x: T) -> T:
    return em.transpose(x, [0, *layer.dims])


def repeat_vector(em: Emitter, layer, x: T) -> T:
    # copies joined by CONCATENATION (exact in every type; LiteRT's reference kernels lack int8 TILE)
    y = em.op("EXPAND_DIMS", [x, em.ints([1], "axis")], (x.shape[0], 1, x.shape[1]))
    return em.concat([y] * layer.n, 1)


def _pairs(padding, n):
    """Keras padding/cropping spec -> n (before, after) pairs."""
    if isinstance(padding, int):
        return [(padding, padding)] * n
    out = []
    for p in padding:
        out.append((p, p) if isinstance(p, int) else tuple(p))
    return out if len(out) == n else [tuple(padding)] * n


def zero_padding(em: Emitter, layer, x: T) -> T:
    spatial = _pairs(layer.padding, x.rank - 2)
    pads = [(0, 0), *spatial, (0, 0)]
    shape = [d + a + b for d, (a, b) in zip(x.shape, pads)]
    return em.op("PAD", [x, em.const(np.asarray(pads, np.int32), np.int32, "paddings")], shape)


def cropping(em: Emitter, layer, x: T) -> T:
    spatial = _pairs(layer.cropping, x.rank - 2)
    begin = [None] + [a for a, _ in spatial] + [None]
    end = [None] + [(-b if b else None) for _, b in spatial] + [None]
    return em.strided_slice(x, begin, end)


def upsampling1d(em: Emitter, layer, x: T) -> T:
    n, length, c = x.shape
    y = em.reshape(x, (n, length, 1, c))
    return em.reshape(em.concat([y] * layer.size, 2), (n, length * layer.size, c))


def _resize(em: Emitter, x: T, height, width, interpolation) -> T:
    size = em.ints([height, width], "size")
    shape = (x.shape[0], height, width, x.shape[3])
    op = "RESIZE_BILINEAR" if interpolation == "bilinear" else "RESIZE_NEAREST_NEIGHBOR"
    return em.op(op, [x, size], shape, {"align_corners": False, "half_pixel_centers": True})


def upsampling2d(em: Emitter, layer, x: T) -> T:
    sh, sw = layer.size
    if layer.interpolation == "nearest":
        op_opts = {"align_corners": False, "half_pixel_centers": False}  # repeat: src = floor(dst / s)
        return em.op("RESIZE_NEAREST_NEIGHBOR", [x, em.ints([x.shape[1] * sh, x.shape[2] * sw], "size")],
                     (x.shape[0], x.shape[1] * sh, x.shape[2] * sw, x.shape[3]), op_opts)
    return _resize(em, x, x.shape[1] * sh, x.shape[2] * sw, "bilinear")


def check_upsampling2d(layer):
    reason = check_channels_last(layer)
    if reason:
        return reason
    return None if layer.interpolation in ("nearest", "bilinear") else f"interpolation={layer.interpolation!r}"


def resizing(em: Emitter, layer, x: T) -> T:
    return _resize(em, x, layer.height, layer.width, layer.interpolation)


def check_resizing(layer):
    reason = check_channels_last(layer)
    if reason:
        return reason
    if layer.interpolation not in ("nearest", "bilinear"):
        return f"interpolation={layer.interpolation!r}"
    if getattr(layer, "crop_to_aspect_ratio", False) or getattr(layer, "pad_to_aspect_ratio", False):
        return "crop_to_aspect_ratio / pad_to_aspect_ratio"
    if getattr(layer, "antialias", False):
        return "antialias=True"
    return None


def identity(em: Emitter, layer, x: T) -> T:
    return x


def embedding(em: Emitter, layer, x: T) -> T:
    table = weights(layer)["embeddings"]
    if x.dtype not in ("int32", "int64"):
        x = em.op("CAST", [x], x.shape, {"in_data_type": 0, "out_data_type": 2}, dtype="int32")
    return em.op("GATHER", [em.const(table, name="embeddings"), x], (*x.shape, table.shape[1]),
                 {"axis": 0, "batch_dims": 0})


def check_embedding(layer):
    if getattr(layer, "lora_enabled", False):
        return "LoRA weights (merge them first)"
    if getattr(layer, "quantization_mode", None):
        return f"quantization_mode={layer.quantization_mode!r}"
    return None


def time_distributed(em: Emitter, layer, x: T) -> T:
    """The wrapped layer on [B*T, ...] between two RESHAPEs (batch -1, so any batch size runs)."""
    from eightbit.importers.keras.graph import lower_layer

    n, steps = x.shape[0], x.shape[1]
    inner = em.reshape(x, (n * steps, *x.shape[2:]))
    y = lower_layer(em, layer.layer, inner)
    return em.reshape(y, (n, steps, *y.shape[1:]))


def check_time_distributed(layer):
    from eightbit.importers.keras.graph import check_layer

    reason = check_layer(layer.layer)
    return None if reason is None else f"wraps {type(layer.layer).__name__}: {reason}"


DROPPED = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
           "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity")

RULES = {
    "Reshape": (reshape, None),
    "Flatten": (flatten, check_channels_last),
    "Permute": (permute, None),
    "RepeatVector": (repeat_vector, None),
    "ZeroPadding1D": (zero_padding, None),
    "ZeroPadding2D": (zero_padding, check_channels_last),
    "ZeroPadding3D": (zero_padding, check_channels_last),
    "Cropping1D": (cropping, None),
    "Cropping2D": (cropping, check_channels_last),
    "Cropping3D": (cropping, check_channels_last),
    "UpSampling1D": (upsampling1d, None),
    "UpSampling2D": (upsampling2d, check_upsampling2d),
    "Resizing": (resizing, check_resizing),
    "Embedding": (embedding, check_embedding),
    "TimeDistributed": (time_distributed, check_time_distributed),
    **{name: (identity, None) for name in DROPPED},
}
