"""UNPACK against LiteRT's reference kernels: every axis (negative too), num from the options,
1-D to 4-D, quantized, every type TFLite's kernel runs (not int64); differing quantization and
int64 are refused in both."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import BOOL, F16, F32, I8, I16, I32, I64, U8, check, check_both_fail, data, t

UNPACK_DTYPES = (F32, F16, I8, U8, I16, I32, BOOL)


def unpack(shape, axis, dtype=F32, q=(None, 0), out_q=None):
    a = axis % len(shape)
    out = [d for i, d in enumerate(shape) if i != a]
    return [t(shape, dtype, *q)], [t(out, dtype, *(out_q or q))] * shape[a], {"num": shape[a], "axis": axis}


@pytest.mark.parametrize("shape,axis", [((3, 4, 2), 0), ((3, 4, 2), 1), ((3, 4, 2), -1), ((5,), 0), ((2, 3, 1, 4), -3),
                                        ((1, 3), 0)])
def test_unpack(shape, axis):
    ins, outs, opt = unpack(shape, axis)
    check("UNPACK", ins, outs, None, opt)


@pytest.mark.parametrize("dtype", UNPACK_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    ins, outs, opt = unpack((2, 3, 2), 1, dtype)
    check("UNPACK", ins, outs, None, opt)


@pytest.mark.parametrize("dtype,q", [(I8, (0.1, -128)), (U8, (0.5, 255)), (I16, (0.001, 0))], ids=["i8", "u8", "i16"])
def test_quantized(dtype, q):
    ins, outs, opt = unpack((4, 3), 0, dtype, q)
    check("UNPACK", ins, outs, None, opt)


@pytest.mark.parametrize("what", ["quantization_differs", "int64", "num_zero"])
def test_refused(what):
    if what == "int64":
        ins, outs, opt = unpack((2, 3), 0, I64)
    elif what == "num_zero":
        ins, outs, opt = unpack((2, 3), 0)
        opt["num"] = 0
    else:
        ins, outs, opt = unpack((2, 3), 0, I8, (0.5, 1), (0.25, 1))
    check_both_fail("UNPACK", ins, outs, [data((2, 3), ins[0]["dtype"])], opt)
