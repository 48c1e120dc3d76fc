"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (TFLite kernels/space_to_batch_nd.cc,
batch_to_space_nd.cc): move blocks of the spatial dimensions into the batch and back.

Input rank 3 or 4 (LiteRT 2.3.0: at most 4), [batch, spatial..., depth]: a 4-D input has two
spatial dimensions, a 3-D one one, and block_shape (int32 [M]) gives one block size each. SPACE_TO_BATCH_ND pads the spatial dimensions (paddings
int32 [M, 2]; the pad value is 0, the output zero point for a quantized tensor), then output
batch (i * block_1 + j) * batch + b holds the spatial elements at offsets (i, j) of each block.
BATCH_TO_SPACE_ND undoes it and crops (crops int32 [M, 2]). Values are copied (quantized: the
output keeps the input's parameters, operator_property.cc's same-scale rule, int8 only).
Types: float32, float16, int8, uint8, int16, int32, int64, bool."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import QUANTIZED_TYPES, as_ints, fail, require_arity, require_same_type, require_type

BLOCK_TYPES = ("FLOAT32", "FLOAT16", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL")
MAX_DIMS = 4


@dataclass(frozen=True)
class BlockParams:
    pad_value: object
    dtype: np.dtype


def _prepare(op: OpContext, name: str) -> BlockParams:
    require_arity(op, 3, f"{name} takes an input, block_shape and {name and 'paddings/crops'}")
    x, out = op.inputs[0], op.outputs[0]
    require_type(op, x, BLOCK_TYPES)
    require_type(op, op.inputs[1], ("INT32",), "block_shape")
    require_type(op, op.inputs[2], ("INT32",), "paddings" if name == "SPACE_TO_BATCH_ND" else "crops")
    require_same_type(op, x, out)
    if not 3 <= len(x.shape) <= MAX_DIMS:
        raise op.unsupported(f"{name} of a {len(x.shape)}-D input (TFLite: 3-D or 4-D)")
    pad = out.zero_point if x.type in QUANTIZED_TYPES and out.quantized else 0
    return BlockParams(np.array(pad).astype(out.dtype), np.dtype(out.dtype))


def _blocks(name: str, x, block_shape, pairs):
    block = as_ints(block_shape)
    m = block.size
    p = as_ints(pairs)
    if m != x.ndim - 2 or p.size != 2 * m or np.any(block < 1):
        raise fail(f"{name}: block_shape {block.tolist()} and {p.tolist()} do not fit a {x.ndim}-D input")
    return [int(b) for b in block], p.reshape(m, 2)


def space_to_batch(p: BlockParams, x, block_shape, paddings):
    block, pads = _blocks("SPACE_TO_BATCH_ND", x, block_shape, paddings)
    m = len(block)
    if np.any(pads < 0):
        raise fail(f"SPACE_TO_BATCH_ND: negative paddings {pads.tolist()}")
    widths = [(0, 0)] + [tuple(int(v) for v in pr) for pr in pads] + [(0, 0)] * (x.ndim - 1 - m)
    padded = np.pad(x, widths, constant_values=p.pad_value)
    spatial = padded.shape[1:1 + m]
    if any(s % b for s, b in zip(spatial, block)):
        raise fail(f"SPACE_TO_BATCH_ND: padded spatial shape {list(spatial)} is not a multiple of {block}")
    batch, rest = padded.shape[0], padded.shape[1 + m:]
    split = [batch] + [v for s, b in zip(spatial, block) for v in (s // b, b)] + list(rest)
    y = padded.reshape(split)
    # [batch, s1/b1, b1, s2/b2, b2, rest] -> [b1, b2, batch, s1/b1, s2/b2, rest]
    order = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + list(range(1 + 2 * m, y.ndim))
    y = y.transpose(order)
    return np.ascontiguousarray(y.reshape([batch * int(np.prod(block))] + [s // b for s, b in zip(spatial, block)]
                                          + list(rest))).astype(p.dtype, copy=False)


def batch_to_space(p: BlockParams, x, block_shape, crops):
    block, crop = _blocks("BATCH_TO_SPACE_ND", x, block_shape, crops)
    m = len(block)
    n = int(np.prod(block))
    if x.shape[0] % n:
        raise fail(f"BATCH_TO_SPACE_ND: batch {x.shape[0]} is not a multiple of the block size {n}")
    batch, spatial, rest = x.shape[0] // n, x.shape[1:1 + m], x.shape[1 + m:]
    y = x.reshape(block + [batch] + list(spatial) + list(rest))
    # [b1, b2, batch, s1, s2, rest] -> [batch, s1, b1, s2, b2, rest]
    order = [m] + [v for i in range(m) for v in (m + 1 + i, i)] + list(range(2 * m + 1, y.ndim))
    y = y.transpose(order).reshape([batch] + [s * b for s, b in zip(spatial, block)] + list(rest))
    full = y.shape[1:1 + m]
    if np.any(crop < 0) or any(int(a) + int(b) > s for (a, b), s in zip(crop, full)):
        raise fail(f"BATCH_TO_SPACE_ND: crops {crop.tolist()} do not fit spatial shape {list(full)}")
    index = (slice(None),) + tuple(slice(int(a), s - int(b)) for (a, b), s in zip(crop, full))
    return np.ascontiguousarray(y[index]).astype(p.dtype, copy=False)


class SpaceToBatchNd(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> BlockParams:
        return _prepare(op, "SPACE_TO_BATCH_ND")

    eval = staticmethod(space_to_batch)


class BatchToSpaceNd(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> BlockParams:
        return _prepare(op, "BATCH_TO_SPACE_ND")

    eval = staticmethod(batch_to_space)
