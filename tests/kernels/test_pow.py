"""POW against LiteRT's reference kernels: float32 (negative bases, fractional and negative
exponents, 0 ** 0, inf / NaN), broadcasting up to 6-D, int32 (exact powers; overflow gives
INT32_MIN as the reference's double-to-int conversion does, except for a one-element exponent
broadcast against a larger base, whose path multiplies integers and wraps), batch resize, empty
tensors, and the run-time refusal of a negative int32 exponent."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import single_op_model

RNG = np.random.default_rng(71)
F32, I32 = np.float32, np.int32


def pow_model(a, b, out):
    return single_op_model("POW", [a, b], [out], {}, version=1)


def test_float32_elementwise():
    x = RNG.normal(0, 3, (3, 4, 5)).astype(F32)
    y = RNG.normal(0, 2, (3, 4, 5)).astype(F32)
    x.reshape(-1)[:8] = [0, 0, -2, -2, 2, np.inf, np.nan, -0.0]
    y.reshape(-1)[:8] = [0, -1, 3, 0.5, 1000, 0.5, 1, -3]
    check(pow_model(t(x.shape), t(y.shape), t(x.shape)), [x, y])


@pytest.mark.parametrize("a,b", [((4, 1), (1, 3)), ((2, 1, 3), (3,)), ((), (2, 3)),
                                 ((1, 2, 1, 1, 3, 1), (2, 1, 4, 1, 1, 2))])
def test_float32_broadcast(a, b):
    x = np.abs(RNG.normal(0, 3, a)).astype(F32)
    y = RNG.normal(0, 2, b).astype(F32)
    out = np.broadcast_shapes(a, b)
    check(pow_model(t(a), t(b), t(out)), [x, y])


@pytest.mark.parametrize("e", [3.0, 2.0, 1.0, 0.0, 40.0, 200.0, 2.5, 0.5, -1.0, -3.0, np.inf])
def test_float32_one_element_exponent(e):
    """LiteRT's own path: integer exponents by squaring, clamped to +-FLT_MAX; the rest std::pow."""
    x = np.array([1e30, -np.inf, 2, 0, -0.0, np.inf, -1e30, 3e10, 1.5, np.nan, -2.5], F32)
    check(pow_model(t((11,)), t(()), t((11,))), [x, np.array(e, F32)], rtol=1e-6)
    check(pow_model(t((11, 1)), t((1,)), t((11, 1))), [x.reshape(11, 1), np.array([e], F32)], rtol=1e-6)


def test_float32_constant_exponent():
    x = RNG.normal(0, 3, (2, 5)).astype(F32)
    check(pow_model(t((2, 5)), t((), data=2.0), t((2, 5))), [x])


def test_int32():
    x = np.array([0, 1, -1, 2, -3, 7, 46340, 46341, 2, -2, 3, 10], I32)
    y = np.array([0, 5, 7, 30, 19, 11, 2, 2, 31, 31, 40, 9], I32)
    check(pow_model(t((12,), I32), t((12,), I32), t((12,), I32)), [x, y])


def test_int32_one_element_exponent_broadcast_wraps():
    x = np.array([-12, 10, 3, 2, -2, 7, 46341], I32)
    y = np.array([11], I32)
    check(pow_model(t((7,), I32), t((1,), I32), t((7,), I32)), [x, y])
    check(pow_model(t((1,), I32), t((), I32), t((1,), I32)), [np.array([-12], I32), np.array(11, I32)])
    # a one-element base broadcast against exponents, or equal shapes: the double power
    check(pow_model(t((1,), I32), t((3,), I32), t((3,), I32)), [np.array([-12], I32), np.array([11, 12, 2], I32)])
    check(pow_model(t((1,), I32), t((1,), I32), t((1,), I32)), [np.array([-12], I32), np.array([11], I32)])


def test_int32_broadcast_random():
    x = RNG.integers(-20, 20, (3, 1, 4)).astype(I32)
    y = RNG.integers(0, 12, (5, 1)).astype(I32)
    check(pow_model(t(x.shape, I32), t(y.shape, I32), t((3, 5, 4), I32)), [x, y])


def test_batch_resize_and_empty():
    m = pow_model(t((1, 3)), t((1, 3)), t((1, 3)))
    check(m, [np.abs(RNG.normal(0, 2, (4, 3))).astype(F32), RNG.normal(0, 2, (4, 3)).astype(F32)])
    check(m, [np.zeros((0, 3), F32), np.zeros((0, 3), F32)])


def test_negative_int32_exponent_is_refused():
    m = pow_model(t((2,), I32), t((2,), I32), t((2,), I32))
    both_refuse(m, [np.array([2, 3], I32), np.array([1, -1], I32)], "negative", "negative exponent")
