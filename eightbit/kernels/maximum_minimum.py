"""MAXIMUM / MINIMUM (TFLite kernels/maximum_minimum.cc, reference/maximum_minimum.h).

Elementwise on the raw values with broadcasting, for float32, int8, uint8, int16, int32 and
int64; no requantization (the quantizer gives inputs and output the same scale). As in the
reference, max(a, b) = a if a > b else b, so a NaN in a loses to b and a NaN in b wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import binary_common as bc
from eightbit.kernels.base import OpContext

_TYPES = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64")


@dataclass(frozen=True, eq=False)
class MaximumMinimumParams:
    dtype: object  # the output's


class _MaximumMinimum(bc.Binary):
    """MAXIMUM / MINIMUM: raw values compared, so the subclasses differ only in the comparison."""

    pick = None  # (x1, x2) -> where x1 wins

    @staticmethod
    def prepare(op: OpContext):
        t = bc.binary_input_type(op)
        if t not in _TYPES:
            raise op.unsupported(f"{op.op_type} has no kernel for {t}")
        return MaximumMinimumParams(op.outputs[0].dtype)

    @classmethod
    def eval(cls, params, x1, x2):
        with np.errstate(invalid="ignore"):
            return np.asarray(np.where(cls.pick(x1, x2), x1, x2), dtype=params.dtype)


class Maximum(_MaximumMinimum):
    pick = staticmethod(np.greater)


class Minimum(_MaximumMinimum):
    pick = staticmethod(np.less)
