"""REVERSE_V2, TOPK_V2, ONE_HOT, WHERE, RANGE, CUMSUM against LiteRT's reference kernels (RANGE
int64, v2, in LiteRT's builtin resolver: BUILTIN_REF registers v1 only): every type each kernel
runs, axes and options, ties (TOPK_V2 keeps the lower index first), out-of-range indices
(ONE_HOT gives off_value), data-dependent output shapes (WHERE, RANGE), run-time errors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import run_eightbit, run_litert, single_op_model

RNG = np.random.default_rng(76)
F16, F32, I8, U8, I16, I32, I64 = np.float16, np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64
B = np.bool_


def values(shape, dtype, lo=None, hi=None):
    if dtype == B:
        return RNG.random(shape) < 0.5
    if np.issubdtype(dtype, np.floating):
        return RNG.normal(0, 5, shape).astype(dtype)
    info = np.iinfo(dtype)
    return RNG.integers(info.min if lo is None else lo, info.max if hi is None else hi, shape, endpoint=True).astype(dtype)


# ---- REVERSE_V2 ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [F32, F16, I8, U8, I16, I32, I64, B])
@pytest.mark.parametrize("axes", [[0], [-1], [1, 2], [2, 0, 1], [-2, 2]])
def test_reverse_v2(dtype, axes):
    axes = np.asarray(axes, I32)
    q = (0.1, 3) if dtype in (I8, U8) else None
    version = {I8: 3, B: 2}.get(dtype, 1)
    m = single_op_model("REVERSE_V2", [t((2, 3, 4), dtype, *(q or ())), t(axes.shape, I32, data=axes)],
                        [t((2, 3, 4), dtype, *(q or ()))], {}, version=max(version, 1 if len(axes) == 1 else 3))
    check(m, [values((2, 3, 4), dtype)], exact=True)


def test_reverse_v2_non_adjacent_axes_are_refused():
    axes = np.array([0, 2], I32)
    m = single_op_model("REVERSE_V2", [t((2, 3, 4), F32), t((2,), I32, data=axes)], [t((2, 3, 4), F32)], {}, version=3)
    both_refuse(m, [values((2, 3, 4), F32)], "Non-contiguous", "not contiguous")


# ---- TOPK_V2 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [F32, I8, U8, I16, I32, I64])
@pytest.mark.parametrize("k", [1, 3, 8])
def test_topk_v2(dtype, k):
    x = values((3, 8), dtype, -5, 5) if dtype != U8 else values((3, 8), dtype, 0, 6)  # many ties
    if dtype == F32:
        x = np.round(x).astype(F32)
    kk = np.array(k, I32)
    version = 3 if dtype == I16 else 2 if dtype == I8 else 1
    m = single_op_model("TOPK_V2", [t((3, 8), dtype), t((), I32, data=kk)], [t((3, k), dtype), t((3, k), I32)], {},
                        version=version)
    check(m, [x], exact=True)


def test_topk_v2_int16_indices_and_k():
    x = values((2, 3, 6), F32)
    m = single_op_model("TOPK_V2", [t(x.shape, F32), t((), I16, data=np.array(4, I16))],
                        [t((2, 3, 4), F32), t((2, 3, 4), I16)], {}, version=3)
    check(m, [x], exact=True)


# ---- ONE_HOT ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [F32, I8, U8, I32, I64, B])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot(dtype, axis):
    idx = np.array([[0, 3, -1], [4, 2, 1]], I32)  # -1 and 4 (= depth) are outside: all off_value
    depth = 4
    on, off = (np.array(v, dtype) for v in ((True, False) if dtype == B else (5, -2) if dtype != U8 else (9, 1)))
    out_shape = list(idx.shape)
    out_shape.insert(axis if axis >= 0 else len(out_shape), depth)
    m = single_op_model("ONE_HOT", [t(idx.shape, I32), t((), I32, data=np.array(depth, I32)), t((), dtype, data=on),
                                    t((), dtype, data=off)], [t(out_shape, dtype)], {"axis": axis})
    check(m, [idx], exact=True)


def test_one_hot_int16_is_refused():
    idx = np.array([1, 0], I32)
    m = single_op_model("ONE_HOT", [t((2,), I32), t((), I32, data=np.array(3, I32)), t((), I16, data=np.array(1, I16)),
                                    t((), I16, data=np.array(0, I16))], [t((2, 3), I16)], {"axis": -1})
    both_refuse(m, [idx], "ONE_HOT", "ONE_HOT")


def test_one_hot_int64_indices():
    idx = np.array([1, 0, 2], I64)
    m = single_op_model("ONE_HOT", [t((3,), I64), t((), I32, data=np.array(3, I32)), t((), F32, data=np.array(1.5, F32)),
                                    t((), F32, data=np.array(0.25, F32))], [t((3, 3), F32)], {"axis": -1})
    check(m, [idx], exact=True)


# ---- WHERE -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,version", [(B, 1), (F32, 2), (I32, 2), (I8, 2), (U8, 2), (I64, 2)])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 4), (2, 1, 2, 3, 2)])
def test_where(dtype, version, shape):
    x = values(shape, dtype, -1, 1) if dtype not in (B, F32) else values(shape, dtype)
    if dtype == F32:
        x = np.where(RNG.random(shape) < 0.5, 0, x).astype(F32)
    m = single_op_model("WHERE", [t(shape, dtype)], [t((1, len(shape)), I64)], {}, version=version)
    check(m, [x])


def test_where_nothing_true():
    """LiteRT's Python binding cannot hand out a zero-size output ("Invalid tensor size"): it runs,
    and eightbit gives TensorFlow's documented empty [0, rank] int64 result."""
    m = single_op_model("WHERE", [t((2, 3), B)], [t((1, 2), I64)], {})
    with pytest.raises(ValueError, match="Invalid tensor size"):
        run_litert(m, [np.zeros((2, 3), B)])
    (got,) = run_eightbit(m, [np.zeros((2, 3), B)])
    assert got.shape == (0, 2) and got.dtype == I64


# ---- RANGE -----------------------------------------------------------------------------------
RANGES = [(I32, 0, 10, 3), (I32, 10, -7, -4), (I32, -3, 4, 1), (F32, 0.0, 1.0, 0.1), (F32, 5.5, -2.0, -0.7),
          (F32, -1.0, 1.0, 1e-3), (I64, 2**40, 2**40 + 17, 5)]


@pytest.mark.parametrize("dtype,start,limit,delta", RANGES)
@pytest.mark.parametrize("const", [True, False], ids=["const", "fed"])
def test_range(dtype, start, limit, delta, const):
    vals = [np.array(v, dtype) for v in (start, limit, delta)]
    ins = [t((), dtype, data=v if const else None) for v in vals]
    m = single_op_model("RANGE", ins, [t((1,), dtype)], {}, version=2 if dtype == I64 else 1)
    check(m, [] if const else vals, reference=dtype != I64, exact=True)


@pytest.mark.parametrize("start,limit,delta", [(0, 5, 0), (0, 5, -1), (5, 0, 1)])
def test_range_errors(start, limit, delta):
    vals = [np.array(v, I32) for v in (start, limit, delta)]
    m = single_op_model("RANGE", [t((), I32)] * 3, [t((1,), I32)], {})
    both_refuse(m, vals, "", "RANGE")


# ---- CUMSUM ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [F32, I32, I64])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, False), (False, True), (True, True)])
def test_cumsum(dtype, axis, exclusive, reverse):
    x = values((3, 5, 4), dtype, -(2**20), 2**20) if dtype != F32 else values((3, 5, 4), dtype)
    if dtype == I32:
        x[0, 0, 0] = 2**31 - 1  # wraps
    m = single_op_model("CUMSUM", [t(x.shape, dtype), t((), I32, data=np.array(axis, I32))], [t(x.shape, dtype)],
                        {"exclusive": exclusive, "reverse": reverse})
    check(m, [x], rtol=1e-6)


def test_cumsum_axis_fed_and_batch_resize():
    m = single_op_model("CUMSUM", [t((1, 6), F32), t((), I32)], [t((1, 6), F32)], {"exclusive": False, "reverse": False})
    check(m, [values((4, 6), F32), np.array(1, I32)], rtol=1e-6)
