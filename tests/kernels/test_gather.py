"""GATHER against LiteRT's reference kernels: every axis (negative too), batch_dims (negative
too), scalar / multi-dimensional / empty positions, int16 / int32 / int64 positions, repeated
positions, every type; negative or too large positions fail in both."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import BOOL, F16, F32, I8, I16, I32, I64, U8, c, check, check_both_fail, data, t

GATHER_DTYPES = (F32, F16, I8, U8, I16, I32, I64, BOOL)
S = (3, 4, 5)

CASES = [
    ("axis0", S, [2, 0, 2], 0, 0),
    ("axis1", S, [[3, 0], [1, 1]], 1, 0),
    ("axis_last", S, [4, 0, 3, 1], 2, 0),
    ("axis_negative", S, [1], -2, 0),
    ("scalar_position", S, 2, 1, 0),
    ("1d_input", (6,), [5, 0, 5], 0, 0),
    ("batch_dims1", S, [[0, 3], [1, 2], [3, 3]], 1, 1),
    ("batch_dims1_axis2", S, [[4], [0], [2]], 2, 1),
    ("batch_dims2", S, [[[1, 4], [0, 0], [2, 3], [4, 4]]] * 3, 2, 2),
    ("batch_dims_negative", S, [[0, 3], [1, 2], [3, 3]], 1, -1),
    ("batch_dims_deeper_positions", S, [[[0, 1], [2, 3]], [[3, 3], [0, 0]], [[1, 0], [2, 2]]], 2, 1),
]


@pytest.mark.parametrize("shape,pos,axis,bd", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
@pytest.mark.parametrize("ptype", [I32, I64, I16], ids=lambda d: np.dtype(d).name)
def test_gather(shape, pos, axis, bd, ptype):
    check("GATHER", [t(shape), c(pos, ptype)], [t((1,))], None, {"axis": axis, "batch_dims": bd})


@pytest.mark.parametrize("dtype", GATHER_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    check("GATHER", [t(S, dtype), c([3, 1, 3])], [t((3, 3, 5), dtype)], None, {"axis": 1})


def test_empty_positions():
    # Fed at run time: a constant with no elements has no buffer to read.
    check("GATHER", [t(S), t((0,), I32)], [t((1,))], [data(S, F32), np.zeros(0, np.int32)], {"axis": 1})
    check("GATHER", [t(S), t((2, 0), I64)], [t((1,))], [data(S, F32), np.zeros((2, 0), np.int64)], {"axis": 0})


def test_quantized_run_time_positions():
    check("GATHER", [t((10, 4), I8, 0.3, -2), t((2, 3), I32)], [t((2, 3, 4), I8, 0.3, -2)],
          [data((10, 4), I8), np.array([[9, 0, 4], [4, 4, 1]], np.int32)], {"axis": 0})


def test_embedding_lookup_uint8():
    check("GATHER", [c(data((50, 8), U8), U8, scale=0.05, zp=128), t((1, 6), I32)], [t((1, 6, 8), U8, 0.05, 128)],
          [np.array([[0, 49, 7, 7, 13, 2]], np.int32)], {"axis": 0})


@pytest.mark.parametrize("pos", [[-1, 0], [0, 4]], ids=["negative", "too_large"])
def test_out_of_range_fails(pos):
    check_both_fail("GATHER", [t((4, 3)), t((2,), I32)], [t((2, 3))], [data((4, 3), F32), np.array(pos, np.int32)],
                    {"axis": 0})
