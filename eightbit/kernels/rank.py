"""RANK (TFLite kernels/rank.cc): the input's number of dimensions, an int32 scalar."""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext


class Rank(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        if len(op.inputs) != 1 or op.inputs[0] is None or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: RANK takes 1 input and gives 1 output")
        if op.outputs[0].type != "INT32":
            raise op.unsupported(f"RANK's output must be INT32, not {op.outputs[0].type}")
        return None

    @staticmethod
    def eval(params, x):
        return np.array(np.ndim(x), np.int32)
