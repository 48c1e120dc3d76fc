"""Properties of the fixed-point helpers against exact big-integer / rational arithmetic written from
the definitions in gemmlowp's fixedpoint.h, TFLite's common.h and quantization_util.cc."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eightbit.kernels import fixedpoint as fp

I32_MIN, I32_MAX = -(2 ** 31), 2 ** 31 - 1
int32s = st.integers(I32_MIN, I32_MAX)
multipliers = st.integers(2 ** 30, I32_MAX)  # what QuantizeMultiplier produces (plus 0)
SETTINGS = settings(max_examples=300, deadline=None)


def trunc_div(n: int, d: int) -> int:
    """C++ integer division: the quotient truncated toward zero."""
    q = abs(n) // abs(d)
    return q if (n >= 0) == (d > 0) else -q


def round_away(fr: Fraction) -> int:
    """Nearest integer, halves away from zero."""
    fl = math.floor(abs(fr))
    r = fl + (1 if abs(fr) - fl >= Fraction(1, 2) else 0)
    return r if fr >= 0 else -r


def wrap32(v: int) -> int:
    return (v + 2 ** 31) % 2 ** 32 - 2 ** 31


def srdhm_def(a: int, b: int) -> int:
    if a == b == I32_MIN:
        return I32_MAX
    ab = a * b
    nudge = 2 ** 30 if ab >= 0 else 1 - 2 ** 30
    return trunc_div(ab + nudge, 2 ** 31)


def rdbpot_def(x: int, e: int) -> int:
    return round_away(Fraction(x, 2 ** e))


def mbqm_def(x: int, q: int, shift: int) -> int:
    left, right = max(shift, 0), max(-shift, 0)
    return rdbpot_def(srdhm_def(wrap32(x * 2 ** left), q), right)


def mbqm64_def(x: int, q: int, shift: int) -> int:
    reduced = (q + 2 ** 15) >> 16 if q < 0x7FFF0000 else 0x7FFF
    total = 15 - shift
    return wrap32((x * reduced + 2 ** (total - 1)) >> total)


@SETTINGS
@given(int32s, int32s)
@example(I32_MIN, I32_MIN)
@example(I32_MIN, I32_MAX)
@example(-1, 2 ** 30)
@example(1, 2 ** 30)
def test_saturating_rounding_doubling_high_mul(a, b):
    assert int(fp.saturating_rounding_doubling_high_mul(a, b)) == srdhm_def(a, b)


def test_srdhm_saturates_only_at_min_times_min():
    assert int(fp.saturating_rounding_doubling_high_mul(I32_MIN, I32_MIN)) == I32_MAX
    assert int(fp.saturating_rounding_doubling_high_mul(I32_MIN, I32_MAX)) == -I32_MAX


@SETTINGS
@given(int32s, st.integers(0, 31))
@example(5, 1)
@example(-5, 1)
@example(-6, 2)
@example(6, 2)
@example(I32_MIN, 31)
@example(I32_MAX, 31)
def test_rounding_divide_by_pot_rounds_halves_away_from_zero(x, e):
    assert int(fp.rounding_divide_by_pot(x, e)) == rdbpot_def(x, e)


@SETTINGS
@given(int32s, st.one_of(multipliers, st.just(0)), st.integers(-31, 30))
@example(I32_MAX, I32_MAX, 30)
@example(I32_MIN, 2 ** 30, 1)
@example(-3, 2 ** 30, -1)
@example(3, 2 ** 30, -1)
def test_multiply_by_quantized_multiplier_int32(x, q, shift):
    assert int(fp.multiply_by_quantized_multiplier(x, q, shift)) == mbqm_def(x, q, shift)


@SETTINGS
@given(st.integers(-(2 ** 47), 2 ** 47 - 1), st.one_of(multipliers, st.just(0x7FFF0000), st.just(0)),
       st.integers(-31, 7))
@example(2 ** 47 - 1, I32_MAX, 7)
@example(-(2 ** 47), I32_MAX, 7)
def test_multiply_by_quantized_multiplier_int64(x, q, shift):
    assert int(fp.multiply_by_quantized_multiplier_int64(x, q, shift)) == mbqm64_def(x, q, shift)


@SETTINGS
@given(st.lists(st.tuples(int32s, multipliers, st.integers(-31, 12)), min_size=1, max_size=20))
def test_multiply_by_quantized_multiplier_vectorized_per_channel(rows):
    x = np.array([r[0] for r in rows], np.int64)
    q = np.array([r[1] for r in rows], np.int64)
    s = np.array([r[2] for r in rows], np.int64)
    got = fp.multiply_by_quantized_multiplier(x[:, None], q[None, :], s[None, :])
    want = [[mbqm_def(int(a), int(b), int(c)) for b, c in zip(q, s)] for a in x]
    assert got.tolist() == want


@SETTINGS
@given(st.floats(min_value=1e-12, max_value=1e9, allow_nan=False, allow_infinity=False))
@example(1.0)
@example(0.5)
@example(2.0 ** -31)
@example(2.0 ** -32)
@example(1 - 2.0 ** -40)  # rounds up to 2^31: folded to 2^30 with shift + 1
def test_quantize_multiplier_is_the_rounded_binary_fraction(real):
    q, shift = fp.quantize_multiplier(real)
    _, e = math.frexp(real)
    qq = round_away(Fraction(real) * 2 ** (31 - e))
    if qq == 2 ** 31:
        qq, e = 2 ** 30, e + 1
    if e < -31:
        qq, e = 0, 0
    assert (q, shift) == (qq, e)
    if q:
        assert 2 ** 30 <= q < 2 ** 31
        # q * 2^(shift - 31) is within half a unit of the last place of the multiplier.
        assert abs(Fraction(q) * Fraction(2) ** (shift - 31) - Fraction(real)) <= Fraction(2) ** (shift - 32)


def test_quantize_multiplier_zero_and_flush_to_zero():
    assert fp.quantize_multiplier(0.0) == (0, 0)
    assert fp.quantize_multiplier(2.0 ** -40) == (0, 0)


@SETTINGS
@given(st.lists(st.one_of(st.floats(1e-9, 100.0), st.floats(0.0, 1e-8),
                          st.sampled_from([0.0, 2.0 ** -40, 2.0 ** -32, 2.0 ** -31, 1.0 - 2.0 ** -53, 0.5])),
                min_size=1, max_size=10))
def test_quantize_multiplier_array_matches_scalar(reals):
    m, s = fp.quantize_multiplier_array(reals)
    assert list(zip(m.tolist(), s.tolist())) == [fp.quantize_multiplier(r) for r in reals]


finite64 = st.floats(allow_nan=False, allow_infinity=False)
finite32 = st.floats(allow_nan=False, allow_infinity=False, width=32)


@SETTINGS
@given(finite64)
@example(0.49999999999999994)
@example(2.0 ** 52 + 1)
@example(-2.5)
@example(2.5)
@example(-0.5)
def test_round_half_away_float64(v):
    assert float(fp.round_half_away(np.float64(v))) == float(round_away(Fraction(v)))
    assert fp._round_half_away(v) == round_away(Fraction(v))


@SETTINGS
@given(finite32)
@example(0.49999997)
@example(8388609.0)
@example(-1.5)
def test_round_half_away_float32_keeps_dtype(v):
    r = fp.round_half_away(np.array([v], np.float32))
    assert r.dtype == np.float32
    assert float(r[0]) == float(round_away(Fraction(float(np.float32(v)))))


@SETTINGS
@given(st.lists(int32s, min_size=1, max_size=30))
def test_wrap_and_saturate(vals):
    big = np.array(vals, np.int64) * 3 + 7
    assert fp.wrap_int32(big).tolist() == [wrap32(v * 3 + 7) for v in vals]
    assert fp.saturate(np.array(vals, np.int64), np.int8).tolist() == [min(127, max(-128, v)) for v in vals]


@SETTINGS
@given(st.sampled_from([0, 1, 2, 3, 4]), st.floats(0.0001220703125, 8.0, width=32), st.integers(-128, 127),
       st.sampled_from([np.int8, np.uint8, np.int16]))
def test_activation_range_quantized(act, scale, zp, dtype):
    info = np.iinfo(dtype)
    zp = int(np.clip(zp, info.min, info.max))

    def quant(v):  # zero_point + round(f / scale), the division in float32 as TFLite's Quantize()
        return zp + round_away(Fraction(float(np.float32(v) / np.float32(scale))))

    lo, hi = int(info.min), int(info.max)
    want = {0: (lo, hi), 4: (lo, hi), 1: (max(lo, quant(0.0)), hi), 3: (max(lo, quant(0.0)), min(hi, quant(6.0))),
            2: (max(lo, quant(-1.0)), min(hi, quant(1.0)))}[act]
    assert fp.activation_range_quantized(act, scale, zp, dtype) == want
