"""REVERSE_SEQUENCE, UNSORTED_SEGMENT_SUM / PROD / MAX / MIN and EMBEDDING_LOOKUP against
LiteRT's reference kernels: the types each runs, seq_dim / batch_dim in either order, empty and
full lengths, segments nothing maps to (the reduction's identity), repeated ids, hybrid int8 /
uint8 embeddings dequantized to float32, and out-of-range ids refused by both."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import single_op_model

RNG = np.random.default_rng(83)
F32, I8, U8, I16, I32, I64 = np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64


def values(shape, dtype):
    if np.issubdtype(dtype, np.floating):
        return RNG.normal(0, 3, shape).astype(dtype)
    info = np.iinfo(dtype)
    return RNG.integers(max(info.min, -100), min(info.max, 100), shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("dtype", [F32, U8, I16, I32, I64])
@pytest.mark.parametrize("seq_dim,batch_dim", [(1, 0), (0, 1), (2, 0), (1, 2)])
@pytest.mark.parametrize("len_dtype", [I32, I64])
def test_reverse_sequence(dtype, seq_dim, batch_dim, len_dtype):
    shape = (3, 4, 5)
    lengths = RNG.integers(0, shape[seq_dim] + 1, shape[batch_dim]).astype(len_dtype)
    lengths[0] = shape[seq_dim]
    m = single_op_model("REVERSE_SEQUENCE", [t(shape, dtype), t(lengths.shape, len_dtype)], [t(shape, dtype)],
                        {"seq_dim": seq_dim, "batch_dim": batch_dim})
    check(m, [values(shape, dtype), lengths])


def test_reverse_sequence_int8_is_refused():
    m = single_op_model("REVERSE_SEQUENCE", [t((2, 3), I8), t((2,), I32)], [t((2, 3), I8)], {"seq_dim": 1, "batch_dim": 0})
    both_refuse(m, [values((2, 3), I8), np.array([1, 2], I32)], "INT8", "INT8")


OPS = ["UNSORTED_SEGMENT_SUM", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_MIN"]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", [F32, I32])
@pytest.mark.parametrize("ids_shape,data_shape", [((6,), (6, 3)), ((2, 3), (2, 3, 2)), ((5,), (5,))])
def test_unsorted_segment(op, dtype, ids_shape, data_shape):
    ids = RNG.integers(0, 4, ids_shape).astype(I32)  # segment 4 of 5 stays empty
    num = np.array(5, I32)
    data = values(data_shape, dtype) if dtype == F32 else values(data_shape, dtype) // 10
    if dtype == F32:
        data.reshape(-1)[0] = np.nan  # MAX / MIN skip it, SUM / PROD carry it
    out = (5,) + data_shape[len(ids_shape):]
    m = single_op_model(op, [t(data_shape, dtype), t(ids_shape, I32), t((), I32, data=num)], [t(out, dtype)], {})
    check(m, [data, ids], rtol=1e-6)


def test_unsorted_segment_id_out_of_range():
    m = single_op_model("UNSORTED_SEGMENT_SUM", [t((3,), F32), t((3,), I32), t((), I32, data=np.array(2, I32))],
                        [t((2,), F32)], {})
    both_refuse(m, [values((3,), F32), np.array([0, 2, 1], I32)], "", "segment ids must be")


@pytest.mark.parametrize("dtype", [F32, I8])
def test_embedding_lookup(dtype):
    value = values((6, 3, 2), dtype)
    ids = np.array([5, 0, 2, 2], I32)
    q = {"scale": 0.1, "zero_point": 0} if dtype == I8 else {}
    m = single_op_model("EMBEDDING_LOOKUP", [t((4,), I32), {**t((6, 3, 2), dtype, data=value), **q}],
                        [{**t((4, 3, 2), dtype), **q}], {})
    check(m, [ids])


@pytest.mark.parametrize("dtype", [I8, U8])
@pytest.mark.parametrize("per_row", [False, True])
def test_embedding_lookup_hybrid(dtype, per_row):
    value = values((5, 4), dtype)
    scale = list(RNG.uniform(0.01, 0.5, 5).astype(F32)) if per_row else 0.07
    ids = np.array([4, 1, 1, 0], I32)
    m = single_op_model("EMBEDDING_LOOKUP", [t((4,), I32), {**t((5, 4), dtype, data=value), "scale": scale,
                                                              "zero_point": [0] * 5 if per_row else 0}],
                        [t((4, 4), F32)], {}, version=3 if dtype == I8 else 2)
    check(m, [ids], rtol=1e-6)


def test_embedding_lookup_id_out_of_range():
    m = single_op_model("EMBEDDING_LOOKUP", [t((2,), I32), t((3, 2), F32, data=values((3, 2), F32))], [t((2, 2), F32)], {})
    both_refuse(m, [np.array([1, 3], I32)], "", "ids must be")
