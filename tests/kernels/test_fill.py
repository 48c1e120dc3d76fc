"""FILL against LiteRT's reference kernels: dims int32 / int64, scalar and empty outputs,
run-time value and dims, quantized value sharing the output's parameters, every type;
differing quantization is refused in both."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import ALL_DTYPES, F32, I8, I16, I32, I64, U8, c, check, check_both_fail, data, t


@pytest.mark.parametrize("dims", [[2, 3], [4], [2, 0, 3], [1, 2, 1, 2, 3]], ids=["2d", "1d", "empty", "5d"])
@pytest.mark.parametrize("dtype", [I32, I64], ids=["i32", "i64"])
def test_fill(dims, dtype):
    check("FILL", [c(dims, dtype), t(())], [t((1,))], None)


def test_scalar_output():
    # dims fed at run time: an empty constant has no buffer to read
    check("FILL", [t((0,), I32), t(())], [t(())], [np.zeros(0, np.int32), np.array(2.5, np.float32)])


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    check("FILL", [c([3, 2]), t((), dtype)], [t((3, 2), dtype)], None)


@pytest.mark.parametrize("dtype,q", [(I8, (0.5, -3)), (U8, (0.1, 128)), (I16, (0.01, 0))], ids=["i8", "u8", "i16"])
def test_quantized(dtype, q):
    check("FILL", [c([2, 2]), t((), dtype, *q)], [t((2, 2), dtype, *q)], None)


def test_run_time_dims():
    check("FILL", [t((3,), I64), t((), F32)], [t((1,))], [np.array([2, 1, 3], np.int64), np.array(-1.0, np.float32)])


def test_differing_quantization_refused():
    check_both_fail("FILL", [c([2, 2]), t((), I8, 0.5, 1)], [t((2, 2), I8, 0.25, 1)], [data((), I8)])
