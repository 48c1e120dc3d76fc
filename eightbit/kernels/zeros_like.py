"""ZEROS_LIKE (TFLite kernels/zeros_like.cc): zeros of the input's shape; float32, int32, int64 only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import OpContext
from eightbit.kernels.movement import Move


@dataclass(frozen=True, eq=False)
class ZerosLikeParams:
    """The output type."""

    dtype: object


class ZerosLike(Move):
    allowed = ("FLOAT32", "INT32", "INT64")

    @staticmethod
    def check(op: OpContext):
        return ZerosLikeParams(dtype=op.outputs[0].dtype)

    @staticmethod
    def eval(params, x):
        return np.zeros(x.shape, params.dtype)
