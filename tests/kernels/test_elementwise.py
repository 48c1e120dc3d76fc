"""ABS, SQRT, RSQRT, LOG, SQUARE against LiteRT's reference kernels: float32, int32 / raw int16 ABS,
quantized int8 and int16 over every representable input (same and different scales, zero-point
extremes, scale ratios far from one), batch resize, empty tensors, and the run-time errors on
negative inputs that TFLite raises for quantized SQRT / RSQRT."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eightbit.kernels import fixedpoint as fp
from tests.oracle import assert_same_as_litert, run_eightbit, run_litert, single_op_model

RNG = np.random.default_rng(5)
F32, I8, I16, I32 = np.float32, np.int8, np.int16, np.int32
ALL_I8 = np.arange(-128, 128, dtype=I8).reshape(2, 128)
ALL_I16 = np.arange(-32768, 32768, dtype=np.int64).astype(I16).reshape(4, 128, 128)
POS_I16 = np.arange(0, 32768, dtype=I16).reshape(2, 16384)


def t(shape, dtype=F32, scale=None, zp=0):
    d = {"shape": shape, "dtype": dtype}
    if scale is not None:
        d.update(scale=scale, zero_point=zp)
    return d


def case(cid, op, inp, out, x, feed=None):
    return pytest.param(op, inp, out, np.asarray(x if feed is None else feed, inp["dtype"]), id=cid)


def q(x, dtype, scale, zp, out_scale, out_zp, op, cid, feed=None):
    """A quantized case on x (its shape is the model's)."""
    x = np.asarray(x, dtype)
    return case(cid, op, t(x.shape, dtype, scale, zp), t(x.shape, dtype, out_scale, out_zp), x, feed)


FLOATS = RNG.normal(0.0, 10.0, (2, 3, 4)).astype(F32)
FLOATS.reshape(-1)[:4] = [0.0, -0.0, 1e-38, -3.0e38]
POSITIVE = np.abs(RNG.normal(0.0, 10.0, (2, 3, 4))).astype(F32) + F32(1e-3)
POSITIVE.reshape(-1)[:3] = [1e-30, 3.0e38, 1.0]

CASES = [
    # ABS
    case("abs_f32", "ABS", t(FLOATS.shape), t(FLOATS.shape), FLOATS),
    case("abs_f32_batch", "ABS", t((1, 4)), t((1, 4)), None, feed=RNG.normal(0, 1, (3, 4))),
    case("abs_f32_empty", "ABS", t((0, 4)), t((0, 4)), np.zeros((0, 4))),
    case("abs_i32", "ABS", t((6,), I32), t((6,), I32), [-(2**31), 2**31 - 1, -5, 0, 7, -(2**31) + 1]),
    case("abs_i16_raw", "ABS", t((6,), I16), t((6,), I16), [-32768, 32767, -1, 0, 5, -32767]),
    q(ALL_I8, I8, 0.05, 0, 0.05, 0, "ABS", "abs_i8_same"),
    q(ALL_I8, I8, 0.05, -7, 0.05, 20, "ABS", "abs_i8_same_scale_zps"),
    q(ALL_I8, I8, 0.05, -128, 0.05, -128, "ABS", "abs_i8_zp_min"),
    q(ALL_I8, I8, 0.05, 127, 0.1, -128, "ABS", "abs_i8_zp_max_rescale"),
    q(ALL_I8, I8, 0.1, 3, 0.0371, -100, "ABS", "abs_i8_up"),
    q(ALL_I8, I8, 0.1, 3, 7.3, 5, "ABS", "abs_i8_down"),
    q(ALL_I8, I8, 0.1, 0, 1e-7, 0, "ABS", "abs_i8_huge_ratio"),
    q(ALL_I8, I8, 0.1, 0, 1e9, 0, "ABS", "abs_i8_tiny_ratio"),
    q(ALL_I16, I16, 1 / 4096, 0, 1 / 4096, 0, "ABS", "abs_i16_same"),
    q(ALL_I16, I16, 1 / 4096, 0, 1 / 3000, 0, "ABS", "abs_i16_rescale"),
    q(np.zeros((1, 4), I8), I8, 0.1, 2, 0.2, 1, "ABS", "abs_i8_batch", feed=RNG.integers(-128, 128, (5, 4))),
    q(np.zeros((0, 2), I8), I8, 0.1, 2, 0.2, 1, "ABS", "abs_i8_empty"),
    # SQRT
    case("sqrt_f32", "SQRT", t(POSITIVE.shape), t(POSITIVE.shape), POSITIVE),
    case("sqrt_f32_zero", "SQRT", t((3,)), t((3,)), [0.0, -0.0, 4.0]),
    q(ALL_I8, I8, 0.1, -128, 0.05, -128, "SQRT", "sqrt_i8"),
    q(ALL_I8, I8, 0.02, -128, 0.013, 17, "SQRT", "sqrt_i8_zp"),
    q(ALL_I8, I8, 3.0, -128, 0.01, -128, "SQRT", "sqrt_i8_saturates"),
    q(ALL_I8[:, 64:], I8, 0.1, -64, 0.2, 0, "SQRT", "sqrt_i8_nonneg_part"),
    q(POS_I16, I16, 0.01, 0, 0.002, 0, "SQRT", "sqrt_i16"),
    q(POS_I16, I16, 1.0, 0, 0.001, 0, "SQRT", "sqrt_i16_saturates"),
    # RSQRT
    case("rsqrt_f32", "RSQRT", t(POSITIVE.shape), t(POSITIVE.shape), POSITIVE),
    q(ALL_I8, I8, 0.1, -128, 0.05, -128, "RSQRT", "rsqrt_i8"),
    q(ALL_I8, I8, 0.01, -128, 0.1, -20, "RSQRT", "rsqrt_i8_small_inputs"),
    q(ALL_I8, I8, 2.0, -128, 0.004, -128, "RSQRT", "rsqrt_i8_large_inputs"),
    q(ALL_I8[:, 100:], I8, 0.05, -28, 0.02, 3, "RSQRT", "rsqrt_i8_zp"),
    # 1 / (sqrt(128) * 1000) < 2^-11: shift - 20 < -31, and LiteRT's int32 RoundingDivideByPOT runs
    # with x86's masked shift counts (the fuzzer's case: [127, 127, 127], not the zero point).
    q([1, 7, 127], I8, 128.0, 0, 1000.0, 0, "RSQRT", "rsqrt_i8_shift_below_minus_31"),
    q(ALL_I8[:, 128:], I8, 128.0, 0, 1000.0, 0, "RSQRT", "rsqrt_i8_shift_below_minus_31_all"),
    q(ALL_I8, I8, 3.0, -128, 5e4, -20, "RSQRT", "rsqrt_i8_shift_far_below_minus_31"),
    q(ALL_I8, I8, 1e4, -128, 3e7, 0, "RSQRT", "rsqrt_i8_shift_minus_51"),  # the lowest: -31 - 20
    q(POS_I16, I16, 0.001, 0, 0.001, 0, "RSQRT", "rsqrt_i16"),
    q(POS_I16, I16, 0.5, 0, 1 / 32768, 0, "RSQRT", "rsqrt_i16_small_out"),
    # LOG
    case("log_f32", "LOG", t(POSITIVE.shape), t(POSITIVE.shape), POSITIVE),
    q(ALL_I8, I8, 0.1, -128, 0.05, 0, "LOG", "log_i8"),
    q(ALL_I8, I8, 0.1, 0, 0.03, 10, "LOG", "log_i8_nonpositive_inputs"),
    q(ALL_I8, I8, 10.0, -100, 0.1, -128, "LOG", "log_i8_large"),
    q(ALL_I16, I16, 0.01, 0, 0.0005, 0, "LOG", "log_i16"),
    q(ALL_I16, I16, 1e-4, 0, 4e-4, 0, "LOG", "log_i16_small"),
    # SQUARE: float32 only; huge values overflow to inf, NaN and -0.0 pass through
    case("square_f32", "SQUARE", t(FLOATS.shape), t(FLOATS.shape), FLOATS),
    case("square_f32_specials", "SQUARE", t((6,)), t((6,)), [np.inf, -np.inf, np.nan, -0.0, 1e20, 1.5e-23]),
    case("square_f32_batch", "SQUARE", t((1, 4)), t((1, 4)), None, feed=RNG.normal(0, 1, (3, 4))),
    case("square_f32_empty", "SQUARE", t((0, 4)), t((0, 4)), np.zeros((0, 4))),
]


@pytest.mark.parametrize("op,inp,out,x", CASES)
def test_elementwise(op, inp, out, x):
    assert_same_as_litert(single_op_model(op, [inp], [out]), [x])


@pytest.mark.parametrize("op,x,scale,zp", [
    pytest.param("SQRT", [-1, 0, 5], 0.1, 0, id="sqrt_i8"),
    pytest.param("RSQRT", [3, 1, 5], 0.1, 2, id="rsqrt_i8"),
    pytest.param("RSQRT", [-2, 1, 5], 0.1, 0, id="rsqrt_i8_zp0"),
])
def test_negative_quantized_input_is_an_error(op, x, scale, zp):
    """TFLite fails the invoke when a quantized SQRT/RSQRT input is below its zero point."""
    model = single_op_model(op, [t((3,), I8, scale, zp)], [t((3,), I8, 0.1, 0)])
    x = np.asarray(x, I8)
    with pytest.raises(RuntimeError):
        run_litert(model, [x])
    with pytest.raises(RuntimeError):
        run_eightbit(model, [x])


@pytest.mark.parametrize("dtype,scale", [(I8, 0.1), (I16, 0.01), (I32, None)], ids=["i8", "i16", "i32"])
def test_square_refuses_non_float(dtype, scale):
    """TFLite's SQUARE is float32 only: LiteRT refuses the model, and so does eightbit."""
    model = single_op_model("SQUARE", [t((3,), dtype, scale)], [t((3,), dtype, scale)])
    x = np.array([1, 2, 3], dtype)
    with pytest.raises(Exception):  # noqa: B017 - LiteRT raises RuntimeError or ValueError
        run_litert(model, [x])
    with pytest.raises(Exception):  # noqa: B017 - UnsupportedTypeError at allocate
        run_eightbit(model, [x])


def test_rsqrt_i16_negative_input_is_an_error():
    model = single_op_model("RSQRT", [t((2,), I16, 0.01, 0)], [t((2,), I16, 0.01, 0)])
    x = np.array([-1, 4], I16)
    with pytest.raises(RuntimeError):
        run_litert(model, [x])
    with pytest.raises(RuntimeError):
        run_eightbit(model, [x])


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=2, max_value=2**31 - 1))
def test_inv_sqrt_multiplier_is_one_over_sqrt(x):
    """GetInvSqrtQuantizedMultiplierExp (RSQRT int8 above, L2 normalization elsewhere) beyond the
    255 inputs RSQRT reaches: multiplier * 2^(shift - 31) is 1/sqrt(x) to within its Newton error."""
    mult, shift = fp.get_inv_sqrt_quantized_multiplier_exp(np.array([x]), -1)
    assert 0 < int(mult[0]) < 2**31
    approx = float(mult[0]) * 2.0 ** (int(shift[0]) - 31)
    assert abs(approx * np.sqrt(float(x)) - 1.0) < 2e-6
