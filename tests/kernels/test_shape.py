"""SHAPE against LiteRT's reference kernels: int32 / int64 output, scalars, empty and resized
inputs, any input type; other output types are refused in both."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import ALL_DTYPES, F32, I8, I32, I64, check, check_both_fail, data, t
from tests.oracle import run_eightbit, single_op_model


@pytest.mark.parametrize("shape", [(2, 3, 4), (0, 5), (1, 1, 1, 1, 1, 7)], ids=["3d", "empty", "6d"])
@pytest.mark.parametrize("out_type,dtype", [(2, I32), (4, I64)], ids=["i32", "i64"])
def test_shape(shape, out_type, dtype):
    check("SHAPE", [t(shape)], [t((len(shape),), dtype)], None, {"out_type": out_type})


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_input_type(dtype):
    check("SHAPE", [t((3, 1, 2), dtype)], [t((3,), I32)], None, {"out_type": 2})


def test_quantized_input_resized():
    check("SHAPE", [t((1, 4), I8, 0.1, 3)], [t((2,), I32)], [data((6, 4), I8)], {"out_type": 2})


def test_scalar_input_gives_empty_vector():
    # LiteRT's Python binding cannot return a zero-element output, so this one is checked by hand.
    model = single_op_model("SHAPE", [t(())], [t((0,), I64)], {"out_type": 4})
    (got,) = run_eightbit(model, [np.array(1.5, np.float32)])
    assert got.dtype == np.int64 and got.shape == (0,)


def test_int8_output_refused():
    check_both_fail("SHAPE", [t((2, 3))], [t((2,), I8)], [data((2, 3), F32)], {"out_type": 9})
