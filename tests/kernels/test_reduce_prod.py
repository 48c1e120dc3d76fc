"""REDUCE_PROD, REDUCE_ANY, REDUCE_ALL against LiteRT's reference kernels: float32 (products in
memory order), int32 / int64 (wrapping), quantized int8 and int16 (every step rescaled by
input_scale / output_scale^(1/n)), axes in any order, negative and repeated, keep_dims, axes fed at
run time, batch resize; bool ANY / ALL."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import check, t
from tests.oracle import single_op_model

RNG = np.random.default_rng(74)
F32, I8, I16, I32, I64 = np.float32, np.int8, np.int16, np.int32, np.int64


def reduce_model(op, shape, dtype, axes, keep, q_in=None, q_out=None, const_axes=True, out_shape=None, version=1):
    axes = np.asarray(axes, I32)
    if out_shape is None:
        resolved = {a % len(shape) for a in axes.reshape(-1).tolist()}
        out_shape = tuple(1 if i in resolved else d for i, d in enumerate(shape) if keep or i not in resolved)
    ax = t(axes.shape, I32, data=axes if const_axes else None)
    return single_op_model(op, [t(shape, dtype, *(q_in or ())), ax], [t(out_shape, dtype, *(q_out or ()))],
                           {"keep_dims": keep}, version=version, options_type="ReducerOptions")


AXES = [([1], False), ([0, 2], True), ([-1, 0], False), ([2, 2], False), ([0, 1, 2], False), ([], True)]


@pytest.mark.parametrize("axes,keep", AXES, ids=[f"{a}{'k' if k else ''}" for a, k in AXES])
def test_float32(axes, keep):
    x = RNG.uniform(-2, 2, (3, 4, 5)).astype(F32)
    x.reshape(-1)[:3] = [0.0, np.inf, -1e-30]
    check(reduce_model("REDUCE_PROD", x.shape, F32, axes, keep), [x], rtol=1e-6)


@pytest.mark.parametrize("dtype", [I32, I64, I8, I16])
def test_integers_wrap(dtype):
    """int32 / int64, and int8 / int16 without quantization parameters: the plain product."""
    x = RNG.integers(-40, 40, (4, 6, 3)).astype(dtype)
    for axes, keep in AXES[:5]:
        check(reduce_model("REDUCE_PROD", x.shape, dtype, axes, keep), [x])


QCASES = [
    ("i8", I8, (0.05, 3), (0.02, -5), (2, 5, 3), [1]),
    ("i8_all_axes", I8, (0.1, 0), (0.5, 10), (2, 3, 2), [0, 1, 2]),
    ("i8_zp_extremes", I8, (0.03, -128), (0.01, 127), (3, 4), [-1]),
    ("i8_long_axis", I8, (0.08, -2), (0.001, 0), (2, 16), [1]),
    ("i8_two_axes", I8, (0.06, 7), (0.003, 0), (4, 3, 5), [2, 0]),
    ("i16", I16, (0.001, 0), (0.002, 0), (3, 4, 2), [1]),
    ("i16_big", I16, (0.0005, 0), (0.00001, 0), (2, 6), [1]),
]


@pytest.mark.parametrize("cid,dtype,q_in,q_out,shape,axes", QCASES, ids=[c[0] for c in QCASES])
@pytest.mark.parametrize("keep", [False, True])
def test_quantized(cid, dtype, q_in, q_out, shape, axes, keep):
    info = np.iinfo(dtype)
    x = RNG.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    check(reduce_model("REDUCE_PROD", shape, dtype, axes, keep, q_in, q_out, version=2), [x])


def test_axes_fed_at_run_time_and_batch_resize():
    m = reduce_model("REDUCE_PROD", (1, 3, 4), F32, [2], False, const_axes=False, out_shape=(1, 3))
    check(m, [RNG.uniform(-2, 2, (5, 3, 4)).astype(F32), np.array([2], I32)], rtol=1e-6)


@pytest.mark.parametrize("op", ["REDUCE_ANY", "REDUCE_ALL"])
@pytest.mark.parametrize("axes,keep", AXES, ids=[f"{a}{'k' if k else ''}" for a, k in AXES])
def test_bool(op, axes, keep):
    x = RNG.random((3, 4, 5)) < (0.1 if op == "REDUCE_ANY" else 0.9)
    x[0] = op == "REDUCE_ALL"
    check(reduce_model(op, x.shape, np.bool_, axes, keep), [x])
