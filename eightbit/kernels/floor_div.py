"""FLOOR_DIV (TFLite kernels/floor_div.cc): floor(x / y) with broadcasting, on the raw values.

float32: std::floor(x / y) in float. int8, int16, int32: floor of the double quotient, exact. A
zero divisor anywhere is a run-time error for every type, float32 included, as in TFLite.
No quantized semantics (values are taken as stored), so PTQ keeps it float."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.logical import check_broadcast
from eightbit.kernels.movement import fail, require_arity


@dataclass(frozen=True)
class IntegerDivisionParams:
    integer: bool
    dtype: np.dtype


def prepare_division(op: OpContext, name: str, allowed: tuple) -> IntegerDivisionParams:
    """Checks shared by FLOOR_DIV and FLOOR_MOD: two inputs and the output of one allowed type."""
    require_arity(op, 2, f"{name} takes 2 inputs and gives 1 output")
    a, b = op.inputs
    if a.type not in allowed:
        raise op.unsupported(f"{name} does not run {a.type} (TFLite: {', '.join(allowed)})")
    if b.type != a.type or op.outputs[0].type != a.type:
        raise ModelError(f"{op.where()}: {name} needs one type for both inputs and the output, got "
                         f"{a.type}, {b.type} -> {op.outputs[0].type}")
    check_broadcast(op, a.shape, b.shape)
    return IntegerDivisionParams(a.type != "FLOAT32", np.dtype(op.outputs[0].dtype))


def check_no_zero_divisor(name: str, y) -> None:
    if np.any(np.asarray(y) == 0):
        raise fail(f"{name}: division by 0")


class FloorDiv(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> IntegerDivisionParams:
        return prepare_division(op, "FLOOR_DIV", ("FLOAT32", "INT8", "INT16", "INT32"))

    @staticmethod
    def eval(p: IntegerDivisionParams, x, y):
        check_no_zero_divisor("FLOOR_DIV", y)
        if p.integer:
            return np.asarray(np.floor_divide(x.astype(np.int64), y.astype(np.int64))).astype(p.dtype)
        with np.errstate(all="ignore"):
            return np.asarray(np.floor(np.divide(x, y, dtype=np.float32)), np.float32)
