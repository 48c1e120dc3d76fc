"""EMBEDDING_LOOKUP (TFLite kernels/embedding_lookup.cc): rows of the value tensor at the int32
ids of the lookup tensor (output [n_ids] + value.shape[1:]); an id outside the rows is a run-time
error. float32 values give float32; int8 / uint8 values with a float32 output are dequantized
(the row's value times the tensor's scale, or its channel's scale along dimension 0; the zero
point is ignored, as TFLite's hybrid lookup does); int8 with an int8 output copies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_arity, require_type


@dataclass(frozen=True)
class EmbeddingParams:
    dtype: np.dtype
    row_scales: np.ndarray | None = None  # hybrid: float32 scale per row (one value broadcast)


class EmbeddingLookup(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> EmbeddingParams:
        require_arity(op, 2, "EMBEDDING_LOOKUP takes lookup ids and a value tensor")
        ids, value = op.inputs
        out = op.outputs[0]
        require_type(op, ids, ("INT32",), "lookup")
        require_type(op, value, ("FLOAT32", "INT8", "UINT8"), "value")
        if len(value.shape) < 2:
            raise ModelError(f"{op.where()}: EMBEDDING_LOOKUP's value tensor must be at least 2-D (TFLite checks it)")
        if out.type == value.type:
            return EmbeddingParams(np.dtype(out.dtype))
        if out.type != "FLOAT32" or not value.quantized:
            raise op.unsupported(f"EMBEDDING_LOOKUP of {value.type} to {out.type}")
        scales = value.scales.astype(np.float32)
        if scales.size > 1 and value.quantized_dimension != 0:
            raise op.unsupported("per-channel embedding scales must be along dimension 0")
        return EmbeddingParams(np.dtype(np.float32), scales)

    @staticmethod
    def eval(p: EmbeddingParams, ids, value):
        rows = ids.reshape(-1).astype(np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= value.shape[0]):
            raise fail(f"EMBEDDING_LOOKUP: ids must be in [0, {value.shape[0]}), got {rows.min()}..{rows.max()}")
        taken = value[rows]
        if p.row_scales is None:
            return taken.astype(p.dtype, copy=False).reshape((ids.size,) + value.shape[1:])
        scale = p.row_scales[rows] if p.row_scales.size > 1 else p.row_scales[0]
        scale = np.asarray(scale, np.float32).reshape((-1,) + (1,) * (value.ndim - 1)) if np.ndim(scale) else scale
        return (taken.astype(np.float32) * scale).astype(np.float32).reshape((ids.size,) + value.shape[1:])
