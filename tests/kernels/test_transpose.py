"""TRANSPOSE against LiteRT's reference kernels: ranks 1..6, identity / reversal / 4-D NHWC<->NCHW,
run-time perm, empty tensors, every type."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import F32, I8, I16, I32, c, check, check_both_fail, data, t

CASES = [
    ("1d", (5,), [0]),
    ("2d", (3, 4), [1, 0]),
    ("3d", (2, 3, 4), [2, 0, 1]),
    ("identity", (2, 3, 4), [0, 1, 2]),
    ("nhwc_to_nchw", (2, 4, 5, 3), [0, 3, 1, 2]),
    ("nchw_to_nhwc", (2, 3, 4, 5), [0, 2, 3, 1]),
    ("5d", (2, 1, 3, 2, 2), [4, 2, 0, 3, 1]),
    ("6d", (2, 1, 3, 2, 2, 3), [5, 4, 3, 2, 1, 0]),
    ("empty", (0, 3, 2), [2, 0, 1]),
    ("negative_entries", (2, 3, 4), [-1, 0, -2]),
]


@pytest.mark.parametrize("shape,perm", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
def test_transpose(shape, perm):
    out = tuple(shape[p] for p in perm)  # Python indexing counts negatives from the end too
    check("TRANSPOSE", [t(shape), c(perm)], [t(out)], None)


def test_quantized_and_run_time_perm():
    check("TRANSPOSE", [t((2, 3, 4), I8, 0.02, -128), t((3,), I32)], [t((4, 3, 2), I8, 0.02, -128)],
          [data((2, 3, 4), I8), np.array([2, 1, 0], np.int32)])
    check("TRANSPOSE", [t((2, 3, 4, 5), I16, 0.001, 0), c([3, 1, 0, 2])], [t((5, 3, 2, 4), I16, 0.001, 0)], None)


def test_perm_out_of_range_fails():
    check_both_fail("TRANSPOSE", [t((2, 3)), c([0, 2])], [t((2, 3))], [data((2, 3), F32)])
