"""SPLIT_V against LiteRT's reference kernels: size_splits int32 / int64 with and without one -1,
zero-sized pieces, negative and run-time axis, every type TFLite's kernel runs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import F32, I8, I16, I32, I64, U8, c, check, check_both_fail, data, t

S = (2, 7, 3)


def outs(shape, axis, sizes, dtype=F32, q=(None, 0)):
    res = []
    for s in sizes:
        o = list(shape)
        o[axis] = s
        res.append(t(o, dtype, *q))
    return res


CASES = [
    ("plain", [2, 5], [2, 5], 1),
    ("minus_one_first", [-1, 3], [4, 3], 1),
    ("minus_one_middle", [1, -1, 2], [1, 4, 2], 1),
    ("zero_piece", [0, 7], [0, 7], 1),
    ("minus_one_takes_zero", [7, -1], [7, 0], 1),
    ("last_axis", [1, 2], [1, 2], 2),
    ("negative_axis", [1, 1], [1, 1], -3),
    ("single", [-1], [7], 1),
]


@pytest.mark.parametrize("sizes,real,axis", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
@pytest.mark.parametrize("size_type", [I32, I64], ids=["i32", "i64"])
def test_split_v(sizes, real, axis, size_type):
    check("SPLIT_V", [t(S), c(sizes, size_type), c(axis)], outs(S, axis % 3, real), None, {"num_splits": len(sizes)})


@pytest.mark.parametrize("dtype", [F32, I8, U8, I16, I32, I64], ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    check("SPLIT_V", [t(S, dtype), c([3, -1]), c(1)], outs(S, 1, [3, 4], dtype), None, {"num_splits": 2})


def test_run_time_sizes_and_axis():
    check("SPLIT_V", [t(S, I16, 0.01, 0), t((3,), I32), t((), I32)], outs(S, 1, [2, 2, 3], I16, (0.01, 0)),
          [data(S, I16), np.array([2, 2, -1], np.int32), np.array(1, np.int32)], {"num_splits": 3})


@pytest.mark.parametrize("sizes", [[3, 3], [-1, -1], [8, -1]], ids=["short", "two_minus_ones", "too_big"])
def test_refused(sizes):
    check_both_fail("SPLIT_V", [t(S), c(sizes), c(1)], outs(S, 1, [3, 4]), [data(S, F32)], {"num_splits": 2})
