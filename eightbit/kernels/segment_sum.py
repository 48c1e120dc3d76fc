"""SEGMENT_SUM (TFLite kernels/segment_sum.cc, reference SegmentSum): sums of the rows of data
(float32 or int32) that share a segment id; the ids (int32, one per row) must start at 0 and step
by 0 or 1, and the output has (last id + 1) rows. Rows are added in order (float32 sums, int32
wrapping). LiteRT's BUILTIN_REF resolver lacks the op; its builtin kernel is this reference one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_type


@dataclass(frozen=True)
class SegmentSumParams:
    dtype: np.dtype


class SegmentSum(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> SegmentSumParams:
        if len(op.inputs) != 2 or any(t is None for t in op.inputs) or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: SEGMENT_SUM takes data and segment ids and gives one output")
        data, ids = op.inputs
        require_type(op, data, ("FLOAT32", "INT32"), "data")
        require_type(op, ids, ("INT32",), "segment ids")
        if op.outputs[0].type != data.type:
            raise ModelError(f"{op.where()}: SEGMENT_SUM's output is {op.outputs[0].type} but data is {data.type}")
        return SegmentSumParams(np.dtype(data.dtype))

    @staticmethod
    def eval(p: SegmentSumParams, data, ids):
        flat = ids.reshape(-1).astype(np.int64)
        if data.ndim < 1 or flat.size != data.shape[0]:
            raise fail(f"SEGMENT_SUM: {flat.size} segment ids for data of shape {data.shape}")
        if flat.size and (flat[0] != 0 or np.any((np.diff(flat) != 0) & (np.diff(flat) != 1))):
            raise fail("SEGMENT_SUM: segment ids must start at 0 and grow by 0 or 1")
        n = int(flat[-1]) + 1 if flat.size else 0
        out = np.zeros((n,) + data.shape[1:], p.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            np.add.at(out, flat, data)
        return out
