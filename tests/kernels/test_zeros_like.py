"""ZEROS_LIKE against LiteRT's reference kernels: float32 / int32 / int64, scalars, empty and
resized inputs; the types TFLite's kernel refuses are refused here too."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import F32, I8, I32, I64, U8, check, check_both_fail, data, t


@pytest.mark.parametrize("dtype", [F32, I32, I64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(2, 3), (), (0, 4)], ids=["2d", "scalar", "empty"])
def test_zeros_like(dtype, shape):
    check("ZEROS_LIKE", [t(shape, dtype)], [t(shape, dtype)], None)


def test_resized():
    check("ZEROS_LIKE", [t((1, 3))], [t((1, 3))], [data((4, 3), F32)])


@pytest.mark.parametrize("dtype", [I8, U8], ids=lambda d: np.dtype(d).name)
def test_refused(dtype):
    check_both_fail("ZEROS_LIKE", [t((2, 3), dtype)], [t((2, 3), dtype)], [data((2, 3), dtype)])
