"""POW (TFLite kernels/pow.cc): x ** y with broadcasting (any rank), float32 or int32 (both inputs and the
output of one type; no quantized kernel, so the quantizer leaves POW float).

float32: std::pow(float, float) per element (C's special cases: pow(-inf, 0.5) is +inf, where
numpy says NaN). A one-element exponent broadcast against a larger base takes another path in
LiteRT 2.3.0 (measured): an integer exponent >= 2 is applied by squaring from the top bit down
in float32 and the result clamped to [-FLT_MAX, FLT_MAX] ((-inf)^3 is -FLT_MAX, 1.5^200 is
1.6529200e35 where powf gives 1.6529199e35), exponent 1 copies the base (-inf stays), 0 gives 1;
other exponents go through std::pow. int32, as
LiteRT 2.3.0 computes it (measured): inputs of one shape go through std::pow of the two ints, the
double power converted back to int32 (exact where it fits, INT32_MIN where it does not: x86's
conversion of an out-of-range double), and so do broadcast inputs, except a one-element exponent
broadcast against a larger base, which goes through an integer power that wraps like int32
multiplication ((-12)^11 gives 20971520). A negative exponent is refused at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.logical import check_broadcast
from eightbit.kernels.movement import fail, require_arity

POW_TYPES = ("FLOAT32", "INT32")
FLT_MAX = np.float32(np.finfo(np.float32).max)


@dataclass(frozen=True)
class PowParams:
    integer: bool


def integer_pow(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """int32(std::pow(double(base), double(exponent))) for exponent >= 0: exact below 2^31 (glibc's
    pow is exact on exactly representable results), INT32_MIN where the power does not fit."""
    with np.errstate(over="ignore", invalid="ignore"):
        real = np.power(base.astype(np.float64), exponent.astype(np.float64))
    fits = np.abs(real) < 2.0**31
    return np.asarray(np.where(fits, np.trunc(np.where(fits, real, 0.0)), np.iinfo(np.int32).min)).astype(np.int32)


def wrapping_pow(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """base ** exponent by squaring in int32 arithmetic that wraps (exponent >= 0)."""
    base, exponent = (np.array(a, np.int32) for a in np.broadcast_arrays(base, exponent))
    result = np.ones(base.shape, np.int32)
    with np.errstate(over="ignore"):
        while np.any(exponent):
            result = np.where(exponent & 1, result * base, result).astype(np.int32)
            exponent >>= 1
            base = base * base
    return result


def c_pow(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """float32 std::pow: numpy's power, with C99's pow(-inf, y) for y not an odd integer."""
    out = np.asarray(np.power(x, y, dtype=np.float32), np.float32)
    fix = (x == -np.inf) & (np.floor(y) != y) & ~np.isnan(y)
    return np.where(fix, np.where(y > 0, np.float32(np.inf), np.float32(0)), out).astype(np.float32)


def squaring_pow(x: np.ndarray, n: int) -> np.ndarray:
    """x ** n (n >= 0) by squaring from the top bit down, in float32, clamped to +-FLT_MAX."""
    result = np.ones(x.shape, np.float32)
    for bit in bin(n)[2:]:
        result = result * result
        if bit == "1":
            result = result * x
    return np.clip(result, -FLT_MAX, FLT_MAX).astype(np.float32)


def _scalar_exponent(x, y) -> bool:
    """LiteRT's separate path: a one-element exponent broadcast against a larger base."""
    return x.shape != y.shape and y.size == 1


class Pow(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> PowParams:
        require_arity(op, 2, "POW takes 2 inputs and gives 1 output")
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
            return wrapping_pow(x, y) if _scalar_exponent(x, y) else integer_pow(x, y)
        with np.errstate(all="ignore"):
            e = float(y.reshape(-1)[0]) if _scalar_exponent(x, y) else None
            if e is not None and np.isfinite(e) and e >= 0 and e == int(e):
                base = np.broadcast_to(x, np.broadcast_shapes(x.shape, y.shape))
                return base.astype(np.float32) if e == 1 else squaring_pow(base, int(e))
            return c_pow(x, y)
