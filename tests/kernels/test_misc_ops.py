"""BITWISE_XOR, RIGHT_SHIFT, BUCKETIZE, FAKE_QUANT, MATRIX_DIAG, MATRIX_SET_DIAG, SEGMENT_SUM,
SPARSE_TO_DENSE, UNIQUE and BITCAST against LiteRT's reference kernels (SEGMENT_SUM, which
BUILTIN_REF lacks, against its builtin kernel): every element type each runs, broadcasting, shifts
past the width, boundaries and values that tie, nudged ranges, raw-zero diagonals of quantized
tensors, repeated sparse indices, -0.0 in UNIQUE, and what both refuse."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import single_op_model

RNG = np.random.default_rng(707)
F32, F64, I8, U8, I16, U16, I32, U32, I64 = (np.float32, np.float64, np.int8, np.uint8, np.int16, np.uint16, np.int32,
                                             np.uint32, np.int64)


def ints(shape, dtype, lo=None, hi=None):
    info = np.iinfo(dtype)
    return RNG.integers(info.min if lo is None else lo, info.max if hi is None else hi, shape, endpoint=True,
                        dtype=np.int64).astype(dtype)


@pytest.mark.parametrize("op", ["BITWISE_XOR", "RIGHT_SHIFT"])
@pytest.mark.parametrize("dtype", [I8, U8, I16, U16, I32, U32])
@pytest.mark.parametrize("a_shape,b_shape", [((2, 3), (2, 3)), ((2, 1, 4), (3, 1)), ((), (5,))])
def test_bitwise(op, dtype, a_shape, b_shape):
    out = np.broadcast_shapes(a_shape, b_shape)
    bits = np.dtype(dtype).itemsize * 8
    b = ints(b_shape, dtype, *((None, None) if op == "BITWISE_XOR" else (0 if dtype in (U8, U16, U32) else -3,
                                                                          bits + 3)))
    m = single_op_model(op, [t(a_shape, dtype), t(b_shape, dtype)], [t(out, dtype)], {})
    check(m, [ints(a_shape, dtype), b])


def test_bitwise_refuses_float():
    m = single_op_model("BITWISE_XOR", [t((2,), F32), t((2,), F32)], [t((2,), F32)], {})
    both_refuse(m, [np.ones(2, F32), np.ones(2, F32)], "", "FLOAT32")


@pytest.mark.parametrize("dtype", [F32, F64, I32, I64])
def test_bucketize(dtype):
    bounds = [-5.0, -0.5, 0.0, 0.0, 1.5, 3.0, 1e9]
    x = (RNG.normal(0, 4, (3, 17))).astype(dtype) if dtype in (F32, F64) else ints((3, 17), dtype, -8, 8)
    x.reshape(-1)[:4] = np.array([-0.5, 0.0, 3.0, 1e9]).astype(dtype)
    m = single_op_model("BUCKETIZE", [t(x.shape, dtype)], [t(x.shape, I32)], {"boundaries": bounds})
    check(m, [x])


def test_bucketize_refuses_unsorted_boundaries():
    m = single_op_model("BUCKETIZE", [t((3,), F32)], [t((3,), I32)], {"boundaries": [1.0, 0.0]})
    both_refuse(m, [np.ones(3, F32)], "", "sorted")


@pytest.mark.parametrize("rmin,rmax,bits", [(-1.0, 1.0, 8), (0.0, 6.0, 8), (-0.37, 2.91, 8), (-3.0, 0.0, 4),
                                            (-0.1, 10.2, 16), (-1e-3, 1e3, 8), (0.2, 0.9, 8)])
def test_fake_quant(rmin, rmax, bits):
    x = (RNG.normal(0, max(abs(rmin), rmax), (4, 33))).astype(F32)
    x.reshape(-1)[:4] = [np.inf, -np.inf, np.nan, 0.0]
    m = single_op_model("FAKE_QUANT", [t(x.shape)], [t(x.shape)], {"min": rmin, "max": rmax, "num_bits": bits})
    check(m, [x], exact=True)


def test_fake_quant_narrow_range_is_refused():
    m = single_op_model("FAKE_QUANT", [t((3,))], [t((3,))], {"min": -1.0, "max": 1.0, "num_bits": 8,
                                                              "narrow_range": True}, version=2)
    both_refuse(m, [np.ones(3, F32)], "", "narrow_range")


def values(shape, dtype):
    return RNG.normal(0, 3, shape).astype(dtype) if dtype == F32 else ints(shape, dtype, -100, 100).astype(dtype)


@pytest.mark.parametrize("dtype", [F32, I8, U8, I16, I32, I64])
@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 1, 5)])
def test_matrix_diag(dtype, shape):
    q = {"scale": 0.5, "zp": -7} if dtype == I8 else {}  # raw 0 off the diagonal, not the zero point
    m = single_op_model("MATRIX_DIAG", [t(shape, dtype, **q)], [t(shape + shape[-1:], dtype, **q)], {})
    check(m, [values(shape, dtype)])


@pytest.mark.parametrize("dtype", [F32, I8, U8, I16, I32, I64])
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 5), (2, 2, 4, 3)])
def test_matrix_set_diag(dtype, shape):
    diag = shape[:-2] + (min(shape[-2:]),)
    m = single_op_model("MATRIX_SET_DIAG", [t(shape, dtype), t(diag, dtype)], [t(shape, dtype)], {})
    check(m, [values(shape, dtype), values(diag, dtype)])


@pytest.mark.parametrize("dtype", [F32, I32])
@pytest.mark.parametrize("ids", [[0, 0, 1, 2, 2, 2], [0], [0, 1, 2, 3], [0, 0, 0]])
@pytest.mark.parametrize("rest", [(), (3,), (2, 2)])
def test_segment_sum(dtype, ids, rest):
    """BUILTIN_REF has no SEGMENT_SUM: compared with LiteRT's builtin (reference) kernel."""
    ids = np.array(ids, I32)
    n = int(ids[-1]) + 1
    data = values((ids.size,) + rest, dtype)
    m = single_op_model("SEGMENT_SUM", [t(data.shape, dtype), t(ids.shape, I32)], [t((n,) + rest, dtype)], {})
    check(m, [data, ids], reference=False, rtol=1e-6)


def test_segment_sum_refuses_unsorted_ids():
    m = single_op_model("SEGMENT_SUM", [t((3,)), t((3,), I32)], [t((2,))], {})
    both_refuse(m, [np.ones(3, F32), np.array([0, 2, 1], I32)], "", "segment ids", reference=False)


@pytest.mark.parametrize("dtype", [F32, I32, I64, I8, U8])
@pytest.mark.parametrize("index_dtype", [I32, I64])
@pytest.mark.parametrize("case", ["1d", "2d", "4d", "scalar_value", "repeated"])
def test_sparse_to_dense(dtype, index_dtype, case):
    shape = {"1d": [9], "2d": [3, 5], "4d": [2, 3, 2, 4], "scalar_value": [4, 6], "repeated": [3, 4]}[case]
    n = 5
    coords = np.stack([RNG.integers(0, d, n) for d in shape], 1)
    if case == "repeated":
        coords[3] = coords[1]
    indices = coords[:, 0] if case == "1d" else coords
    vals = values(() if case == "scalar_value" else (n,), dtype)
    default = values((), dtype)
    version = 3 if dtype in (I8, U8) else 2 if dtype == I64 else 1
    m = single_op_model("SPARSE_TO_DENSE", [t(indices.shape, index_dtype, data=indices.astype(index_dtype)),
                                            t((len(shape),), index_dtype, data=np.array(shape, index_dtype)),
                                            t(vals.shape, dtype), t((), dtype)], [t(shape, dtype)], {},
                        version=version)
    check(m, [vals, default])


@pytest.mark.parametrize("dtype", [I8, I16, I32, I64, F32, U8])
@pytest.mark.parametrize("index", [2, 4])
def test_unique(dtype, index):
    x = ints((23,), dtype, 0, 6) if dtype != F32 else RNG.choice(np.array([1.5, -2.0, 0.0, -0.0, 7.25], F32), 23)
    if dtype == F32:
        x[0] = -0.0  # -0.0 and 0.0 are one value, the first seen
    idx = {2: I32, 4: I64}[index]
    m = single_op_model("UNIQUE", [t(x.shape, dtype)], [t(x.shape, dtype), t(x.shape, idx)], {"idx_out_type": index})
    got = check(m, [x], exact=True)
    if dtype == F32:
        assert np.signbit(got[0][0])


@pytest.mark.parametrize("src,dst,shape,out", [
    (F32, I32, (2, 3), (2, 3)), (I32, U8, (3,), (3, 4)), (U8, I32, (2, 4), (2,)), (I16, I8, (2, 2), (2, 2, 2)),
    (I64, F32, (3,), (3, 2)), (I8, U8, (5,), (5,)),
])
def test_bitcast(src, dst, shape, out):
    x = values(shape, src) if src != F32 else RNG.normal(size=shape).astype(F32)
    m = single_op_model("BITCAST", [t(shape, src)], [t(out, dst)], {})
    check(m, [x], exact=True)


def sparse_lookup_model(n, rank, dense, params_shape, combiner, const_shape=True):
    shape = t((rank,), I32, data=np.array(dense, I32)) if const_shape else t((rank,), I32)
    out = tuple(dense[:-1]) + tuple(params_shape[1:])
    params = RNG.normal(0, 2, params_shape).astype(F32)
    return single_op_model("EMBEDDING_LOOKUP_SPARSE", [t((n,), I32), t((n, rank), I32), shape, t((n,)),
                                                       t(params_shape, data=params)], [t(out)], {"combiner": combiner})


@pytest.mark.parametrize("combiner", [0, 1, 2])
@pytest.mark.parametrize("dense,params_shape,sort", [([3, 4], (6, 5), True), ([2, 3, 2], (4, 2, 3), True),
                                                     ([4, 2], (5, 3), False), ([1], (3, 4), True)])
def test_embedding_lookup_sparse(combiner, dense, params_shape, sort):
    """Rows with several ids, empty rows, and (unsorted) a row that comes back later."""
    n = 7
    coords = np.stack([RNG.integers(0, d, n) for d in dense], 1).astype(I32)
    if sort:
        coords = coords[np.lexsort(coords[:, ::-1].T)]
    ids = RNG.integers(0, params_shape[0], n).astype(I32)
    weights = RNG.uniform(-1, 2, n).astype(F32)
    m = sparse_lookup_model(n, len(dense), dense, params_shape, combiner)
    check(m, [ids, coords, weights], exact=True)


def test_embedding_lookup_sparse_id_out_of_range():
    m = sparse_lookup_model(2, 2, [2, 2], (3, 2), 0)
    both_refuse(m, [np.array([0, 3], I32), np.array([[0, 0], [1, 0]], I32), np.ones(2, F32)], "", "out of bounds")


@pytest.mark.parametrize("dtype,row", [(F32, ()), (I32, (3,)), (U8, (2, 2)), (I8, ()), (I16, (4,)), (I64, ())])
def test_hashtable_lookup(dtype, row):
    """Missing keys give zero rows; repeated keys the row glibc's bsearch lands on; keys 2^31 apart
    (compared as if the comparator's int32 subtraction did not wrap)."""
    keys = np.array([-2**31, -7, 0, 0, 0, 3, 3, 9, 2**31 - 1], I32)
    vals = values((keys.size,) + row, dtype)
    lookup = np.array([0, 3, -7, 5, 9, 2**31 - 1, -2**31, 100, 0], I32)
    m = single_op_model("HASHTABLE_LOOKUP", [t((9,), I32), t(keys.shape, I32, data=keys),
                                             t(vals.shape, dtype, data=vals)], [t((9,) + row, dtype), t((9,), U8)], {})
    check(m, [lookup], exact=True)


@pytest.mark.parametrize("dtype", [F32, I8, U8, I16, I32, I64])
@pytest.mark.parametrize("shape,dilations", [((2, 3), (2, 3)), ((4,), (1,)), ((2, 1, 3), (1, 4, 2)), ((3, 2), (1, 1)),
                                             ((1, 2, 2, 2), (3, 1, 2, 1))])
def test_dilate(dtype, shape, dilations):
    out = tuple((n - 1) * d + 1 for n, d in zip(shape, dilations))
    m = single_op_model("DILATE", [t(shape, dtype), t((len(shape),), I32, data=np.array(dilations, I32)), t((), dtype)],
                        [t(out, dtype)], {})
    check(m, [values(shape, dtype), values((), dtype)], exact=True)
