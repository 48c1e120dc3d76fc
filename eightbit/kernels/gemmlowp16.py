"""gemmlowp fixed-point math on int16 raw values (FixedPoint<int16_t, IB>), as the integer LSTM's
ApplySigmoid / ApplyTanh use it (portable_tensor_utils.cc: gemmlowp::logistic on F3, gemmlowp::tanh
on F<IB>, both giving F0 = Q0.15).

The algorithms are gemmlowp's generic ones (the int32 versions are kernels/gemmlowp.py) with the
int16 primitives: SaturatingRoundingDoublingHighMul on int16, `+`/`-` wrapping to int16, the
int32 constants rescaled by RoundingDivideByPOT(c, 16) (RescaleConstantInitializer), and the
final add of exp_on_interval_between_negative_one_quarter_and_0_excl saturating
(AddSaturatingIf16Bit). The input domain is only 65536 values, so each function is evaluated
once over all of them and kept as a lookup table per integer-bit count.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from eightbit.kernels.fixedpoint import (
    rounding_divide_by_pot,
    rounding_divide_by_pot_int16,
    saturating_rounding_doubling_high_mul_int16,
    wrap_int16,
)

INT16_MAX, INT16_MIN = 32767, -32768
mul = saturating_rounding_doubling_high_mul_int16


def _c(int32_value: int) -> int:
    """RescaleConstantInitializer<int16>: a Q0.31-style constant rounded to 16 bits."""
    return int(rounding_divide_by_pot(np.int64(int32_value), 16))


def add(a, b):
    return wrap_int16(np.asarray(a, np.int64) + b)


def sub(a, b):
    return wrap_int16(np.asarray(a, np.int64) - b)


def neg(a):
    return wrap_int16(-np.asarray(a, np.int64))


def one(integer_bits: int) -> int:
    return INT16_MAX if integer_bits == 0 else 1 << (15 - integer_bits)


def constant_pot(integer_bits: int, exponent: int) -> int:
    return 1 << (15 - integer_bits + exponent)


def multiply_by_pot(x, exponent: int):
    """SaturatingRoundingMultiplyByPOT<exponent> on int16 values."""
    x = np.asarray(x, np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot_int16(x, -exponent)
    threshold = (1 << (15 - exponent)) - 1
    return np.where(x > threshold, INT16_MAX, np.where(x < -threshold, INT16_MIN, wrap_int16(x << exponent)))


def rescale(x, src_integer_bits: int, dst_integer_bits: int):
    return multiply_by_pot(x, src_integer_bits - dst_integer_bits)


def rounding_half_sum(a, b):
    s = np.asarray(a, np.int64) + b
    t = s + np.where(s >= 0, 1, -1)
    return wrap_int16(np.where(t >= 0, t // 2, -((-t) // 2)))


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
               (3, 720401), (4, 242))


def _exp_quarter_interval(a):
    """exp(a) for a (Q0.15) in [-1/4, 0): the Taylor expansion around -1/8."""
    constant_term, one_third = _c(1895147668), _c(715827883)
    x = add(a, constant_pot(0, -3))
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = multiply_by_pot(x4, -2)
    poly = multiply_by_pot(add(mul(add(x4_over_4, x3), one_third), x2), -1)
    return np.clip(constant_term + mul(constant_term, add(x, poly)), INT16_MIN, INT16_MAX)  # saturating add


def exp_on_negative_values(a, integer_bits: int):
    a = np.asarray(a, np.int64)
    frac = 15 - integer_bits
    quarter = constant_pot(integer_bits, -2)
    a_mod = sub(a & (quarter - 1), quarter)
    result = _exp_quarter_interval(rescale(a_mod, integer_bits, 0))
    remainder = sub(a_mod, a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = 1 << (frac + exponent)
            result = np.where((remainder & bit) != 0, mul(result, _c(multiplier)), result)
    if integer_bits > 5:
        result = np.where(a < _c(-(1 << (36 - integer_bits))), 0, result)
    return np.where(a == 0, one(0), result)


def _newton_reciprocal_f2(a):
    half_denominator = rounding_half_sum(a, one(0))
    x = add(_c(1515870810), mul(half_denominator, _c(-1010580540)))
    for _ in range(3):
        one_minus = sub(one(2), mul(half_denominator, x))
        x = add(x, rescale(mul(x, one_minus), 4, 2))
    return x


def logistic(a, integer_bits: int):
    a = np.asarray(a, np.int64)
    positive = a > 0
    abs_input = np.where(positive, a, neg(a))
    if_positive = rescale(_newton_reciprocal_f2(exp_on_negative_values(neg(abs_input), integer_bits)), 1, 0)
    if_negative = sub(one(0), if_positive)
    return np.where(a == 0, constant_pot(0, -1), np.where(positive, if_positive, if_negative))


def tanh(a, integer_bits: int):
    a = np.asarray(a, np.int64)
    negative = a < 0
    n = np.where(negative, a, neg(a))
    t = rescale(sub(_newton_reciprocal_f2(exp_on_negative_values(n, integer_bits + 1)), one(2)), 2, 0)
    return np.where(a == 0, 0, np.where(negative, neg(t), t))


_ALL = np.arange(INT16_MIN, INT16_MAX + 1, dtype=np.int64)


@cache
def logistic_table(integer_bits: int) -> np.ndarray:
    return logistic(_ALL, integer_bits).astype(np.int16)


@cache
def tanh_table(integer_bits: int) -> np.ndarray:
    return tanh(_ALL, integer_bits).astype(np.int16)


def apply_sigmoid(x) -> np.ndarray:
    """ApplySigmoid: int16 Q3.12 -> Q0.15."""
    return logistic_table(3)[np.asarray(x, np.int64) + 32768]


def apply_tanh(integer_bits: int, x) -> np.ndarray:
    """ApplyTanh<integer_bits>: int16 Q(IB).(15-IB) -> Q0.15."""
    return tanh_table(integer_bits)[np.asarray(x, np.int64) + 32768]
