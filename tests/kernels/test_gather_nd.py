"""GATHER_ND and SCATTER_ND against LiteRT's reference kernels: every params / updates type,
int16 / int32 / int64 indices, full and partial index depth, scalar slices, batch of indices,
quantized values copied, repeated scatter indices adding up; out-of-bounds coordinates refused
on both sides (LiteRT 2.3.0 checks every coordinate, even where the flat offset stays inside)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import single_op_model

RNG = np.random.default_rng(75)
F16, F32, I8, U8, I16, I32, I64 = np.float16, np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64
VERSION = {np.bool_: 5, I16: 3}


def values(shape, dtype):
    if dtype == np.bool_:
        return RNG.random(shape) < 0.5
    if np.issubdtype(dtype, np.floating):
        return RNG.normal(0, 5, shape).astype(dtype)
    info = np.iinfo(dtype)
    return RNG.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


def gather_nd_model(p_shape, dtype, idx, idx_dtype=I32, const=False, q=None):
    idx = np.asarray(idx, idx_dtype)
    out_shape = idx.shape[:-1] + tuple(p_shape[idx.shape[-1]:])
    version = 4 if idx_dtype == I16 else VERSION.get(dtype, 1)
    return single_op_model("GATHER_ND", [t(p_shape, dtype, *(q or ())), t(idx.shape, idx_dtype, data=idx if const else None)],
                           [t(out_shape, dtype, *(q or ()))], {}, version=version)


@pytest.mark.parametrize("dtype", [F32, F16, I8, U8, I16, I32, I64, np.bool_])
def test_gather_nd_types(dtype):
    idx = np.array([[[1, 0], [0, 2]], [[2, 3], [1, 1]]], I32)
    q = (0.1, 3) if dtype in (I8, U8) else (0.01, 0) if dtype == I16 else None
    check(gather_nd_model((3, 4, 2), dtype, idx, q=q), [values((3, 4, 2), dtype), idx], exact=True)


@pytest.mark.parametrize("p_shape,idx", [
    ((5,), [[4], [0], [2]]), ((3, 4), [[2, 3], [0, 0]]), ((3, 4, 5), [[1]]), ((2, 3, 4), [[[0, 1, 2]], [[1, 2, 3]]]),
])
@pytest.mark.parametrize("idx_dtype", [I16, I32, I64])
def test_gather_nd_depths(p_shape, idx, idx_dtype):
    idx = np.asarray(idx, idx_dtype)
    check(gather_nd_model(p_shape, F32, idx, idx_dtype), [values(p_shape, F32), idx], exact=True)


def test_gather_nd_constant_indices():
    idx = np.array([[1, 2], [0, 0], [2, 1]], I32)
    check(gather_nd_model((3, 3, 2), F32, idx, const=True), [values((3, 3, 2), F32)], exact=True)


@pytest.mark.parametrize("idx", [[[3, 0]], [[-1, 0]], [[2, 4]], [[0, 5]]])
def test_gather_nd_out_of_bounds(idx):
    idx = np.asarray(idx, I32)
    both_refuse(gather_nd_model((3, 4), F32, idx), [values((3, 4), F32), idx], "", "out of bounds")


def scatter_model(idx_shape, upd_shape, dtype, out_shape, q=None, const_shape=True):
    shape = np.asarray(out_shape, I32)
    return single_op_model("SCATTER_ND", [t(idx_shape, I32), t(upd_shape, dtype, *(q or ())),
                                          t(shape.shape, I32, data=shape if const_shape else None)],
                           [t(out_shape, dtype, *(q or ()))], {})


@pytest.mark.parametrize("dtype", [F32, I8, U8, I32, I64, np.bool_])
def test_scatter_nd_types(dtype):
    idx = np.array([[0, 1], [2, 2], [1, 0], [0, 1]], I32)  # [0, 1] twice: the updates add up
    upd = values((4, 3), dtype) if dtype in (F32, np.bool_) else values((4, 3), dtype) // 4
    q = (0.1, 0) if dtype in (I8, U8) else None
    check(scatter_model(idx.shape, upd.shape, dtype, (3, 3, 3), q), [idx, upd], rtol=1e-6)


@pytest.mark.parametrize("idx,out_shape", [([[1], [3]], (4, 2, 3)), ([[1, 0, 2]], (2, 3, 4)), ([[[0], [1]], [[1], [0]]], (2, 5))])
def test_scatter_nd_shapes(idx, out_shape):
    idx = np.asarray(idx, I32)
    upd = values(idx.shape[:-1] + out_shape[idx.shape[-1]:], F32)
    check(scatter_model(idx.shape, upd.shape, F32, out_shape), [idx, upd], rtol=1e-6)


def test_scatter_nd_shape_fed_at_run_time():
    idx = np.array([[1], [0]], I32)
    upd = values((2, 3), F32)
    m = scatter_model(idx.shape, upd.shape, F32, (3, 3), const_shape=False)
    check(m, [idx, upd, np.array([3, 3], I32)])


def test_scatter_nd_out_of_bounds():
    idx = np.array([[3]], I32)
    both_refuse(scatter_model((1, 1), (1, 2), F32, (3, 2)), [idx, values((1, 2), F32)], "", "outside shape")
