"""BUCKETIZE (TFLite kernels/bucketize.cc): for each element, the number of boundaries <= it
(std::upper_bound over BucketizeOptions.boundaries, float32, which must be sorted), as int32.
Inputs: float32, float64, int32, int64 (compared with the float boundaries in the input's
type promoted as C++ does: float with float, double / integers with the boundaries widened)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import require_type


@dataclass(frozen=True)
class BucketizeParams:
    boundaries: np.ndarray  # float32


class Bucketize(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> BucketizeParams:
        if len(op.inputs) != 1 or op.inputs[0] is None or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: BUCKETIZE takes one input and gives one output")
        require_type(op, op.inputs[0], ("FLOAT32", "FLOAT64", "INT32", "INT64"))
        if op.outputs[0].type != "INT32":
            raise ModelError(f"{op.where()}: BUCKETIZE's output must be INT32, not {op.outputs[0].type}")
        raw = op.options.get("boundaries")
        if raw is None:
            raise ModelError(f"{op.where()}: BUCKETIZE has no boundaries (BucketizeOptions.boundaries)")
        boundaries = np.asarray(raw, np.float32).reshape(-1)
        if np.any(boundaries[1:] < boundaries[:-1]):
            raise ModelError(f"{op.where()}: BUCKETIZE's boundaries must be sorted")
        return BucketizeParams(boundaries)

    @staticmethod
    def eval(p: BucketizeParams, x):
        # upper_bound: the first boundary > x. float32 compares in float32; double and the
        # integers compare with the boundary converted to double (exact for both).
        wide = x.astype(np.float64) if x.dtype != np.float32 else x
        bounds = p.boundaries.astype(wide.dtype)
        return np.asarray(np.searchsorted(bounds, wide, side="right"), np.int32)
