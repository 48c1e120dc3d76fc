"""Fast int8 BATCH_MATMUL against the reference kernel, table-driven (adjoints, broadcast batch
dimensions, the float32 and the float64 GEMM, zero points, multipliers above and below one):
identical bit for bit, and the fast path really taken."""

from __future__ import annotations

import numpy as np
import pytest

from eightbit.kernels.fast import HAVE_NUMBA
from tests.kernels.test_fast_elementwise import _check
from tests.oracle import single_op_model

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones")

CASES = [  # lhs shape, rhs shape, adj_x, adj_y, scales (l, r, out), zero points (l, r, out)
    ((2, 5, 16), (2, 16, 7), False, False, (0.05, 0.02, 0.1), (3, -2, 5)),
    ((3, 1, 6, 40), (4, 40, 9), False, False, (0.1, 0.03, 0.5), (-128, 0, 0)),  # broadcast batches
    ((2, 16, 5), (2, 7, 16), True, True, (0.02, 0.02, 0.01), (0, 0, -128)),
    ((1, 4, 300), (300, 6), False, False, (0.01, 0.01, 0.3), (10, -10, 20)),  # depth 300: float64 GEMM
    ((2, 3, 8), (2, 8, 5), False, False, (0.5, 0.5, 0.01), (0, 0, 0)),  # multiplier > 1
]


@pytest.mark.parametrize("ls, rs, adj_x, adj_y, scales, zps", CASES)
def test_int8_batch_matmul(ls, rs, adj_x, adj_y, scales, zps):
    rng = np.random.default_rng(ls[-1] + rs[-1])
    a = rng.integers(-128, 128, ls).astype(np.int8)
    b = rng.integers(-128, 128, rs).astype(np.int8)
    am = np.swapaxes(a, -1, -2) if adj_x else a
    bm = np.swapaxes(b, -1, -2) if adj_y else b
    out = np.matmul(am.astype(np.int64), bm.astype(np.int64)).shape
    model = single_op_model("BATCH_MATMUL", [dict(shape=ls, dtype=np.int8, scale=scales[0], zero_point=zps[0]),
                                             dict(shape=rs, dtype=np.int8, scale=scales[1], zero_point=zps[1])],
                            [dict(shape=out, dtype=np.int8, scale=scales[2], zero_point=zps[2])],
                            {"adj_x": adj_x, "adj_y": adj_y})
    _check(model, [a, b], "FastBatchMatMulParams")


INT16_CASES = [  # rhs dtype, lhs shape, rhs shape, adj_y, scales (l, r, out)
    (np.int16, (2, 5, 16), (2, 16, 7), False, (1e-3, 2e-3, 5e-3)),
    (np.int16, (3, 1, 4, 33), (2, 9, 33), True, (1e-4, 1e-4, 1e-6)),
    (np.int8, (2, 6, 20), (20, 4), False, (1e-3, 0.02, 0.01)),  # int16 x int8
    (np.int16, (1, 3, 8), (8, 5), False, (0.5, 0.5, 1e-9)),  # a huge multiplier: x86's shift masks
]


@pytest.mark.parametrize("rdtype, ls, rs, adj_y, scales", INT16_CASES)
def test_int16_batch_matmul(rdtype, ls, rs, adj_y, scales):
    rng = np.random.default_rng(ls[-1] * 3 + rs[-1])
    a = rng.integers(-32768, 32768, ls).astype(np.int16)
    info = np.iinfo(rdtype)
    b = rng.integers(info.min, info.max + 1, rs).astype(rdtype)
    bm = np.swapaxes(b, -1, -2) if adj_y else b
    out = np.matmul(a.astype(np.int64), bm.astype(np.int64)).shape
    model = single_op_model("BATCH_MATMUL", [dict(shape=ls, dtype=np.int16, scale=scales[0], zero_point=0),
                                             dict(shape=rs, dtype=rdtype, scale=scales[1], zero_point=0)],
                            [dict(shape=out, dtype=np.int16, scale=scales[2], zero_point=0)],
                            {"adj_x": False, "adj_y": adj_y})
    _check(model, [a, b], "FastInt16Params")
