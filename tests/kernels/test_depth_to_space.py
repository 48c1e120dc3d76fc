"""DEPTH_TO_SPACE against LiteRT's reference kernels: block sizes 1-4, batch > 1, several output
channels, quantized (parameters copied as is), every type TFLite's kernel runs; int16 and an
indivisible depth are refused in both."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import F32, I8, I16, I32, I64, U8, check, check_both_fail, data, t

CASES = [
    ("b2_c1", (1, 2, 2, 4), 2),
    ("b2_c3_batch", (3, 2, 3, 12), 2),
    ("b3", (2, 2, 1, 18), 3),
    ("b4", (1, 1, 2, 32), 4),
    ("b1", (2, 2, 2, 3), 1),
]


@pytest.mark.parametrize("shape,b", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
def test_depth_to_space(shape, b):
    n, h, w, ch = shape
    check("DEPTH_TO_SPACE", [t(shape)], [t((n, h * b, w * b, ch // (b * b)))], None, {"block_size": b})


@pytest.mark.parametrize("dtype", [F32, I8, U8, I32, I64], ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    check("DEPTH_TO_SPACE", [t((2, 2, 2, 8), dtype)], [t((2, 4, 4, 2), dtype)], None, {"block_size": 2})


def test_quantized_params_differ_copied():
    check("DEPTH_TO_SPACE", [t((1, 2, 2, 4), I8, 0.5, 1)], [t((1, 4, 4, 1), I8, 0.25, 2)], None, {"block_size": 2})


@pytest.mark.parametrize("what", ["int16", "indivisible"])
def test_refused(what):
    dtype, shape = (I16, (1, 2, 2, 4)) if what == "int16" else (F32, (1, 2, 2, 6))
    check_both_fail("DEPTH_TO_SPACE", [t(shape, dtype)], [t((1, 4, 4, 1), dtype)], [data(shape, dtype)], {"block_size": 2})
