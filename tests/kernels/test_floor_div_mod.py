"""FLOOR_DIV and FLOOR_MOD against LiteRT's reference kernels: every type each kernel runs
(float32, int8, int16, int32; FLOOR_MOD also int64), mixed signs (floor, not truncation),
broadcasting, float FLOOR_MOD by zero (NaN), and the division-by-zero error (FLOOR_DIV of every
type, FLOOR_MOD of integers)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import single_op_model

RNG = np.random.default_rng(77)
F32, I8, I16, I32, I64 = np.float32, np.int8, np.int16, np.int32, np.int64
VERSIONS = {"FLOOR_DIV": {F32: 2, I8: 3, I16: 3, I32: 1}, "FLOOR_MOD": {F32: 1, I8: 2, I16: 2, I32: 1, I64: 1}}
CASES = [(op, dt) for op, table in VERSIONS.items() for dt in table]


def operands(dtype, shape_a, shape_b):
    if dtype == F32:
        a = RNG.normal(0, 20, shape_a).astype(F32)
        b = RNG.normal(0, 4, shape_b).astype(F32)
        return a, np.where(b == 0, 1, b).astype(F32)
    info = np.iinfo(dtype)
    hi = min(info.max, 10**6)
    a = RNG.integers(-hi, hi, shape_a, endpoint=True).astype(dtype)
    b = RNG.integers(-9, 9, shape_b, endpoint=True).astype(dtype)
    a.reshape(-1)[:2] = [info.min, info.max] if a.size >= 2 else a.reshape(-1)[:2]
    # No -1 divisor: LiteRT's int32 / int64 INT_MIN / -1 traps (SIGFPE) and kills the process.
    return a, np.where((b == 0) | (b == -1), 3, b).astype(dtype)


def model(op, dtype, a, b):
    out = np.broadcast_shapes(a, b)
    return single_op_model(op, [t(a, dtype), t(b, dtype)], [t(out, dtype)], {}, version=VERSIONS[op][dtype])


@pytest.mark.parametrize("op,dtype", CASES, ids=[f"{o}-{np.dtype(d).name}" for o, d in CASES])
@pytest.mark.parametrize("a,b", [((4, 6), (4, 6)), ((3, 1, 4), (5, 1)), ((2, 3), ())])
def test_floor_div_mod(op, dtype, a, b):
    x, y = operands(dtype, a, b)
    check(model(op, dtype, a, b), [x, y], rtol=1e-6)


def test_float_floor_mod_by_zero():
    x = np.array([1.0, -1.0, 0.0, 5.5], F32)
    check(model("FLOOR_MOD", F32, (4,), (4,)), [x, np.zeros(4, F32)])


@pytest.mark.parametrize("op,dtype", [("FLOOR_DIV", I32), ("FLOOR_MOD", I32), ("FLOOR_DIV", F32), ("FLOOR_MOD", I8)])
def test_zero_divisor_is_refused(op, dtype):
    x, y = np.array([1, 2, 3], dtype), np.array([1, 0, 2], dtype)
    both_refuse(model(op, dtype, (3,), (3,)), [x, y], "Division by 0|divisor", "division by 0")
