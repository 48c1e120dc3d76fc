"""UNIQUE (TFLite kernels/unique.cc): the distinct values of a 1-D tensor in order of first
appearance (a dynamic-length output) and, per element, the index of its value in that list
(UniqueOptions.idx_out_type INT32 or INT64). Types: int8, int16, int32, int64, float32, uint8.
Values are told apart with operator< (std::map): -0.0 and 0.0 are one value (the first seen)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import require_type

_INDEX = {2: ("INT32", np.int32), 4: ("INT64", np.int64)}  # TensorType values


@dataclass(frozen=True)
class UniqueParams:
    dtype: np.dtype
    index_dtype: np.dtype


class Unique(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> UniqueParams:
        if len(op.inputs) != 1 or op.inputs[0] is None or len(op.outputs) != 2:
            raise ModelError(f"{op.where()}: UNIQUE takes one input and gives two outputs")
        x = op.inputs[0]
        require_type(op, x, ("INT8", "INT16", "INT32", "INT64", "FLOAT32", "UINT8"))
        if len(x.shape) != 1:
            raise ModelError(f"{op.where()}: UNIQUE's input must be 1-D, got {list(x.shape)}")
        kind = int(op.options.get("idx_out_type", 2))
        if kind not in _INDEX:
            raise op.unsupported(f"UNIQUE index type {kind} (TFLite runs INT32 and INT64)")
        name, dtype = _INDEX[kind]
        if op.outputs[0].type != x.type or op.outputs[1].type != name:
            raise ModelError(f"{op.where()}: UNIQUE's outputs must be {x.type} and {name}, got "
                             f"{op.outputs[0].type} and {op.outputs[1].type}")
        return UniqueParams(np.dtype(x.dtype), np.dtype(dtype))

    @staticmethod
    def eval(p: UniqueParams, x):
        _, first, inverse = np.unique(x, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")  # sorted values -> order of first appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return x[first[order]].astype(p.dtype), rank[inverse.reshape(-1)].astype(p.index_dtype)
