"""SHAPE (TFLite kernels/shape.cc): the input's shape as int32 or int64 (the output tensor's type)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import require_type


@dataclass(frozen=True, eq=False)
class ShapeParams:
    """The output type (int32 or int64)."""

    dtype: object


class Shape(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        # TFLite switches on the output tensor's type (ShapeOptions.out_type only records it).
        require_type(op, op.outputs[0], ("INT32", "INT64"), "output")
        if op.inputs[0] is None:
            raise op.unsupported("missing input")
        return ShapeParams(dtype=op.outputs[0].dtype)

    @staticmethod
    def eval(params, x):
        return np.array(np.shape(x), dtype=params.dtype)
