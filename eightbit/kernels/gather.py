"""GATHER (TFLite kernels/gather.cc, reference Gather): slices along an axis at given positions.

Output shape: input[:axis] + positions[batch_dims:] + input[axis + 1:]; the first batch_dims
dimensions of input and positions are shared. Positions outside [0, input.shape[axis]) make
TFLite's kernel fail (negative ones included), so they raise here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, index_operand, require_type

GATHER_TYPES = frozenset({"FLOAT32", "FLOAT16", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL"})


@dataclass(frozen=True, eq=False)
class GatherParams:
    """GatherOptions."""

    axis: int
    batch_dims: int


class Gather(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, out = op.inputs[0], op.outputs[0]
        require_type(op, x, GATHER_TYPES)
        index_operand(op, 1, ("INT16", "INT32", "INT64"), "positions")
        if out.type != x.type:
            raise ModelError(f"{op.where()}: output is {out.type}, input {x.type}")
        return GatherParams(axis=int(op.options.get("axis", 0)), batch_dims=int(op.options.get("batch_dims", 0)))

    @staticmethod
    def eval(params, x, positions):
        pos = np.asarray(positions).astype(np.int64)
        axis, bd = params.axis, params.batch_dims
        if axis < 0:
            axis += x.ndim
        if bd < 0:
            bd += pos.ndim
        if not 0 <= axis < x.ndim:
            raise fail(f"GATHER: axis {params.axis} out of range for rank {x.ndim}")
        if not 0 <= bd <= axis or bd > pos.ndim:
            raise fail(f"GATHER: batch_dims {params.batch_dims} must be in [0, axis] and at most the positions' rank")
        if x.shape[:bd] != pos.shape[:bd]:
            raise fail(f"GATHER: batch dimensions differ: {x.shape[:bd]} vs {pos.shape[:bd]}")
        axis_size = x.shape[axis]
        if pos.size and (pos.min() < 0 or pos.max() >= axis_size):
            raise fail(f"GATHER: positions must be in [0, {axis_size}), got {pos.min()}..{pos.max()}")
        batch = int(np.prod(x.shape[:bd], dtype=np.int64))
        outer = int(np.prod(x.shape[bd:axis], dtype=np.int64))
        inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
        coords = int(np.prod(pos.shape[bd:], dtype=np.int64))
        xr = x.reshape(batch, outer, axis_size, inner)
        pr = pos.reshape(batch, coords)
        picked = xr[np.arange(batch)[:, None, None], np.arange(outer)[None, :, None], pr[:, None, :]]
        out_shape = x.shape[:axis] + pos.shape[bd:] + x.shape[axis + 1:]
        return np.ascontiguousarray(picked).reshape(out_shape)
