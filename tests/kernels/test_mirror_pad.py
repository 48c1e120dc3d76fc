"""MIRROR_PAD against LiteRT's reference kernels: REFLECT and SYMMETRIC, ranks 1-5, every type
TFLite's kernel runs (float32, int8, uint8, int32, int64; quantized values copied with the
input's parameters), int32 and int64 paddings, paddings fed at run time, zero and largest
paddings, batch resize, empty dimensions; paddings beyond the mirror's reach are refused (TFLite
reads out of bounds there; TensorFlow refuses)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.oracle import assert_same_as_litert, run_eightbit, run_litert, single_op_model

RNG = np.random.default_rng(70)
REFLECT, SYMMETRIC = 0, 1


def model(shape, dtype, pads, mode, pad_dtype=np.int32, const=True, out_shape=None, q=None, version=1):
    pads = np.asarray(pads, pad_dtype).reshape(-1, 2)
    x = {"shape": shape, "dtype": dtype, **(q or {})}
    p = {"shape": pads.shape, "dtype": pad_dtype, **({"data": pads} if const else {})}
    out_shape = out_shape or tuple(int(d + a + b) for d, (a, b) in zip(shape, pads))
    return single_op_model("MIRROR_PAD", [x, p], [{"shape": out_shape, "dtype": dtype, **(q or {})}],
                           {"mode": mode}, version=version)


def data(shape, dtype):
    if np.issubdtype(dtype, np.floating):
        return RNG.normal(0, 3, shape).astype(dtype)
    info = np.iinfo(dtype)
    return RNG.integers(max(info.min, -(2**40)), min(info.max, 2**40), shape, endpoint=True).astype(dtype)


CASES = [
    ("1d_reflect", (5,), np.float32, [[2, 4]], REFLECT),
    ("1d_symmetric", (5,), np.float32, [[5, 3]], SYMMETRIC),
    ("2d_reflect", (3, 4), np.float32, [[2, 1], [3, 0]], REFLECT),
    ("4d_reflect_nhwc", (1, 5, 6, 3), np.float32, [[0, 0], [2, 2], [1, 3], [0, 0]], REFLECT),
    ("4d_symmetric_nhwc", (2, 4, 4, 2), np.float32, [[0, 0], [4, 1], [2, 4], [0, 0]], SYMMETRIC),
    ("5d", (2, 3, 2, 3, 2), np.float32, [[1, 0], [2, 1], [1, 1], [0, 2], [1, 0]], REFLECT),
    ("zero_pads", (2, 3), np.float32, [[0, 0], [0, 0]], REFLECT),
    ("size1_symmetric", (1, 4), np.float32, [[1, 1], [2, 2]], SYMMETRIC),
    ("int8", (2, 6, 5, 3), np.int8, [[0, 0], [3, 2], [4, 4], [0, 0]], REFLECT),
    ("uint8", (3, 7), np.uint8, [[2, 3], [6, 7]], SYMMETRIC),
    ("int32", (4, 3), np.int32, [[1, 2], [2, 2]], REFLECT),
    ("int64", (3, 3, 2), np.int64, [[1, 1], [1, 0], [0, 1]], SYMMETRIC),
]


@pytest.mark.parametrize("cid,shape,dtype,pads,mode", CASES, ids=[c[0] for c in CASES])
def test_mirror_pad(cid, shape, dtype, pads, mode):
    q = {"scale": 0.05, "zero_point": 3} if dtype in (np.int8, np.uint8) else None
    version = 2 if dtype == np.int8 else 1
    assert_same_as_litert(model(shape, dtype, pads, mode, q=q, version=version), [data(shape, dtype)])


@pytest.mark.parametrize("mode", [REFLECT, SYMMETRIC])
def test_int64_paddings(mode):
    assert_same_as_litert(model((3, 4), np.float32, [[2, 1], [1, 3]], mode, pad_dtype=np.int64),
                          [data((3, 4), np.float32)])


@pytest.mark.parametrize("mode", [REFLECT, SYMMETRIC])
def test_paddings_fed_at_run_time(mode):
    pads = np.array([[1, 2], [0, 2], [2, 1]], np.int32)
    m = model((3, 4, 3), np.float32, pads, mode, const=False, out_shape=(1, 1, 1))
    assert_same_as_litert(m, [data((3, 4, 3), np.float32), pads])


def test_batch_resize():
    m = model((1, 4, 4, 2), np.int8, [[0, 0], [2, 2], [1, 1], [0, 0]], REFLECT,
              q={"scale": 0.1, "zero_point": -5}, version=2)
    assert_same_as_litert(m, [data((3, 4, 4, 2), np.int8)])


def test_empty_batch():
    m = model((0, 3), np.float32, [[0, 0], [1, 2]], SYMMETRIC)
    assert_same_as_litert(m, [np.zeros((0, 3), np.float32)])


@pytest.mark.parametrize("shape,mode,pads", [
    ((3,), REFLECT, [[3, 0]]), ((3,), SYMMETRIC, [[0, 4]]), ((3,), REFLECT, [[-1, 0]]),
    ((0, 3), REFLECT, [[0, 0], [1, 1]]),  # an empty dimension has nothing to reflect
])
def test_paddings_beyond_the_mirror_are_refused(shape, mode, pads):
    pads = np.asarray(pads, np.int32)
    m = model(shape, np.float32, pads, mode, const=False, out_shape=(1,) * len(shape))
    x = np.zeros(shape, np.float32)
    with pytest.raises(RuntimeError, match="MirrorPad paddings must be"):
        run_litert(m, [x, pads])
    with pytest.raises((RuntimeError, ValueError), match="MIRROR_PAD: paddings"):
        run_eightbit(m, [x, pads])


@pytest.mark.parametrize("dtype,q", [(np.int16, {"scale": 0.01, "zero_point": 0}), (np.float16, None),
                                     (np.bool_, None)], ids=["int16", "float16", "bool"])
def test_types_newer_than_tflite_2_3_source(dtype, q):
    x = RNG.normal(0, 50, (2, 4, 3)).astype(dtype) if dtype != np.bool_ else RNG.random((2, 4, 3)) < 0.5
    m = model((2, 4, 3), dtype, [[1, 1], [2, 3], [0, 2]], SYMMETRIC, q=q, version=3)
    assert_same_as_litert(m, [x])
