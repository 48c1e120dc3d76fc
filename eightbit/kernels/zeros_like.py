"""ZEROS_LIKE (TFLite kernels/zeros_like.cc): zeros of the input's shape; float32, int32, int64 only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import require_same_type, require_type


@dataclass(frozen=True, eq=False)
class ZerosLikeParams:
    """The output type."""

    dtype: object


class ZerosLike(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x = op.inputs[0]
        require_type(op, x, ("FLOAT32", "INT32", "INT64"))
        require_same_type(op, x, op.outputs[0])
        return ZerosLikeParams(dtype=op.outputs[0].dtype)

    @staticmethod
    def eval(params, x):
        return np.zeros(x.shape, params.dtype)
