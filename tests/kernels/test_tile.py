"""TILE against LiteRT's reference kernels: multiples int32 / int64, ones, zeros, 1-D to 5-D,
run-time multiples, quantized, every type."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import I32, I64, U8, c, check, data, t

CASES = [
    ("1d", (3,), [4]),
    ("2d", (2, 3), [2, 3]),
    ("ones", (2, 3, 4), [1, 1, 1]),
    ("zero_multiple", (2, 3), [0, 2]),
    ("empty_input", (0, 3), [3, 2]),
    ("4d_batch", (1, 2, 2, 3), [4, 1, 2, 1]),
    ("5d", (1, 2, 1, 2, 3), [2, 1, 3, 1, 2]),
]


@pytest.mark.parametrize("shape,mult", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
@pytest.mark.parametrize("mtype", [I32, I64], ids=["i32", "i64"])
def test_tile(shape, mult, mtype):
    check("TILE", [t(shape), c(mult, mtype)], [t((1,))], None)


def test_quantized_run_time_multiples():
    check("TILE", [t((2, 3), U8, 0.5, 200), t((2,), I32)], [t((1,), U8, 0.5, 200)],
          [data((2, 3), U8), np.array([3, 2], np.int32)])
