"""MAXIMUM / MINIMUM (TFLite kernels/maximum_minimum.cc, reference/maximum_minimum.h).

Elementwise on the raw values with broadcasting, for float32, int8, uint8, int16, int32 and
int64; no requantization (the quantizer gives inputs and output the same scale). As in the
reference, max(a, b) = a if a > b else b, so a NaN in a loses to b and a NaN in b wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import binary_common as bc
from eightbit.kernels.base import Kernel, OpContext

_TYPES = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64")


def _prepare(op: OpContext, name: str) -> dict:
    bc.check_inputs(op, 2)
    t = bc.same_input_types(op)
    if t not in _TYPES:
        raise op.unsupported(f"{name} has no kernel for {t}")
    if op.outputs[0].type != t:
        raise op.unsupported(f"output type {op.outputs[0].type} differs from input type {t}")
    bc.broadcast_shape(op, *op.inputs)
    return MaximumMinimumParams(dtype=op.outputs[0].dtype)


@dataclass(frozen=True, eq=False)
class MaximumMinimumParams:
    """What maximum_minimum's prepare computes for eval."""

    dtype: object = None


class Maximum(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        return _prepare(op, "MAXIMUM")

    @staticmethod
    def eval(params, x1, x2):
        with np.errstate(invalid="ignore"):
            return np.asarray(np.where(x1 > x2, x1, x2), dtype=params.dtype)


class Minimum(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        return _prepare(op, "MINIMUM")

    @staticmethod
    def eval(params, x1, x2):
        with np.errstate(invalid="ignore"):
            return np.asarray(np.where(x1 < x2, x1, x2), dtype=params.dtype)
