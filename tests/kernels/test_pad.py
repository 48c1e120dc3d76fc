"""PAD and PADV2 against LiteRT's reference kernels: paddings int32 / int64 (int8 / int16 too, as
TFLite reads them), 1-D to 5-D, zero paddings, empty inputs, quantized pad value = the output zero
point (even when it differs from the input's), PADV2 constants, run-time paddings, every type."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import BOOL, F16, F32, I8, I16, I32, I64, U8, c, check, check_both_fail, data, t

PAD_DTYPES = (F32, F16, I8, U8, I16, I32, I64, BOOL)

CASES = [
    ("4d_spatial", (1, 3, 3, 2), [[0, 0], [1, 2], [2, 1], [0, 0]]),
    ("all_dims", (2, 3, 4), [[1, 1], [0, 2], [3, 0]]),
    ("zero_padding", (2, 3), [[0, 0], [0, 0]]),
    ("1d", (5,), [[3, 4]]),
    ("5d", (1, 2, 2, 2, 3), [[0, 1], [1, 0], [1, 1], [0, 2], [1, 0]]),
    ("empty_input", (0, 3), [[1, 1], [0, 1]]),
]


@pytest.mark.parametrize("shape,paddings", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
@pytest.mark.parametrize("ptype", [I32, I64, I16, I8], ids=lambda d: np.dtype(d).name)
def test_pad(shape, paddings, ptype):
    check("PAD", [t(shape), c(paddings, ptype)], [t((1,))], None)


@pytest.mark.parametrize("dtype", PAD_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    check("PAD", [t((2, 3), dtype), c([[1, 0], [2, 1]])], [t((3, 6), dtype)], None)
    check("PADV2", [t((2, 3), dtype), c([[1, 0], [2, 1]]), c(data((), dtype), dtype)], [t((3, 6), dtype)], None)


QUANT = [
    ("int8_zp", I8, (0.1, -128), (0.1, -128)),
    ("int8_output_zp_differs", I8, (0.5, 1), (0.25, 3)),
    ("uint8_zp", U8, (0.02, 255), (0.02, 255)),
    ("uint8_output_zp_differs", U8, (0.5, 1), (0.25, 200)),
    ("int16_zero", I16, (0.001, 0), (0.001, 0)),
    ("int16_nonzero_zp", I16, (0.5, 3), (0.5, 3)),
]


@pytest.mark.parametrize("dtype,q_in,q_out", [pytest.param(*c_[1:], id=c_[0]) for c_ in QUANT])
def test_quantized_pads_with_output_zero_point(dtype, q_in, q_out):
    check("PAD", [t((2, 3, 4), dtype, *q_in), c([[0, 1], [2, 0], [1, 1]])], [t((3, 5, 6), dtype, *q_out)], None)


@pytest.mark.parametrize("dtype", [I8, U8, I16], ids=lambda d: np.dtype(d).name)
def test_padv2_quantized_constant(dtype):
    q = (0.25, 0 if dtype == I16 else 5)
    value = c(data((), dtype), dtype, scale=q[0], zp=q[1])
    check("PADV2", [t((2, 3), dtype, *q), c([[1, 1], [0, 2]]), value], [t((4, 5), dtype, *q)], None)


def test_padv2_run_time_constant_and_paddings():
    check("PADV2", [t((2, 3)), t((2, 2), I32), t((), F32)], [t((1,))],
          [data((2, 3), F32), np.array([[0, 2], [1, 1]], np.int32), np.array(-7.5, np.float32)])


def test_batch_resized():
    check("PAD", [t((1, 2, 2, 1), I8, 0.1, 4), c([[0, 0], [1, 1], [1, 1], [0, 0]])], [t((1, 4, 4, 1), I8, 0.1, 4)],
          [data((3, 2, 2, 1), I8)])


@pytest.mark.parametrize("what", ["negative_padding", "constant_params_differ", "constant_unquantized"])
def test_refused(what):
    if what == "negative_padding":
        check_both_fail("PAD", [t((2, 3)), c([[0, 0], [-1, 0]])], [t((1,))], [data((2, 3), F32)])
    elif what == "constant_params_differ":
        ins = [t((2, 3), I8, 0.5, 1), c([[0, 0], [1, 0]]), c(3, I8, scale=0.25, zp=1)]
        check_both_fail("PADV2", ins, [t((2, 4), I8, 0.5, 1)], [data((2, 3), I8)])
    else:
        ins = [t((2, 3), U8, 0.5, 1), c([[0, 0], [1, 0]]), c(3, U8)]
        check_both_fail("PADV2", ins, [t((2, 4), U8, 0.5, 1)], [data((2, 3), U8)])
