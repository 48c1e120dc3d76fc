"""SQUEEZE against LiteRT's reference kernels: explicit / negative / all dims, every type."""

from __future__ import annotations

import pytest

from tests.kernels.helpers import F32, I8, check, check_both_fail, data, t

CASES = [
    ("all_ones", (1, 3, 1, 4, 1), [], (3, 4)),
    ("one_dim", (1, 3, 1, 4), [2], (1, 3, 4)),
    ("negative", (2, 1, 3, 1), [-1], (2, 1, 3)),
    ("two_dims", (1, 2, 1, 3), [0, -2], (2, 3)),
    ("to_scalar", (1, 1), [], ()),
    ("nothing_to_drop", (2, 3), [], (2, 3)),
    ("empty_tensor", (0, 1, 3), [1], (0, 3)),
    ("rank8", (1, 2, 1, 2, 1, 2, 1, 2), [], (2, 2, 2, 2)),
]


@pytest.mark.parametrize("shape,dims,out", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
def test_squeeze(shape, dims, out):
    check("SQUEEZE", [t(shape)], [t(out)], None, {"squeeze_dims": dims})


def test_quantized_keeps_bytes():
    check("SQUEEZE", [t((2, 1, 4), I8, 0.5, -3)], [t((2, 4), I8, 0.5, -3)], None, {"squeeze_dims": [1]})


def test_dim_not_one_fails():
    check_both_fail("SQUEEZE", [t((2, 3))], [t((3,))], [data((2, 3), F32)], {"squeeze_dims": [0]})
