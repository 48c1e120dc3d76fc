"""fast/requant.py's table requantization (requant_table_rows: the wrapping variant, and the
no-wrap variant no_wrap allows) against the reference arithmetic (kernels/fixedpoint.py's
MultiplyByQuantizedMultiplier, + zero point, wrapped, clamped), over Hypothesis-drawn layers and
accumulators: per-channel multipliers and shifts (left shifts too), biases, zero points, clamps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.fast import HAVE_NUMBA
from eightbit.kernels.fast import requant as rq

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="the compiled kernels need numba")


def _reference(acc, bias, mult, shift, out_zp, lo, hi):
    a = fp.wrap_int32(np.asarray(acc, np.int64) + bias)
    y = fp.wrap_int32(fp.multiply_by_quantized_multiplier(a, mult, shift) + out_zp)
    return np.clip(y, lo, hi)


@st.composite
def layers(draw, left_shifts: bool):
    cols = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    reals = np.exp(rng.uniform(np.log(1e-9), np.log(8.0 if left_shifts else 0.99), cols))
    mult, shift = fp.quantize_multiplier_array(reals)
    if draw(st.booleans()):  # some channels with the extreme multipliers and shifts
        mult[0], shift[0] = (1 << 31) - 1, -31
        mult[-1], shift[-1] = 1 << 30, 0
    bound = draw(st.sampled_from([300_000, 1 << 24, (1 << 30) - 1]))
    bias = rng.integers(-(1 << 31) + bound + 300, (1 << 31) - bound - 300, cols)
    bias = np.where(rng.random(cols) < 0.5, bias // 1000, bias)
    out_zp = draw(st.integers(-128, 255))
    lo = draw(st.integers(-200, 0))
    hi = draw(st.integers(0, 300))
    acc = rng.integers(-bound, bound + 1, (draw(st.integers(1, 6)), cols))
    acc.reshape(-1)[: min(2, acc.size)] = [bound, -bound][: min(2, acc.size)]
    return acc, bias, mult, shift, out_zp, lo, hi, bound


def _run(acc, bias, mult, shift, out_zp, lo, hi, nowrap, dtype=np.int64):
    out = np.empty(acc.shape, np.int32)
    table = rq.table(bias, mult, shift)
    rq.requant_table_rows.run()(acc.astype(dtype), table, nowrap, np.int64(out_zp), np.int64(lo), np.int64(hi), out)
    return out


@settings(max_examples=150, deadline=None)
@given(layers(left_shifts=False))
def test_no_wrap_variant_equals_reference(layer):
    acc, bias, mult, shift, out_zp, lo, hi, bound = layer
    assert rq.no_wrap(bound, bias, shift, out_zp)
    want = _reference(acc, bias, mult, shift, out_zp, lo, hi)
    for dtype in (np.int64, np.float64):
        np.testing.assert_array_equal(_run(acc, bias, mult, shift, out_zp, lo, hi, True, dtype), want)


@settings(max_examples=150, deadline=None)
@given(layers(left_shifts=True), st.sampled_from([0, 1 << 31, -(1 << 33)]))
def test_wrapping_variant_equals_reference(layer, offset):
    """Left shifts, and accumulators past int32 (an offset of 2^31: wrapped like the C++ sum)."""
    acc, bias, mult, shift, out_zp, lo, hi, _ = layer
    acc = acc + offset
    want = _reference(acc, bias, mult, shift, out_zp, lo, hi)
    np.testing.assert_array_equal(_run(acc, bias, mult, shift, out_zp, lo, hi, False), want)
    np.testing.assert_array_equal(_run(acc, bias, mult, shift, out_zp, lo, hi, False, np.float64), want)


@pytest.mark.parametrize("bound, bias, shift, out_zp, ok", [
    (300_000, [5, -7], [-3, -9], 0, True),
    (300_000, [5, -7], [-3, 1], 0, False),  # a left shift
    ((1 << 31) - 300_000, [299_000], [-3], 0, True),
    ((1 << 31) - 300_000, [300_000], [-3], 0, False),  # |acc + bias| may leave int32
    ((1 << 31) - 300_000, [-299_000], [-3], 1_000, False),  # ... with the zero point
    (0, [], [], 0, True),
])
def test_no_wrap_proof(bound, bias, shift, out_zp, ok):
    assert rq.no_wrap(bound, np.array(bias, np.int64), np.array(shift, np.int64), out_zp) is ok
