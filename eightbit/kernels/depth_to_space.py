"""DEPTH_TO_SPACE (TFLite kernels/depth_to_space.cc, reference DepthToSpace), NHWC.

out[n, h*b + i, w*b + j, c] = in[n, h, w, (i*b + j)*C_out + c].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import OpContext
from eightbit.kernels.movement import Move, fail

SPACE_DEPTH_TYPES = frozenset({"FLOAT32", "INT8", "UINT8", "INT32", "INT64"})


def check_space_depth(op: OpContext) -> int:
    x = op.inputs[0]
    if len(x.shape) != 4:
        raise ModelError(f"{op.where()}: the input must be 4-D NHWC")
    b = int(op.options.get("block_size", 0))
    if b < 1:
        raise ModelError(f"{op.where()}: block_size must be >= 1, got {b}")
    return b


@dataclass(frozen=True, eq=False)
class DepthToSpaceParams:
    """block_size."""

    b: int


class SpaceDepthKernel(Move):
    """DEPTH_TO_SPACE and SPACE_TO_DEPTH share their types and Prepare; only eval differs."""

    allowed = SPACE_DEPTH_TYPES

    @staticmethod
    def check(op: OpContext):
        return DepthToSpaceParams(b=check_space_depth(op))


class DepthToSpace(SpaceDepthKernel):
    @staticmethod
    def eval(params, x):
        b = params.b
        n, h, w, c = x.shape
        if c % (b * b):
            raise fail(f"DEPTH_TO_SPACE: depth {c} is not divisible by block_size^2 = {b * b}")
        co = c // (b * b)
        y = x.reshape(n, h, w, b, b, co).transpose(0, 1, 3, 2, 4, 5)
        return np.ascontiguousarray(y).reshape(n, h * b, w * b, co)
