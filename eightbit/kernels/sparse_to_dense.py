"""SPARSE_TO_DENSE (TFLite kernels/sparse_to_dense.cc, reference SparseToDense): a dense tensor of
the given shape (1-D int32 / int64, at most 4 dimensions) filled with default_value, then the
values written at the indices (0-D / 1-D indices into a 1-D output, or [n, rank] rows), one value
each or the one scalar for all; a later index overwrites an earlier one. Values float32, int32,
int64, int8, uint8; indices int32, int64. TFLite computes each flat offset without checking the
coordinates: an offset outside the output is refused here (out-of-bounds memory in TFLite)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_type

VALUE_TYPES = ("FLOAT32", "INT32", "INT64", "INT8", "UINT8")


@dataclass(frozen=True)
class SparseToDenseParams:
    dtype: np.dtype


class SparseToDense(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> SparseToDenseParams:
        if len(op.inputs) != 4 or any(t is None for t in op.inputs) or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: SPARSE_TO_DENSE takes indices, output shape, values and a default "
                             "value, and gives one output")
        indices, shape, values, default = op.inputs
        require_type(op, indices, ("INT32", "INT64"), "indices")
        require_type(op, shape, ("INT32", "INT64"), "output shape")
        require_type(op, values, VALUE_TYPES, "values")
        if default.type != values.type or op.outputs[0].type != values.type:
            raise ModelError(f"{op.where()}: SPARSE_TO_DENSE's default value and output must be {values.type}")
        if len(indices.shape) > 2 or len(shape.shape) != 1 or len(values.shape) > 1:
            raise ModelError(f"{op.where()}: SPARSE_TO_DENSE needs indices of rank <= 2, a 1-D shape and values of "
                             "rank <= 1")
        if int(np.prod(default.shape, dtype=np.int64)) != 1:
            raise ModelError(f"{op.where()}: SPARSE_TO_DENSE's default value must hold one element")
        return SparseToDenseParams(np.dtype(values.dtype))

    @staticmethod
    def eval(p: SparseToDenseParams, indices, output_shape, values, default_value):
        dims = [int(d) for d in np.asarray(output_shape).reshape(-1)]
        if len(dims) > 4 or any(d < 0 for d in dims):
            raise fail(f"SPARSE_TO_DENSE: output shape {dims} must have at most 4 non-negative dimensions")
        idx = np.asarray(indices).astype(np.int64)
        if idx.ndim <= 1:
            if len(dims) != 1:
                raise fail("SPARSE_TO_DENSE: 0-D / 1-D indices need a 1-D output shape")
            coords = idx.reshape(-1, 1)
        else:
            if idx.shape[1] != len(dims):
                raise fail(f"SPARSE_TO_DENSE: indices of {idx.shape[1]} coordinates for a {len(dims)}-D output")
            coords = idx
        n = coords.shape[0]
        scalar = values.ndim == 0
        if not scalar and values.size < n:
            raise fail(f"SPARSE_TO_DENSE: {values.size} values for {n} indices")
        strides = np.cumprod([1] + dims[::-1][:-1])[::-1] if dims else np.zeros(0, np.int64)
        offsets = coords @ np.asarray(strides, np.int64) if n else np.zeros(0, np.int64)
        size = int(np.prod(dims, dtype=np.int64))
        if offsets.size and (offsets.min() < 0 or offsets.max() >= size):
            raise fail(f"SPARSE_TO_DENSE: an index falls outside the output of shape {dims}")
        out = np.full(size, np.asarray(default_value).reshape(-1)[0], p.dtype)
        vals = np.broadcast_to(values.reshape(-1)[:1], (n,)) if scalar else values.reshape(-1)[:n]
        last = n - 1 - np.unique(offsets[::-1], return_index=True)[1]  # the last write to each offset wins
        out[offsets[last]] = vals[last]
        return out.reshape(dims)
