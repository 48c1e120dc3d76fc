"""FLOOR_MOD (TFLite kernels/floor_mod.cc): x - floor(x / y) * y with broadcasting, the sign of
the divisor, on the raw values.

Integers (int8, int16, int32, int64): the truncated remainder, plus y where it is non-zero and
its sign differs from y's (Python's %); a zero divisor is a run-time error. float32: std::fmod,
adjusted the same way."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.floor_div import IntegerDivisionParams, check_no_zero_divisor, prepare_division


class FloorMod(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> IntegerDivisionParams:
        return prepare_division(op, "FLOOR_MOD", ("FLOAT32", "INT8", "INT16", "INT32", "INT64"))

    @staticmethod
    def eval(p: IntegerDivisionParams, x, y):
        if p.integer:
            check_no_zero_divisor("FLOOR_MOD", y)
            return np.asarray(np.mod(x.astype(np.int64), y.astype(np.int64))).astype(p.dtype)
        with np.errstate(all="ignore"):
            r = np.fmod(x, y, dtype=np.float32)
            adjust = (r != 0) & ((y < 0) != (r < 0))
            return np.asarray(np.where(adjust, r + y, r), np.float32)
