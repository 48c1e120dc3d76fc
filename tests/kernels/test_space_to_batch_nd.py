"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND against LiteRT's reference kernels: 4-D (two spatial
dimensions) and 3-D (one), every type, paddings (quantized: the output zero point pads) and
crops, batch > 1, blocks of 1, operands fed at run time, and shapes that do not divide."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import single_op_model

RNG = np.random.default_rng(78)
F16, F32, I8, U8, I16, I32, I64 = np.float16, np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64
B = np.bool_
QUANT = {I8: (0.1, -7), U8: (0.05, 130), I16: (0.01, 0)}


def values(shape, dtype):
    if dtype == B:
        return RNG.random(shape) < 0.5
    if np.issubdtype(dtype, np.floating):
        return RNG.normal(0, 5, shape).astype(dtype)
    info = np.iinfo(dtype)
    return RNG.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


def version(dtype, rank):
    return 4 if dtype == I16 else 3 if rank != 4 else 2 if dtype == I8 else 1


def s2b_model(shape, dtype, block, pads, const=True):
    block, pads = np.asarray(block, I32), np.asarray(pads, I32).reshape(-1, 2)
    padded = [d + a + b for d, (a, b) in zip(shape[1:], pads)]
    out = (shape[0] * int(np.prod(block)),) + tuple(p // b for p, b in zip(padded, block)) + tuple(shape[1 + len(block):])
    q = QUANT.get(dtype, ())
    ins = [t(shape, dtype, *q), t(block.shape, I32, data=block if const else None),
           t(pads.shape, I32, data=pads if const else None)]
    return single_op_model("SPACE_TO_BATCH_ND", ins, [t(out, dtype, *q)], {}, version=version(dtype, len(shape))), \
        block, pads


def b2s_model(shape, dtype, block, crops, const=True):
    block, crops = np.asarray(block, I32), np.asarray(crops, I32).reshape(-1, 2)
    n = int(np.prod(block))
    spatial = [s * b - a - c for s, b, (a, c) in zip(shape[1:], block, crops)]
    out = (shape[0] // n,) + tuple(spatial) + tuple(shape[1 + len(block):])
    q = QUANT.get(dtype, ())
    ins = [t(shape, dtype, *q), t(block.shape, I32, data=block if const else None),
           t(crops.shape, I32, data=crops if const else None)]
    return single_op_model("BATCH_TO_SPACE_ND", ins, [t(out, dtype, *q)], {}, version=version(dtype, len(shape))), \
        block, crops


@pytest.mark.parametrize("dtype", [F32, F16, I8, U8, I16, I32, I64, B])
@pytest.mark.parametrize("shape,block,pads", [((2, 4, 6, 3), [2, 3], [[0, 0], [0, 0]]),
                                              ((1, 3, 5, 2), [2, 2], [[1, 0], [2, 1]]),
                                              ((3, 5, 2), [3], [[2, 2]]), ((2, 4, 4, 1), [1, 4], [[0, 3], [0, 0]])])
def test_space_to_batch_nd(dtype, shape, block, pads):
    m, _, _ = s2b_model(shape, dtype, block, pads)
    check(m, [values(shape, dtype)], exact=True)


@pytest.mark.parametrize("dtype", [F32, F16, I8, U8, I16, I32, I64, B])
@pytest.mark.parametrize("shape,block,crops", [((12, 2, 2, 3), [2, 3], [[0, 0], [0, 0]]),
                                               ((8, 3, 2, 2), [2, 2], [[1, 0], [2, 1]]),
                                               ((6, 3, 2), [3], [[2, 4]]), ((4, 4, 2, 1), [1, 4], [[0, 1], [3, 0]])])
def test_batch_to_space_nd(dtype, shape, block, crops):
    m, _, _ = b2s_model(shape, dtype, block, crops)
    check(m, [values(shape, dtype)], exact=True)


def test_operands_fed_at_run_time():
    m, block, pads = s2b_model((1, 4, 4, 2), F32, [2, 2], [[0, 2], [2, 0]], const=False)
    check(m, [values((1, 4, 4, 2), F32), block, pads], exact=True)
    m, block, crops = b2s_model((4, 3, 3, 2), F32, [2, 2], [[1, 1], [0, 2]], const=False)
    check(m, [values((4, 3, 3, 2), F32), block, crops], exact=True)


def test_padded_shape_must_divide():
    m, block, pads = s2b_model((1, 4, 4, 1), F32, [3, 2], [[0, 0], [0, 0]], const=False)
    both_refuse(m, [values((1, 4, 4, 1), F32), block, pads], "", "not a multiple")
