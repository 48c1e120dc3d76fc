"""SPACE_TO_DEPTH against LiteRT's reference kernels: block sizes 1-4, batch > 1, several
channels, quantized, every type TFLite's kernel runs; int16 and indivisible sizes are refused in
both."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import F32, I8, I16, I32, I64, U8, check, check_both_fail, data, t

CASES = [
    ("b2_c1", (1, 4, 4, 1), 2),
    ("b2_c3_batch", (3, 4, 6, 3), 2),
    ("b3", (2, 6, 3, 2), 3),
    ("b4", (1, 4, 8, 2), 4),
    ("b1", (2, 2, 2, 3), 1),
]


@pytest.mark.parametrize("shape,b", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
def test_space_to_depth(shape, b):
    n, h, w, ch = shape
    check("SPACE_TO_DEPTH", [t(shape)], [t((n, h // b, w // b, ch * b * b))], None, {"block_size": b})


@pytest.mark.parametrize("dtype", [F32, I8, U8, I32, I64], ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    check("SPACE_TO_DEPTH", [t((2, 4, 4, 2), dtype)], [t((2, 2, 2, 8), dtype)], None, {"block_size": 2})


def test_quantized():
    check("SPACE_TO_DEPTH", [t((1, 4, 4, 1), U8, 0.5, 128)], [t((1, 2, 2, 4), U8, 0.5, 128)], None, {"block_size": 2})


@pytest.mark.parametrize("what", ["int16", "indivisible"])
def test_refused(what):
    dtype, shape = (I16, (1, 4, 4, 1)) if what == "int16" else (F32, (1, 3, 4, 1))
    check_both_fail("SPACE_TO_DEPTH", [t(shape, dtype)], [t((1, 2, 2, 4), dtype)], [data(shape, dtype)], {"block_size": 2})
