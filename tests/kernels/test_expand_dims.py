"""EXPAND_DIMS against LiteRT's reference kernels: positive / negative axes, int32 / int64 axis,
run-time axis, scalars, every type."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import F32, I32, I64, U8, c, check, check_both_fail, data, t

CASES = [
    ("front", (2, 3), c([0]), (1, 2, 3)),
    ("middle", (2, 3), c([1]), (2, 1, 3)),
    ("end", (2, 3), c([2]), (2, 3, 1)),
    ("minus_one", (2, 3), c([-1]), (2, 3, 1)),
    ("minus_rank_minus_one", (2, 3), c([-3]), (1, 2, 3)),
    ("scalar_axis", (2, 3), c(1), (2, 1, 3)),
    ("int64_axis", (2, 3), c([-2], I64), (2, 1, 3)),
    ("scalar_input", (), c([0]), (1,)),
    ("empty_tensor", (0, 3), c([1]), (0, 1, 3)),
]


@pytest.mark.parametrize("shape,axis,out", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
def test_expand_dims(shape, axis, out):
    check("EXPAND_DIMS", [t(shape), axis], [t(out)], None)


def test_axis_at_run_time():
    check("EXPAND_DIMS", [t((2, 3), U8, 0.1, 128), t((1,), I32)], [t((2, 3, 1), U8, 0.1, 128)],
          [data((2, 3), U8), np.array([2], np.int32)])


def test_axis_out_of_range_fails():
    check_both_fail("EXPAND_DIMS", [t((2, 3)), c([3])], [t((2, 3, 1))], [data((2, 3), F32)])
