"""SCATTER_ND (TFLite kernels/scatter_nd.cc, reference ScatterNd): a zero tensor of the given
shape with the updates added at the positions the last dimension of indices gives; updates to
the same position add up, in order.

indices: int32; updates: float32, int8, uint8, int32, int64 (values added raw, so a quantized
output keeps the updates' parameters, operator_property.cc's same-scale rule) or bool (repeated
positions: true if any update is); shape: int32, a 1-D tensor. An index outside the shape is a
run-time error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.gather_nd import flat_offsets
from eightbit.kernels.movement import as_ints, fail, require_arity, require_type

UPDATE_TYPES = ("FLOAT32", "INT8", "UINT8", "INT32", "INT64", "BOOL")


@dataclass(frozen=True)
class ScatterNdParams:
    dtype: np.dtype


class ScatterNd(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> ScatterNdParams:
        require_arity(op, 3, "SCATTER_ND takes indices, updates and shape")
        indices, updates, shape = op.inputs
        require_type(op, indices, ("INT32",), "indices")
        require_type(op, updates, UPDATE_TYPES, "updates")
        require_type(op, shape, ("INT32",), "shape")
        if op.outputs[0].type != updates.type:
            raise ModelError(f"{op.where()}: output is {op.outputs[0].type} but updates are {updates.type}")
        return ScatterNdParams(np.dtype(op.outputs[0].dtype))

    @staticmethod
    def eval(p: ScatterNdParams, indices, updates, shape):
        out_shape = tuple(int(d) for d in as_ints(shape))
        depth = indices.shape[-1] if indices.ndim else 0
        if any(d < 0 for d in out_shape) or depth > len(out_shape) or \
                updates.shape != indices.shape[:-1] + out_shape[depth:]:
            raise fail(f"SCATTER_ND: updates {updates.shape} and indices {indices.shape} do not fit shape "
                       f"{list(out_shape)}")
        inside = np.all((indices >= 0) & (indices < np.asarray(out_shape[:depth], np.int64)), axis=-1)
        if not inside.all():
            raise fail(f"SCATTER_ND: index {indices.reshape(-1, depth)[np.argmin(inside.reshape(-1))].tolist()} "
                       f"is outside shape {list(out_shape)}")
        offsets, slice_size = flat_offsets(out_shape, depth, indices)
        out = np.zeros(int(np.prod(out_shape, dtype=np.int64)), p.dtype)
        positions = (offsets[:, None] + np.arange(slice_size, dtype=np.int64)[None, :]).reshape(-1)
        accumulate = np.logical_or if p.dtype == np.bool_ else np.add
        with np.errstate(over="ignore"):
            accumulate.at(out, positions, updates.reshape(-1))
        return out.reshape(out_shape)
