"""DIV (TFLite kernels/div.cc, internal/reference/div.h).

float32: quotient clamped to the activation range (x/0 gives +-inf, which the clamp turns into
+-FLT_MAX, as in TFLite). int32: C++ division (truncates toward zero), clamped; a zero divisor
is an error, as in TFLite (so is a quantized divisor equal to its zero point).
uint8 / int8 / int16 (LiteRT 2.3.0 runs all three; older TFLite only uint8): the divisor's reciprocal in
fixed point (GetReciprocal: Newton-Raphson in gemmlowp Q2.29), the dividend normalised by its
headroom, then one multiplier s1 / (s2 * so) (float arithmetic) and the output zero point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels import binary_common as bc
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import gemmlowp as gl
from eightbit.kernels.base import OpContext
from eightbit.kernels.opdata import Output, Plain


def count_leading_sign_bits(x: np.ndarray) -> np.ndarray:
    """CountLeadingSignBits for int32 values: redundant sign bits below the sign bit (0 -> 31)."""
    x = bc.as_int64(x)
    return gl.count_leading_zeros32(np.where(x >= 0, x, -x - 1)) - 1


@dataclass(frozen=True, eq=False)
class IntDiv:
    """int32: truncating division, clamped; a zero divisor fails the invoke (`where` names the op)."""

    clamp: tuple
    where: str


@dataclass(frozen=True, eq=False)
class DivQuant:
    """(x1 - zp1) / (x2 - zp2) by reciprocal, requantized by s1 / (s2 * so)."""

    off1: int
    off2: int
    out: Output
    where: str


def _zero_divisor(params, why: str) -> None:
    """TFLite fails the invoke on a zero integer divisor, and so do we. The one exception is a
    run with numpy's divide errors set to "ignore": the interpreter's shape pass after a resize
    feeds zeros through the graph that way, and only needs shapes (the quotient is then computed
    with divisor 1)."""
    if np.geterr()["divide"] != "ignore":
        raise ModelError(f"{params.where}: {why}")


def _float(params: Plain, x1, x2):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        y = x1 / x2
    return bc.clamp(y.astype(np.float32, copy=False), *params.clamp)


def _int(params: IntDiv, x1, x2):
    if np.any(x2 == 0):
        _zero_divisor(params, "int32 division by zero")
        x2 = np.where(x2 == 0, 1, x2)
    a, b = bc.as_int64(x1), bc.as_int64(x2)
    q = np.abs(a) // np.abs(b) * np.sign(a) * np.sign(b)  # truncation toward zero
    return np.clip(fp.wrap_int32(q), *params.clamp).astype(np.int32)


def _quant(params: DivQuant, x1, x2):
    a = bc.as_int64(x1) + params.off1
    b = bc.as_int64(x2) + params.off2
    if np.any(b == 0):  # div.cc checks every divisor against its zero point
        _zero_divisor(params, "division by zero (divisor equals its zero point)")
        b = np.where(b == 0, 1, b)
    a, b = np.broadcast_arrays(np.where(b < 0, -a, a), np.abs(b))
    inv, recip_shift = gl.get_reciprocal(b, 31)
    headroom = count_leading_sign_bits(a)
    unscaled = fp.saturating_rounding_doubling_high_mul(fp.wrap_int32(a << headroom), inv)
    out = params.out
    total_shift = out.shift - recip_shift - headroom
    # -total_shift can leave 0..31 for small dividends and large divisors; the x86 result
    # of that undefined shift is what LiteRT produces (see rounding_divide_by_pot_x86).
    y = bc.rounding_divide_by_pot_x86(fp.saturating_rounding_doubling_high_mul(unscaled, out.multiplier), -total_shift)
    return np.clip(y + out.zero_point, out.lo, out.hi).astype(out.dtype)


def _eval(params, x1, x2):
    if isinstance(params, Plain):
        return _float(params, x1, x2)
    if isinstance(params, IntDiv):
        return _int(params, x1, x2)
    return _quant(params, x1, x2)


class Div(bc.Binary):
    @staticmethod
    def prepare(op: OpContext):
        t = bc.binary_input_type(op)
        out = op.outputs[0]
        act = bc.activation(op)
        if t == "FLOAT32":
            return Plain(fp.activation_range_float(act))
        if t == "INT32":
            return IntDiv(bc.int_clamp(act, np.int32), op.where())
        if t not in ("UINT8", "INT8", "INT16"):
            raise op.unsupported(f"DIV has no kernel for {t}")
        in1, in2 = op.inputs
        bc.require_quantized(op, in1, in2, out)
        lo, hi = bc.quantized_activation_range(op)
        # input1.scale / (input2.scale * output.scale), float arithmetic in div.cc.
        real = np.float32(in1.scale) / np.float32(np.float32(in2.scale) * np.float32(out.scale))
        m, s = fp.quantize_multiplier(float(np.float32(real)))
        return DivQuant(-in1.zero_point, -in2.zero_point, Output(out.zero_point, m, s, lo, hi, out.dtype), op.where())

    @staticmethod
    def eval(params, x1, x2):
        return np.asarray(_eval(params, x1, x2))
