"""POW (TFLite kernels/pow.cc): x ** y with broadcasting (any rank), float32 or int32 (both inputs and the
output of one type; no quantized kernel, so the quantizer leaves POW float).

float32: std::pow(float, float) per element (numpy's float32 power calls powf). int32: the
reference kernel's std::pow of the two ints, which is the double power converted back to int32,
exact where it fits and INT32_MIN where it does not (x86's conversion of an out-of-range double);
a negative exponent is refused at run time, as TFLite does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.logical import check_broadcast
from eightbit.kernels.movement import fail

POW_TYPES = ("FLOAT32", "INT32")


@dataclass(frozen=True)
class PowParams:
    integer: bool


def integer_pow(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """int32(std::pow(double(base), double(exponent))) for exponent >= 0: exact below 2^31 (glibc's
    pow is exact on exactly representable results), INT32_MIN where the power does not fit."""
    with np.errstate(over="ignore", invalid="ignore"):
        real = np.power(base.astype(np.float64), exponent.astype(np.float64))
    fits = np.abs(real) < 2.0**31
    return np.where(fits, np.trunc(np.where(fits, real, 0.0)), np.iinfo(np.int32).min).astype(np.int32)


class Pow(Kernel):
    types = ("float32",)

    @staticmethod
    def prepare(op: OpContext) -> PowParams:
        if len(op.inputs) != 2 or any(t is None for t in op.inputs) or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: POW takes 2 inputs and gives 1 output")
        a, b = op.inputs
        if a.type not in POW_TYPES:
            raise op.unsupported(f"POW does not run {a.type} (TFLite: FLOAT32, INT32)")
        if b.type != a.type or op.outputs[0].type != a.type:
            raise ModelError(f"{op.where()}: POW needs one type for both inputs and the output, "
                             f"got {a.type}, {b.type} -> {op.outputs[0].type}")
        check_broadcast(op, a.shape, b.shape)
        return PowParams(integer=a.type == "INT32")

    @staticmethod
    def eval(params: PowParams, x, y):
        if params.integer:
            if y.size and int(y.min()) < 0:
                raise fail("POW: integer power with a negative exponent is not supported")
            return integer_pow(x, y)
        with np.errstate(all="ignore"):
            return np.power(x, y, dtype=np.float32)
