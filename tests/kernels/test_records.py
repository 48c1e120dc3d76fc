"""The generic kernel tests as one table of op records, expanded by pytest (as JAX's lax_test.py
does): each record is an op, the element types it runs, a builder of its one-op model for a type
(inputs, outputs, options) and, where the data matters, a feed generator. Every (record, type)
runs in LiteRT's reference kernels and in eightbit and must agree (integers exactly).

Data-movement ops run every element type TFLite carries; unary and binary (broadcasting)
elementwise ops run the types their op table entry lists (eightbit/ops/), so a new entry's types
are tested here as soon as it has a record. Edge cases of each kernel stay in its own test file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from eightbit.ops.table import TABLE
from tests.kernels.helpers import ALL_DTYPES, F32, I8, I16, RNG, U8, c, check, t


@dataclass(frozen=True)
class Record:
    op: str
    dtypes: tuple
    build: Callable  # dtype -> (inputs, outputs)
    options: dict = field(default_factory=dict)
    version: int = 1
    feeds: Callable | None = None  # (dtype, inputs) -> feeds; None: random over the type's range


def _q8(dtype):
    """Quantization of 8-bit data-movement cases (the bytes move; parameters must carry over)."""
    return (0.5, 3) if dtype in (I8, U8) else (None, 0)


def _move(op, in_shape, consts, out_shape, **kw) -> Record:
    def build(dtype):
        q = _q8(dtype)
        return [t(in_shape, dtype, *q), *[c(v) for v in consts]], [t(out_shape, dtype, *q)]

    return Record(op, ALL_DTYPES, build, **kw)


MOVE = [
    _move("RESHAPE", (2, 3, 4), [[4, -1]], (4, 6)),
    _move("BROADCAST_TO", (1, 3), [[2, 3]], (2, 3), version=2),
    _move("EXPAND_DIMS", (2, 3), [[1]], (2, 1, 3)),
    _move("SLICE", (3, 4), [[1, 1], [2, -1]], (2, 3)),
    _move("SQUEEZE", (1, 3, 1, 2), [], (3, 2), options={"squeeze_dims": [0, 2]}),
    _move("TILE", (2, 3), [[2, 2]], (4, 6)),
    _move("TRANSPOSE", (2, 3, 4), [[1, 2, 0]], (3, 4, 2)),
]

# Unary elementwise ops, in the types of their table entry. Quantized: int8 scale 0.05 / zp 0
# (int16 1/4096, zp 0 as TFLite requires); SQRT / RSQRT / LOG get positive data (a negative
# quantized input is a run-time error, tested in test_elementwise.py).
_KIND = {"float32": (F32, (None, 0)), "int8": (I8, (0.05, 0)), "int16": (I16, (1 / 4096, 0))}
_POSITIVE = {"SQRT", "RSQRT", "LOG"}


def _unary(op: str) -> list:
    out = []
    for kind in TABLE[op].types:
        if kind not in _KIND:
            continue
        dtype, q = _KIND[kind]

        def build(d, q=q):
            return [t((2, 3, 4), d, *q)], [t((2, 3, 4), d, *q)]

        def feeds(d, ins, positive=op in _POSITIVE):
            if d == F32:
                x = RNG.normal(0.0, 4.0, (2, 3, 4)).astype(F32)
                return [np.abs(x) + F32(0.01) if positive else x]
            info = np.iinfo(d)
            lo = 1 if positive else int(info.min)
            return [RNG.integers(lo, int(info.max), (2, 3, 4), endpoint=True).astype(d)]

        out.append(Record(op, (dtype,), build, feeds=feeds))
    return out


ELEMENTWISE = [r for op in ("ABS", "SQRT", "RSQRT", "LOG", "EXP", "NEG", "SQUARE") for r in _unary(op)]

# Binary elementwise ops with broadcasting ((2, 3, 4) against (3, 4)), in the types of their table
# entry: inputs and output with different parameters, except MAXIMUM / MINIMUM (raw values are
# compared, so all three share them); int16 zero points 0. Comparisons output BOOL.
_BINARY_Q = {
    "int8": (I8, [(0.05, 3), (0.07, -2), (0.1, 1)]),
    "uint8": (U8, [(0.05, 128), (0.07, 120), (0.1, 131)]),
    "int16": (I16, [(0.0003, 0), (0.0005, 0), (0.0007, 0)]),  # not powers of two: the general int16 path
}
_COMPARE = ("LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL")
_BINARY = ("ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM") + _COMPARE


def _binary(op: str) -> list:
    out = []
    for kind in TABLE[op].types:
        dtype, qs = (F32, [(None, 0)] * 3) if kind == "float32" else _BINARY_Q.get(kind, (None, None))
        if dtype is None:
            continue
        if op in ("MAXIMUM", "MINIMUM"):
            qs = [qs[0]] * 3

        def build(d, qs=qs):
            out_t = t((2, 3, 4), np.bool_) if op in _COMPARE else t((2, 3, 4), d, *qs[2])
            return [t((2, 3, 4), d, *qs[0]), t((3, 4), d, *qs[1])], [out_t]

        def feeds(d, ins, divisor_zp=qs[1][1]):
            if d == F32:
                return [RNG.normal(0, 3, (2, 3, 4)).astype(F32), RNG.normal(0, 3, (3, 4)).astype(F32) + F32(0.5)]
            info = np.iinfo(d)
            x1 = RNG.integers(info.min, info.max, (2, 3, 4), endpoint=True).astype(d)
            x2 = RNG.integers(info.min, info.max, (3, 4), endpoint=True)
            if op == "DIV":  # a divisor equal to its zero point is a run-time error (tested in test_div.py)
                x2 = np.where(x2 == divisor_zp, divisor_zp + 1, x2)
            return [x1, x2.astype(d)]

        out.append(Record(op, (dtype,), build, feeds=feeds))
    return out


BINARY = [r for op in _BINARY for r in _binary(op)]
RECORDS = MOVE + ELEMENTWISE + BINARY


def _cases():
    for r in RECORDS:
        for d in r.dtypes:
            yield pytest.param(r, d, id=f"{r.op}-{np.dtype(d).name}")


@pytest.mark.parametrize("record,dtype", list(_cases()))
def test_record_matches_litert(record: Record, dtype):
    ins, outs = record.build(dtype)
    feeds = record.feeds(dtype, ins) if record.feeds else None
    got = check(record.op, ins, outs, feeds, record.options, version=record.version)
    assert got[0].dtype == np.dtype(outs[0]["dtype"]) and got[0].shape == tuple(outs[0]["shape"])


def test_every_elementwise_type_of_the_table_has_a_record():
    kinds = {"float32": F32, **{k: d for k, (d, _) in _BINARY_Q.items()}}
    for op in ("ABS", "SQRT", "RSQRT", "LOG", "EXP", "NEG", "SQUARE") + _BINARY:
        want = {kinds[k] for k in TABLE[op].types if k in kinds}
        have = {d for r in RECORDS if r.op == op for d in r.dtypes}
        assert want == have, op
