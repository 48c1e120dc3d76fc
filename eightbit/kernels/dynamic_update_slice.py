"""DYNAMIC_UPDATE_SLICE (TFLite kernels/dynamic_update_slice.cc): the operand with `update`
written at `start_indices` (1-D int32 or int64, one per dimension). As XLA defines it, each start
is clamped to [0, operand_dim - update_dim], so the update always fits. Values are copied
(quantized: the output keeps the operand's parameters)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, require_arity, require_type

DUS_TYPES = ("FLOAT32", "FLOAT16", "INT8", "INT16", "INT32", "INT64", "BOOL")


@dataclass(frozen=True)
class DynamicUpdateSliceParams:
    dtype: np.dtype


class DynamicUpdateSlice(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> DynamicUpdateSliceParams:
        require_arity(op, 3, "DYNAMIC_UPDATE_SLICE takes operand, update and start indices")
        operand, update, start = op.inputs
        require_type(op, operand, DUS_TYPES, "operand")
        require_type(op, start, ("INT32", "INT64"), "start indices")
        if update.type != operand.type or op.outputs[0].type != operand.type:
            raise ModelError(f"{op.where()}: operand, update and output must share a type")
        if len(update.shape) != len(operand.shape):
            raise ModelError(f"{op.where()}: update rank {len(update.shape)} differs from the operand's "
                             f"{len(operand.shape)}")
        return DynamicUpdateSliceParams(np.dtype(op.outputs[0].dtype))

    @staticmethod
    def eval(p: DynamicUpdateSliceParams, operand, update, start):
        starts = as_ints(start)
        if starts.size != operand.ndim or any(u > d for u, d in zip(update.shape, operand.shape)):
            raise fail(f"DYNAMIC_UPDATE_SLICE: update {update.shape} and start {starts.tolist()} do not fit an "
                       f"operand of shape {operand.shape}")
        out = operand.astype(p.dtype, copy=True)
        where = tuple(slice(int(np.clip(s, 0, d - u)), int(np.clip(s, 0, d - u)) + u)
                      for s, d, u in zip(starts.tolist(), operand.shape, update.shape))
        out[where] = update
        return out
