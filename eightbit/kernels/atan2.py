"""ATAN2 (TFLite kernels/atan2.cc): std::atan2(y, x) elementwise, float32 (and float64), inputs
of one shape; computed in double and rounded once (glibc's atan2f is within an ulp of that)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import require_arity

ATAN2_TYPES = ("FLOAT32", "FLOAT64")


@dataclass(frozen=True)
class Atan2Params:
    dtype: np.dtype


class Atan2(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> Atan2Params:
        require_arity(op, 2, "ATAN2 takes y and x, and gives 1 output")
        y, x = op.inputs
        if y.type not in ATAN2_TYPES:
            raise op.unsupported(f"ATAN2 does not run {y.type} (TFLite: FLOAT32, FLOAT64)")
        if x.type != y.type or op.outputs[0].type != y.type:
            raise ModelError(f"{op.where()}: ATAN2 needs one type for y, x and the output")
        if tuple(x.shape) != tuple(y.shape):
            raise ModelError(f"{op.where()}: ATAN2's inputs must have one shape, got {tuple(y.shape)} and "
                             f"{tuple(x.shape)} (TFLite does not broadcast it)")
        return Atan2Params(np.dtype(y.dtype))

    @staticmethod
    def eval(p: Atan2Params, y, x):
        return np.asarray(np.arctan2(y.astype(np.float64), x.astype(np.float64))).astype(p.dtype)
