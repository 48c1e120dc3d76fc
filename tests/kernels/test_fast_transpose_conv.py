"""Fast int8 / uint8 TRANSPOSE_CONV against the reference kernel, table-driven (strides, SAME /
VALID, bias or none, per-channel and per-tensor filters, the float32 and the float64 GEMM):
identical bit for bit, and the fast path really taken."""

from __future__ import annotations

import numpy as np
import pytest

from eightbit.kernels.fast import HAVE_NUMBA
from tests.kernels.test_fast_elementwise import _check
from tests.oracle import single_op_model

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones")

CASES = [  # dtype, input shape, filter (oc, kh, kw), stride, padding (0 SAME, 1 VALID), bias, per-channel
    (np.int8, (2, 5, 5, 4), (6, 3, 3), 2, 0, True, True),
    (np.int8, (1, 4, 6, 8), (3, 2, 2), 2, 1, False, True),
    (np.int8, (1, 7, 7, 300), (2, 3, 3), 1, 0, True, False),  # depth 300: float64 GEMM
    (np.uint8, (2, 3, 4, 5), (4, 3, 3), 1, 1, True, False),
    (np.uint8, (1, 6, 6, 3), (5, 4, 4), 3, 0, False, False),
]


def _out_size(size, k, stride, padding):
    return size * stride if padding == 0 else (size - 1) * stride + k


@pytest.mark.parametrize("dtype, xs, fs, stride, padding, with_bias, per_channel", CASES)
def test_transpose_conv(dtype, xs, fs, stride, padding, with_bias, per_channel):
    rng = np.random.default_rng(xs[-1] + fs[0])
    oc, kh, kw = fs
    out = (xs[0], _out_size(xs[1], kh, stride, padding), _out_size(xs[2], kw, stride, padding), oc)
    info = np.iinfo(dtype)
    in_q = dict(scale=0.05, zero_point=-3 if dtype == np.int8 else 120)
    if dtype == np.int8:
        w = rng.integers(-127, 128, (oc, kh, kw, xs[3])).astype(np.int8)
        scales = list(rng.uniform(0.005, 0.02, oc)) if per_channel else 0.01
        w_q = dict(scale=scales, zero_point=[0] * oc if per_channel else 0, quantized_dimension=0)
        bias_scales = np.asarray(scales) * 0.05
    else:
        w = rng.integers(0, 256, (oc, kh, kw, xs[3])).astype(np.uint8)
        w_q = dict(scale=0.01, zero_point=130)
        bias_scales = 0.01 * 0.05
    inputs = [dict(shape=(4,), dtype=np.int32, data=np.array(out, np.int32)),
              dict(shape=w.shape, dtype=dtype, data=w, **w_q),
              dict(shape=xs, dtype=dtype, **in_q)]
    if with_bias:
        inputs.append(dict(shape=(oc,), dtype=np.int32, data=rng.integers(-5000, 5000, oc).astype(np.int32),
                           scale=list(np.broadcast_to(bias_scales, (oc,))), zero_point=[0] * oc))
    model = single_op_model("TRANSPOSE_CONV", inputs,
                            [dict(shape=out, dtype=dtype, scale=0.4, zero_point=5 if dtype == np.int8 else 128)],
                            {"padding": padding, "stride_h": stride, "stride_w": stride})
    x = rng.integers(info.min, info.max + 1, xs).astype(dtype)
    _check(model, [x], "FastTransposeConvParams")
