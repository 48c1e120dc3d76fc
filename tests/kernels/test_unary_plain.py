"""FLOOR, CEIL, ROUND, SIGN, SIN, COS, LOGICAL_NOT against LiteRT: every type each kernel runs
(float32 and float16; SIGN float32, float64, int32; bool), signed zeros, halves (ROUND is half to
even), inf / NaN, large magnitudes, batch resize, empty tensors. CEIL and ROUND are missing from
LiteRT 2.3.0's BUILTIN_REF resolver: compared with its builtin resolver, whose optimized kernels
treat denormal inputs as zero (CEIL(1e-40) = 0 there); we keep IEEE std::ceil / std::round
(CEIL(1e-40) = 1), so those comparisons leave denormals out."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import check, t
from tests.oracle import single_op_model

RNG = np.random.default_rng(72)
F16, F32, F64, I32 = np.float16, np.float32, np.float64, np.int32
NOT_IN_REF = {"CEIL", "ROUND"}


def floats(dtype, shape=(4, 16)):
    x = (RNG.normal(0, 20, shape) * RNG.choice([1e-3, 1, 1e3], shape)).astype(dtype)
    special = [0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, np.inf, -np.inf, np.nan, 1e30, -3.3e38, 1e-40, 3.0]
    if dtype == F16:
        special = [v if abs(v) < 6e4 or not np.isfinite(v) else 6e4 for v in special]
    x.reshape(-1)[: len(special)] = special
    return x


OPS = ["FLOOR", "CEIL", "ROUND", "SIN", "COS"]


def unary_model(op, shape, dtype, version=1):
    return single_op_model(op, [t(shape, dtype)], [t(shape, dtype)], {}, version=version, options_type=None)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", [F32, F16], ids=["f32", "f16"])
def test_float_unary(op, dtype):
    if op == "CEIL" and dtype == F16:
        pytest.skip("LiteRT's CEIL is float32 only (test_unsupported_types_are_refused)")
    x = floats(dtype)
    if op in ("SIN", "COS"):
        x = np.where(np.abs(x) < 1e4, x, 3.0).astype(dtype)  # huge arguments: argument reduction noise
    exact = op not in ("SIN", "COS")
    if op in NOT_IN_REF:
        x = np.where(np.abs(x) < np.finfo(dtype).tiny, 0, x).astype(dtype)
    check(unary_model(op, x.shape, dtype), [x], reference=op not in NOT_IN_REF, exact=exact)


@pytest.mark.parametrize("op", OPS)
def test_batch_resize_and_empty(op):
    m = unary_model(op, (1, 5), F32)
    ref = op not in NOT_IN_REF
    check(m, [RNG.normal(0, 4, (3, 5)).astype(F32)], reference=ref)
    check(m, [np.zeros((0, 5), F32)], reference=ref)


def test_sin_cos_large_arguments():
    x = np.array([1e4, 12345.678, -3e5, 1e7, 3.0e38, -1e20], F32)
    for op in ("SIN", "COS"):
        check(unary_model(op, x.shape, F32), [x], rtol=1e-6)


@pytest.mark.parametrize("dtype,version", [(F32, 1), (F64, 1), (I32, 2)], ids=["f32", "f64", "i32"])
def test_sign(dtype, version):
    if dtype == I32:
        x = np.array([0, 1, -1, 2**31 - 1, -(2**31), 5, -7], I32)
    else:
        x = floats(dtype)
    check(unary_model("SIGN", x.shape, dtype, version), [x], exact=True)


def test_logical_not():
    x = RNG.random((2, 3, 4)) < 0.5
    m = single_op_model("LOGICAL_NOT", [t(x.shape, np.bool_)], [t(x.shape, np.bool_)], {})
    check(m, [x])
    check(m, [np.zeros((2, 0, 4), np.bool_)])


@pytest.mark.parametrize("op,dtype", [("FLOOR", I32), ("SIN", np.int8), ("SIGN", np.int8), ("LOGICAL_NOT", F32),
                                      ("CEIL", F16)])
def test_unsupported_types_are_refused(op, dtype):
    from eightbit.errors import ModelError
    from tests.oracle import run_eightbit

    x = np.zeros((3,), dtype)
    with pytest.raises(ModelError, match=op):
        run_eightbit(unary_model(op, x.shape, dtype), [x])
