"""SPLIT against LiteRT's reference kernels: every axis (negative too), run-time axis, one split,
quantized and every type TFLite's kernel runs; indivisible sizes and bool are refused."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import BOOL, F32, I8, I16, I32, I64, U8, c, check, check_both_fail, data, t

S = (2, 6, 4)


def outs(shape, axis, n, dtype=F32, q=(None, 0)):
    o = list(shape)
    o[axis] //= n
    return [t(o, dtype, *q)] * n


@pytest.mark.parametrize("axis,n", [(0, 2), (1, 3), (2, 4), (-1, 2), (-2, 6), (1, 1)])
def test_split(axis, n):
    check("SPLIT", [c(axis), t(S)], outs(S, axis % 3, n), None, {"num_splits": n})


@pytest.mark.parametrize("dtype", [F32, I8, U8, I16, I32, I64], ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    check("SPLIT", [c(1), t(S, dtype)], outs(S, 1, 2, dtype), None, {"num_splits": 2})


def test_quantized_params_untouched():
    check("SPLIT", [c([2]), t(S, I8, 0.1, -5)], outs(S, 2, 2, I8, (0.1, -5)), None, {"num_splits": 2})


def test_axis_at_run_time_and_batch():
    check("SPLIT", [t((), I32), t((1, 6, 4), U8, 0.3, 128)], outs((1, 6, 4), 1, 3, U8, (0.3, 128)),
          [np.array(1, np.int32), data((3, 6, 4), U8)], {"num_splits": 3})


def test_empty():
    check("SPLIT", [c(1), t((0, 4))], outs((0, 4), 1, 2), None, {"num_splits": 2})


@pytest.mark.parametrize("what", ["indivisible", "bool"])
def test_refused(what):
    dtype = BOOL if what == "bool" else F32
    shape = (2, 5) if what == "indivisible" else (2, 4)
    check_both_fail("SPLIT", [c(1), t(shape, dtype)], [t((2, 2), dtype)] * 2, [data(shape, dtype)], {"num_splits": 2})
