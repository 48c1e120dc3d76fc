"""SLICE against LiteRT's reference kernels: begin/size int32 and int64, size -1, empty blocks,
1-D to 5-D, run-time begin/size, every type; out-of-range blocks are refused."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import F32, I8, I32, I64, c, check, check_both_fail, data, t

CASES = [
    ("whole", (2, 3, 4), [0, 0, 0], [2, 3, 4]),
    ("block", (4, 5, 6), [1, 2, 3], [2, 2, 2]),
    ("minus_one", (4, 5, 6), [1, 0, 4], [-1, 3, -1]),
    ("empty_block", (4, 5, 6), [1, 5, 0], [2, 0, 6]),
    ("1d", (7,), [2], [4]),
    ("5d", (2, 3, 2, 3, 4), [1, 0, 1, 1, 2], [1, -1, 1, 2, 2]),
    ("empty_input", (0, 4), [0, 1], [0, 2]),
]


@pytest.mark.parametrize("shape,begin,size", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
@pytest.mark.parametrize("itype", [I32, I64], ids=["i32", "i64"])
def test_slice(shape, begin, size, itype):
    # LiteRT checks the file's output shape against the one it computes (int64 indices).
    out = tuple(d - b if s == -1 else s for d, b, s in zip(shape, begin, size))
    check("SLICE", [t(shape), c(begin, itype), c(size, itype)], [t(out)], None)


def test_quantized_run_time_indices():
    check("SLICE", [t((3, 4, 5), I8, 0.5, 7), t((3,), I32), t((3,), I32)], [t((2, 2, 3), I8, 0.5, 7)],
          [data((3, 4, 5), I8), np.array([1, 0, 2], np.int32), np.array([-1, 2, 3], np.int32)])


@pytest.mark.parametrize("begin,size", [([2, 0], [2, 1]), ([-1, 0], [1, 1])], ids=["past_end", "negative_begin"])
def test_refused(begin, size):
    check_both_fail("SLICE", [t((3, 4)), c(begin), c(size)], [t((1,))], [data((3, 4), F32)])
