"""Shared helpers of the kernel tests: tensor specs for tests/oracle.single_op_model, random data
over a type's range, and the LiteRT comparison (`check`) or joint refusal (`check_both_fail`)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.oracle import assert_same_as_litert, run_eightbit, run_litert, single_op_model

RNG = np.random.default_rng(2024)
F32, F16, I8, U8, I16, I32, I64, U32, BOOL = (
    np.float32, np.float16, np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint32, np.bool_)
ALL_DTYPES = (F32, F16, I8, U8, I16, I32, I64, U32, BOOL)


def t(shape, dtype=F32, scale=None, zp=0):
    d = {"shape": tuple(shape), "dtype": dtype}
    if scale is not None:
        d.update(scale=scale, zero_point=zp)
    return d


def c(values, dtype=I32, **quant):
    """A constant tensor."""
    v = np.asarray(values, dtype)
    d = {"shape": v.shape, "dtype": dtype, "data": v}
    if quant:
        d.update(scale=quant["scale"], zero_point=quant.get("zp", 0))
    return d


def data(shape, dtype):
    """Random values over the dtype's range, its extremes first."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return RNG.integers(0, 2, shape).astype(bool)
    if np.issubdtype(dtype, np.floating):
        return RNG.normal(0.0, 3.0, shape).astype(dtype)
    info = np.iinfo(dtype)
    x = RNG.integers(info.min, info.max, shape, endpoint=True, dtype=np.int64 if info.bits < 64 else dtype)
    x = x.astype(dtype)
    flat = x.reshape(-1)
    flat[: min(2, flat.size)] = [info.min, info.max][: min(2, flat.size)]
    return x


def check(op, inputs, outputs, feeds, options=None, version=1):
    """Build a one-op model; every non-constant input is fed (random data when feeds is None)."""
    if feeds is None:
        feeds = [data(s["shape"], s["dtype"]) for s in inputs if s is not None and s.get("data") is None]
    return assert_same_as_litert(single_op_model(op, inputs, outputs, options, version=version), feeds)


def check_both_fail(op, inputs, outputs, feeds, options=None, version=1):
    """LiteRT refuses the model (prepare or invoke) and so do we."""
    model = single_op_model(op, inputs, outputs, options, version=version)
    with pytest.raises(Exception):  # noqa: B017 - LiteRT raises RuntimeError or ValueError
        run_litert(model, feeds)
    with pytest.raises(Exception):  # noqa: B017 - ModelError at load/allocate, RuntimeError at invoke
        run_eightbit(model, feeds)
