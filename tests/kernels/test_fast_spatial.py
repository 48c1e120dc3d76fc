"""Fast float32 RESIZE_BILINEAR and PRELU against the reference kernels, table-driven over their
options and shapes (inf / NaN / -0.0 included): identical bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from eightbit.kernels.fast import HAVE_NUMBA
from tests.fuzz.fast_vs_reference import identical
from tests.kernels.test_fast_elementwise import _run
from tests.oracle import single_op_model

pytestmark = [pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]

SPECIALS = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 3e38, -3e38], np.float32)


def _data(rng, shape):
    x = (rng.normal(size=shape) * 5).astype(np.float32)
    k = min(x.size, SPECIALS.size)
    x.reshape(-1)[:k] = SPECIALS[:k]
    return x


def _same(model, inputs):
    got, _ = _run(model, inputs, "fast")
    want, _ = _run(model, inputs, "reference")
    assert identical(got, want), f"{int(np.sum(got != want))} of {want.size} differ"


@pytest.mark.parametrize("shape, size, align, half", [
    ((2, 5, 7, 3), (10, 14), False, False),
    ((1, 4, 4, 8), (9, 3), False, True),
    ((2, 6, 5, 2), (11, 13), True, False),
    ((1, 8, 8, 4), (4, 4), False, True),  # downscaling
    ((1, 1, 1, 5), (3, 3), True, False),
])
def test_resize_bilinear(shape, size, align, half):
    rng = np.random.default_rng(size[0])
    model = single_op_model("RESIZE_BILINEAR", [dict(shape=shape), dict(shape=(2,), dtype=np.int32,
                                                                          data=np.array(size, np.int32))],
                            [dict(shape=(shape[0], *size, shape[3]))],
                            {"align_corners": align, "half_pixel_centers": half})
    _same(model, [_data(rng, shape)])


@pytest.mark.parametrize("shape, alpha_shape", [((2, 6, 6, 8), (1, 1, 8)), ((3, 16), (16,)), ((2, 4, 4, 5), (5,)),
                                                ((2, 4, 4, 5), (4, 1, 5))])  # the last: reference path
def test_prelu(shape, alpha_shape):
    rng = np.random.default_rng(len(alpha_shape))
    alpha = (rng.normal(size=alpha_shape) * 0.3).astype(np.float32)
    model = single_op_model("PRELU", [dict(shape=shape), dict(shape=alpha_shape, data=alpha)], [dict(shape=shape)])
    _same(model, [_data(rng, shape)])
