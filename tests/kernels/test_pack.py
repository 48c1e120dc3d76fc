"""PACK against LiteRT's reference kernels: every axis (negative too), one to four inputs,
scalars, empty tensors, quantized inputs sharing the output's parameters, every type TFLite's
kernel runs; differing quantization is refused in both."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import F32, I8, I16, I32, I64, U8, U32, check, check_both_fail, data, t

PACK_DTYPES = (F32, I8, U8, I16, I32, I64, U32)


def pack(shape, n, axis, dtype=F32, q=(None, 0), out_q=None):
    out = list(shape)
    out.insert(axis % (len(shape) + 1), n)
    return [t(shape, dtype, *q)] * n, [t(out, dtype, *(out_q or q))], {"values_count": n, "axis": axis}


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_axes(axis):
    check("PACK", *pack((2, 3), 3, axis)[:2], None, pack((2, 3), 3, axis)[2])


@pytest.mark.parametrize("shape,n", [((), 4), ((5,), 1), ((0, 2), 2), ((2, 1, 2, 3), 2)], ids=["scalars", "one", "empty", "4d"])
def test_shapes(shape, n):
    ins, outs, opt = pack(shape, n, 0)
    check("PACK", ins, outs, None, opt)


@pytest.mark.parametrize("dtype", PACK_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    ins, outs, opt = pack((3, 2), 2, 1, dtype)
    check("PACK", ins, outs, None, opt)


@pytest.mark.parametrize("dtype,q", [(I8, (0.1, -128)), (U8, (0.5, 255)), (I16, (0.001, 0))], ids=["i8", "u8", "i16"])
def test_quantized(dtype, q):
    ins, outs, opt = pack((2, 3), 3, -1, dtype, q)
    check("PACK", ins, outs, None, opt)


def test_differing_quantization_refused():
    ins, outs, opt = pack((2, 3), 2, 0, I8, (0.5, 1), (0.25, 1))
    check_both_fail("PACK", ins, outs, [data((2, 3), I8)] * 2, opt)
