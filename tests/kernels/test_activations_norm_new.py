"""RELU_0_TO_1 and LOCAL_RESPONSE_NORMALIZATION against LiteRT's reference kernels: RELU_0_TO_1
float32 and int8 / uint8 over every input value with assorted scales and zero points (int16 is
refused by both); LRN float32 with assorted radius / bias / alpha / beta, depth smaller than the
window, batch resize.

LiteRT 2.3.0's reference LRN is wrong: its window is [c - radius, c + radius), leaving out channel
c + radius (radius 0 sums nothing). TFLite's documented semantics (and TensorFlow's) sum over
[c - radius, c + radius]; eightbit keeps them, so LRN is compared with LiteRT's builtin
(optimized) resolver, which has them, and the reference defect is pinned by its own test."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import run_litert, single_op_model

RNG = np.random.default_rng(79)
F32, I8, U8, I16 = np.float32, np.int8, np.uint8, np.int16


def test_relu_0_to_1_float():
    x = RNG.normal(0, 1, (3, 50)).astype(F32)
    x.reshape(-1)[:6] = [0.0, -0.0, 1.0, np.inf, -np.inf, np.nan]
    check(single_op_model("RELU_0_TO_1", [t(x.shape)], [t(x.shape)], {}), [x], exact=True)


@pytest.mark.parametrize("dtype,q_in,q_out", [
    (I8, (0.01, 0), (0.01, 0)), (I8, (0.02, -30), (1 / 255, -128)), (I8, (0.5, 100), (0.003, -20)),
    (U8, (0.01, 128), (1 / 255, 0)), (U8, (0.1, 0), (0.004, 7)), (I8, (1e-4, 5), (0.02, 127)),
])
def test_relu_0_to_1_quantized(dtype, q_in, q_out):
    info = np.iinfo(dtype)
    x = np.arange(info.min, info.max + 1).astype(dtype).reshape(2, 128)
    m = single_op_model("RELU_0_TO_1", [t(x.shape, dtype, *q_in)], [t(x.shape, dtype, *q_out)], {})
    check(m, [x])


def test_relu_0_to_1_int16_is_refused():
    m = single_op_model("RELU_0_TO_1", [t((4,), I16, 0.01, 0)], [t((4,), I16, 0.01, 0)], {})
    both_refuse(m, [np.arange(4).astype(I16)], "", "RELU_0_TO_1|int16|INT16")


@pytest.mark.parametrize("radius,bias,alpha,beta", [(2, 1.0, 1e-4, 0.75), (0, 2.0, 0.5, 0.5), (5, 1.0, 1.0, 1.0),
                                                    (1, 0.5, 3.0, 0.3), (3, 1e-3, 1e-2, 2.0)])
def test_lrn(radius, bias, alpha, beta):
    x = RNG.normal(0, 3, (2, 3, 4, 7)).astype(F32)
    opts = {"radius": radius, "bias": bias, "alpha": alpha, "beta": beta}
    m = single_op_model("LOCAL_RESPONSE_NORMALIZATION", [t(x.shape)], [t(x.shape)], opts)
    check(m, [x], reference=False)


def test_lrn_batch_resize():
    m = single_op_model("LOCAL_RESPONSE_NORMALIZATION", [t((1, 2, 2, 16))], [t((1, 2, 2, 16))],
                        {"radius": 4, "bias": 1.0, "alpha": 0.001, "beta": 0.75})
    check(m, [RNG.normal(0, 10, (3, 2, 2, 16)).astype(F32)], reference=False)


def test_lrn_reference_defect_is_not_reproduced():
    x = np.array([2.0, 1.0, 3.0], F32).reshape(1, 1, 1, 3)
    m = single_op_model("LOCAL_RESPONSE_NORMALIZATION", [t(x.shape)], [t(x.shape)],
                        {"radius": 1, "bias": 1.0, "alpha": 1.0, "beta": 1.0})
    (ours,) = check(m, [x], reference=False)
    (reference,) = run_litert(m, [x])
    # channel 1 sums 2^2 + 1^2 + 3^2 = 14 (1 / 15); LiteRT's reference sums only 2^2 + 1^2 (1 / 6)
    np.testing.assert_allclose(ours.ravel()[1], 1 / 15, rtol=1e-6)
    np.testing.assert_allclose(reference.ravel()[1], 1 / 6, rtol=1e-6)
