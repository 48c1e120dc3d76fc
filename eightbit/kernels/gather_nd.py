"""GATHER_ND (TFLite kernels/gather_nd.cc, reference GatherNd): slices of params at the
positions the last dimension of indices gives.

params: float32, float16, int8, uint8, int16, int32, int64, bool (quantized: values copied, the
output keeps the params' scale); indices int16, int32 or int64, last dimension at most params'
rank. Output shape indices.shape[:-1] + params.shape[indices.shape[-1]:].

Every coordinate must lie in [0, size) of its dimension (LiteRT 2.3.0 checks each; older TFLite
checked only the flat offset): otherwise a run-time error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_arity, require_type

PARAMS_TYPES = ("FLOAT32", "FLOAT16", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL")
INDEX_TYPES = ("INT16", "INT32", "INT64")


@dataclass(frozen=True)
class GatherNdParams:
    dtype: np.dtype


def flat_offsets(shape: tuple, index_depth: int, indices: np.ndarray) -> tuple[np.ndarray, int]:
    """(flat offset of each slice, slice size) for indices [..., index_depth] into `shape`."""
    strides = np.cumprod((1,) + tuple(shape[::-1]), dtype=np.int64)[::-1]  # strides[k]: elements per step of dim k-1
    slice_size = int(strides[index_depth])
    offsets = indices.reshape(-1, index_depth).astype(np.int64) @ strides[1:index_depth + 1] if index_depth else \
        np.zeros(int(np.prod(indices.shape[:-1], dtype=np.int64)), np.int64)
    return offsets, slice_size


class GatherNd(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> GatherNdParams:
        require_arity(op, 2, "GATHER_ND takes params and indices, and gives 1 output")
        params, indices = op.inputs
        require_type(op, params, PARAMS_TYPES, "params")
        require_type(op, indices, INDEX_TYPES, "indices")
        if op.outputs[0].type != params.type:
            raise ModelError(f"{op.where()}: output is {op.outputs[0].type} but params are {params.type}")
        if len(indices.shape) < 1 or indices.shape[-1] > len(params.shape):
            raise ModelError(f"{op.where()}: indices of shape {tuple(indices.shape)} do not fit params of rank "
                             f"{len(params.shape)}")
        return GatherNdParams(np.dtype(op.outputs[0].dtype))

    @staticmethod
    def eval(p: GatherNdParams, params, indices):
        depth = indices.shape[-1]
        if depth > params.ndim:
            raise fail(f"GATHER_ND: index depth {depth} exceeds the params' rank {params.ndim}")
        rows = indices.reshape(-1, depth).astype(np.int64)
        bad = np.any((rows < 0) | (rows >= np.asarray(params.shape[:depth], np.int64)), axis=1)
        if bad.any():
            raise fail(f"GATHER_ND: index {rows[np.argmax(bad)].tolist()} is out of bounds for params of shape "
                       f"{params.shape}")
        offsets, slice_size = flat_offsets(params.shape, depth, indices)
        flat = params.reshape(-1)
        taken = flat[offsets[:, None] + np.arange(slice_size, dtype=np.int64)[None, :]]
        return taken.reshape(indices.shape[:-1] + params.shape[depth:]).astype(p.dtype, copy=False)
