"""TOPK_V2 (TFLite kernels/topk_v2.cc): the k largest values of each row (the last dimension),
largest first, and their positions; equal values keep their original order (lower index first).

Input: float32, int8, uint8, int16, int32, int64 (values copied: a quantized output keeps the
input's parameters); k: int32 or int16 scalar, at most the row length; indices output int32 or
int16 (v3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_same_type, require_type

TOPK_TYPES = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64")


@dataclass(frozen=True)
class TopKParams:
    index_dtype: np.dtype


def descending_order(x: np.ndarray) -> np.ndarray:
    """Positions sorting each row largest first, ties by position (a stable sort on a key that
    reverses the order: -x for floats, ~x for integers, which cannot overflow)."""
    key = -x if x.dtype.kind == "f" else np.invert(x)
    return np.argsort(key, axis=-1, kind="stable")


class TopKV2(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> TopKParams:
        if len(op.inputs) != 2 or any(t is None for t in op.inputs) or len(op.outputs) != 2:
            raise ModelError(f"{op.where()}: TOPK_V2 takes an input and k, and gives values and indices")
        x, k = op.inputs
        values, indices = op.outputs
        require_type(op, x, TOPK_TYPES)
        require_type(op, k, ("INT32", "INT16"), "k")
        require_type(op, indices, ("INT32", "INT16"), "indices output")
        require_same_type(op, x, values, "values output")
        if len(x.shape) < 1:
            raise ModelError(f"{op.where()}: TOPK_V2 needs an input of rank >= 1")
        return TopKParams(np.dtype(indices.dtype))

    @staticmethod
    def eval(p: TopKParams, x, k):
        k = int(np.asarray(k).reshape(-1)[0])
        if not 0 <= k <= x.shape[-1]:
            raise fail(f"TOPK_V2: k = {k} is not in [0, {x.shape[-1]}] (the last dimension)")
        order = descending_order(x)[..., :k]
        return np.take_along_axis(x, order, axis=-1), order.astype(p.index_dtype)
