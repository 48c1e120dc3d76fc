"""WHERE (TFLite kernels/where.cc): the coordinates of the true (non-zero) elements of the
condition, as int64 [count, rank], in row-major order. The output's shape depends on the data.
v1: bool condition; v2 also numeric types (non-zero is true)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import require_type

CONDITION_TYPES = ("BOOL", "FLOAT32", "INT8", "UINT8", "INT32", "INT64")


@dataclass(frozen=True)
class WhereParams:
    rank: int


class Where(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> WhereParams:
        if len(op.inputs) != 1 or op.inputs[0] is None or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: WHERE takes 1 input (the condition) and gives 1 output")
        require_type(op, op.inputs[0], CONDITION_TYPES, "condition")
        if op.outputs[0].type != "INT64":
            raise op.unsupported(f"WHERE's output must be INT64, not {op.outputs[0].type}")
        return WhereParams(len(op.inputs[0].shape))

    @staticmethod
    def eval(p: WhereParams, condition):
        return np.argwhere(np.asarray(condition) != 0).astype(np.int64).reshape(-1, condition.ndim)
