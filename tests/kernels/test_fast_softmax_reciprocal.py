"""The fast SOFTMAX's compiled GetReciprocal against the reference's vectorized one
(kernels/gemmlowp.get_reciprocal, itself checked against LiteRT through every SOFTMAX test):
every row sum, including the int32 edges and the powers of two where the normalisation shifts."""

import numpy as np
import pytest

from eightbit.kernels import gemmlowp as gl
from eightbit.kernels.fast.jit import HAVE_NUMBA
from eightbit.kernels.fast.softmax import reciprocals

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="the compiled kernels need numba")


def _sums(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    powers = (np.int64(1) << rng.integers(0, 31, 2000)) + rng.integers(-3, 4, 2000)
    edges = [0, 1, 2, 4095, 4096, 4097, 2**30 - 1, 2**30, 2**31 - 1, -1, -(2**31)]
    return np.concatenate([rng.integers(-(2**31), 2**31, 20000), np.arange(-3000, 3000), powers, edges]).astype(np.int64)


@pytest.mark.parametrize("digits", [12, 0, 5])
def test_compiled_reciprocal_equals_reference(digits):
    sums = _sums(digits)
    want_scale, want_bits = gl.get_reciprocal(sums, digits)
    scale, bits = np.empty_like(sums), np.empty_like(sums)
    reciprocals.run()(sums, np.int64(digits), scale, bits)
    np.testing.assert_array_equal(scale, want_scale)
    np.testing.assert_array_equal(bits, want_bits)
