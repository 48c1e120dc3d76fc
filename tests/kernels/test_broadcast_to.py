"""BROADCAST_TO (version 2+) against LiteRT's reference kernels: shape int32 / int64, added
leading dims, several broadcast dims, scalars, zero-sized targets, up to 8-D, run-time shape,
quantized, every type; incompatible shapes fail in both."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import F32, I8, I32, I64, c, check, check_both_fail, data, t

CASES = [
    ("same", (2, 3), [2, 3]),
    ("leading", (3,), [4, 2, 3]),
    ("inner_ones", (2, 1, 3, 1), [2, 4, 3, 5]),
    ("scalar", (), [3, 2]),
    ("zero_target", (1, 3), [0, 3]),
    ("8d", (1, 2, 1, 1, 2, 1, 1, 2), [2, 2, 1, 2, 2, 1, 2, 2]),
]


@pytest.mark.parametrize("shape,target", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
@pytest.mark.parametrize("stype", [I32, I64], ids=["i32", "i64"])
def test_broadcast_to(shape, target, stype):
    check("BROADCAST_TO", [t(shape), c(target, stype)], [t(target)], None, version=2)


def test_quantized_run_time_shape():
    check("BROADCAST_TO", [t((3, 1), I8, 0.2, -9), t((3,), I32)], [t((1,), I8, 0.2, -9)],
          [data((3, 1), I8), np.array([2, 3, 4], np.int32)], version=3)


@pytest.mark.parametrize("shape,target", [((2, 3), [4, 3]), ((2, 3), [3])], ids=["mismatch", "fewer_dims"])
def test_incompatible_fails(shape, target):
    check_both_fail("BROADCAST_TO", [t(shape), c(target)], [t((1,))], [data(shape, F32)], version=2)
