"""ADD_N, ATAN2, RANK, BROADCAST_ARGS, DYNAMIC_UPDATE_SLICE against LiteRT's reference kernels:
every type each runs, specials (ATAN2 of zeros and infinities), start indices clamped so that
the update fits, int32 and int64 shapes / indices, and the models both refuse."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import run_eightbit, single_op_model

RNG = np.random.default_rng(82)
F16, F32, F64, I8, U8, I16, I32, I64 = np.float16, np.float32, np.float64, np.int8, np.uint8, np.int16, np.int32, np.int64


def values(shape, dtype):
    if dtype == np.bool_:
        return RNG.random(shape) < 0.5
    if np.issubdtype(dtype, np.floating):
        return RNG.normal(0, 5, shape).astype(dtype)
    info = np.iinfo(dtype)
    return RNG.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("dtype", [F32, I32])
@pytest.mark.parametrize("n", [2, 3, 5])
def test_add_n(dtype, n):
    xs = [values((2, 3, 4), dtype) for _ in range(n)]
    m = single_op_model("ADD_N", [t((2, 3, 4), dtype)] * n, [t((2, 3, 4), dtype)], {})
    check(m, xs, rtol=1e-6)


def test_add_n_float_clamps_each_sum():
    xs = [np.array([np.inf, -np.inf, np.nan, 3e38, 1.0, np.inf], F32), np.array([1.0, 1.0, 1.0, 3e38, 2.0, -np.inf], F32),
          np.array([0.0, 0.0, 0.0, -3e38, 3.0, 1.0], F32)]
    m = single_op_model("ADD_N", [t((6,), F32)] * 3, [t((6,), F32)], {})
    check(m, xs, exact=True)


@pytest.mark.parametrize("dtype,n", [(I8, 2), (F32, 1)])
def test_add_n_refused(dtype, n):
    m = single_op_model("ADD_N", [t((3,), dtype)] * n, [t((3,), dtype)], {})
    both_refuse(m, [values((3,), dtype)] * n, "", "ADD_N")


@pytest.mark.parametrize("dtype", [F32, F64])
def test_atan2(dtype):
    y, x = values((4, 8), dtype), values((4, 8), dtype)
    y.reshape(-1)[:8] = [0.0, -0.0, 0.0, -0.0, np.inf, -np.inf, np.inf, 1.0]
    x.reshape(-1)[:8] = [0.0, 0.0, -0.0, -0.0, np.inf, 1.0, -np.inf, np.nan]
    m = single_op_model("ATAN2", [t(y.shape, dtype), t(x.shape, dtype)], [t(y.shape, dtype)], {})
    check(m, [y, x], rtol=1e-6)


@pytest.mark.parametrize("shape,dtype", [((), F32), ((3,), I8), ((2, 3, 4, 5, 1), U8), ((0, 2), F32), ((4, 1), np.bool_)])
def test_rank(shape, dtype):
    m = single_op_model("RANK", [t(shape, dtype)], [t((), I32)], {})
    check(m, [values(shape, dtype)])


@pytest.mark.parametrize("dtype", [I32, I64])
@pytest.mark.parametrize("a,b", [([2, 1, 4], [3, 1]), ([5], [2, 3, 5]), ([1], [1]), ([], [4, 2]), ([0, 1], [3])])
def test_broadcast_args(dtype, a, b):
    a, b = np.array(a, dtype), np.array(b, dtype)
    out = np.broadcast_shapes(tuple(a), tuple(b))
    m = single_op_model("BROADCAST_ARGS", [t(a.shape, dtype), t(b.shape, dtype)], [t((len(out),), dtype)], {})
    check(m, [a, b])


def test_broadcast_args_mismatch_is_refused():
    """LiteRT 2.3.0 aborts the whole process on shapes that do not broadcast (so it is not run
    here); eightbit raises an error naming them."""
    a, b = np.array([2, 3], I32), np.array([4], I32)
    m = single_op_model("BROADCAST_ARGS", [t((2,), I32), t((1,), I32)], [t((2,), I32)], {})
    with pytest.raises(RuntimeError, match=r"shapes \[2, 3\] and \[4\] do not broadcast"):
        run_eightbit(m, [a, b])


@pytest.mark.parametrize("dtype", [F32, I8, I32, I64, np.bool_])
@pytest.mark.parametrize("start", [[0, 0, 0], [1, 2, 1], [5, -3, 9]])  # the last is clamped
def test_dynamic_update_slice(dtype, start):
    operand, update = values((3, 5, 4), dtype), values((2, 2, 3), dtype)
    start = np.array(start, I32)
    m = single_op_model("DYNAMIC_UPDATE_SLICE", [t((3, 5, 4), dtype), t((2, 2, 3), dtype), t((3,), I32)],
                        [t((3, 5, 4), dtype)], {})
    check(m, [operand, update, start])


def test_dynamic_update_slice_int64_indices():
    operand, update = values((4, 6), F32), values((2, 3), F32)
    start = np.array([1, 2], I64)
    m = single_op_model("DYNAMIC_UPDATE_SLICE", [t((4, 6), F32), t((2, 3), F32), t((2,), I64)], [t((4, 6), F32)], {},
                        version=2)
    check(m, [operand, update, start])
