"""DIV (TFLite kernels/div.cc, internal/reference/div.h).

float32: quotient clamped to the activation range (x/0 gives +-inf, which the clamp turns into
+-FLT_MAX, as in TFLite). int32: C++ division (truncates toward zero), clamped; a zero divisor
is an error, as in TFLite (so is a quantized divisor equal to its zero point).
uint8 / int8 / int16 (LiteRT 2.3.0 runs all three; older TFLite only uint8): the divisor's reciprocal in
fixed point (GetReciprocal: Newton-Raphson in gemmlowp Q2.29), the dividend normalised by its
headroom, then one multiplier s1 / (s2 * so) (float arithmetic) and the output zero point.
"""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels import binary_common as bc
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import Kernel, OpContext

_I32_MIN, _I32_MAX = fp.INT32_MIN, fp.INT32_MAX


def _bit_length(x: np.ndarray) -> np.ndarray:
    """Bits needed for non-negative int64 values (0 -> 0), exact for values below 2^32."""
    x = bc.as_int64(x)
    _, e = np.frexp(x.astype(np.float64))
    return np.where(x > 0, e, 0).astype(np.int64)


def count_leading_sign_bits(x: np.ndarray) -> np.ndarray:
    """CountLeadingSignBits for int32 values: redundant sign bits below the sign bit (0 -> 31)."""
    x = bc.as_int64(x)
    return 31 - _bit_length(np.where(x >= 0, x, -x - 1))


def _sat_shift_left(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent on int32 raw values."""
    threshold = (1 << (31 - exponent)) - 1
    y = fp.wrap_int32(x << exponent)
    return np.where(x > threshold, _I32_MAX, np.where(x < -threshold, _I32_MIN, y))


def _one_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1 on Q0.31 raw values (result Q0.31 raw)."""
    srdhm = fp.saturating_rounding_doubling_high_mul
    add = lambda u, v: fp.wrap_int32(u + v)  # noqa: E731  FixedPoint + is a wrapping int32 add
    # RoundingHalfSum(a, One) with One = INT32_MAX for zero integer bits.
    s = a + _I32_MAX
    half_denominator = np.where(s >= 0, (s + 1) // 2, -((-(s - 1)) // 2))
    c48_17, cm32_17, one_q2 = 1515870810, -1010580540, 1 << 29
    x = add(c48_17, srdhm(half_denominator, cm32_17))
    for _ in range(3):
        hd_x = srdhm(half_denominator, x)
        one_minus = add(one_q2, -hd_x)
        x = add(x, _sat_shift_left(srdhm(x, one_minus), 2))
    return _sat_shift_left(x, 1)


def get_reciprocal(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TFLite GetReciprocal(x, 31): (Q0.31 reciprocal of x's mantissa, bits above the unit)."""
    x = bc.as_int64(x)
    clz = 32 - _bit_length(x)
    num_bits_over_unit = 31 - clz
    shifted_minus_one = fp.wrap_int32(((x << clz) & 0xFFFFFFFF) - (1 << 31))
    return _one_over_one_plus_x(shifted_minus_one), num_bits_over_unit


def _zero_divisor(params: dict, why: str) -> None:
    """TFLite fails the invoke on a zero integer divisor, and so do we. The one exception is a
    run with numpy's divide errors set to "ignore": the interpreter's shape pass after a resize
    feeds zeros through the graph that way, and only needs shapes (the quotient is then computed
    with divisor 1)."""
    if np.geterr()["divide"] != "ignore":
        raise ModelError(f"{params['where']}: {why}")


def _eval(params, x1, x2):
    kind = params["kind"]
    if kind == "float":
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            y = x1 / x2
        return bc.clamp(y.astype(np.float32, copy=False), *params["clamp"])
    if kind == "int":
        if np.any(x2 == 0):
            _zero_divisor(params, "int32 division by zero")
            x2 = np.where(x2 == 0, 1, x2)
        a, b = bc.as_int64(x1), bc.as_int64(x2)
        q = np.abs(a) // np.abs(b) * np.sign(a) * np.sign(b)  # truncation toward zero
        return np.clip(fp.wrap_int32(q), *params["clamp"]).astype(np.int32)
    a = bc.as_int64(x1) + params["off1"]
    b = bc.as_int64(x2) + params["off2"]
    if np.any(b == 0):  # div.cc checks every divisor against its zero point
        _zero_divisor(params, "division by zero (divisor equals its zero point)")
        b = np.where(b == 0, 1, b)
    a, b = np.broadcast_arrays(np.where(b < 0, -a, a), np.abs(b))
    inv, recip_shift = get_reciprocal(b)
    headroom = count_leading_sign_bits(a)
    unscaled = fp.saturating_rounding_doubling_high_mul(fp.wrap_int32(a << headroom), inv)
    total_shift = params["s"] - recip_shift - headroom
    # -total_shift can leave 0..31 for small dividends and large divisors; the x86 result
    # of that undefined shift is what LiteRT produces (see rounding_divide_by_pot_x86).
    y = bc.rounding_divide_by_pot_x86(fp.saturating_rounding_doubling_high_mul(unscaled, params["m"]), -total_shift)
    y = y + params["zp"]
    return np.clip(y, *params["act"]).astype(params["dtype"])


class Div(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        bc.check_inputs(op, 2)
        t = bc.same_input_types(op)
        out = op.outputs[0]
        if out.type != t:
            raise op.unsupported(f"output type {out.type} differs from input type {t}")
        bc.broadcast_shape(op, *op.inputs)
        act = bc.activation(op)
        if t == "FLOAT32":
            return {"kind": "float", "clamp": fp.activation_range_float(act)}
        if t == "INT32":
            return {"kind": "int", "clamp": bc.int_clamp(act, np.int32), "where": op.where()}
        if t not in ("UINT8", "INT8", "INT16"):
            raise op.unsupported(f"DIV has no kernel for {t}")
        in1, in2 = op.inputs
        bc.require_quantized(op, in1, in2, out)
        lo, hi = bc.quantized_activation_range(op)
        # input1.scale / (input2.scale * output.scale), float arithmetic in div.cc.
        real = np.float32(in1.scale) / np.float32(np.float32(in2.scale) * np.float32(out.scale))
        m, s = fp.quantize_multiplier(float(np.float32(real)))
        return {
            "kind": "quant", "off1": -in1.zero_point, "off2": -in2.zero_point,
            "zp": out.zero_point, "m": m, "s": s, "act": (lo, hi), "where": op.where(), "dtype": out.dtype,
        }

    @staticmethod
    def eval(params, x1, x2):
        return np.asarray(_eval(params, x1, x2))
