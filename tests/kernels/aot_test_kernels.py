"""Kernels declared the way eightbit's are (jit.njit), to test the ahead-of-time library's
generic cases: an error numba raises, an allocation, scalar and bool returns, strided and
Fortran-ordered arrays."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.fast.jit import njit


def _divide(a, d, out):
    """out = a // d: numba raises ZeroDivisionError for d == 0."""
    for i in range(a.size):
        out[i] = a[i] // d


def _doubled_sum(x):
    """Allocates a temporary (numba's runtime) and returns a float."""
    t = np.empty(x.size, np.float64)
    for i in range(x.size):
        t[i] = x[i] * 2.0
    return t.sum()


def _copy2d(x, out):
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = x[i, j]


def _any_above(x, threshold, strict):
    for i in range(x.size):
        if x[i] > threshold or (not strict and x[i] == threshold):
            return True
    return False


divide = njit(_divide)
doubled_sum = njit(_doubled_sum)
copy2d = njit(_copy2d)
any_above = njit(_any_above)


def exercise():
    """Calls each kernel with the argument types the library is built for; returns the results."""
    a = np.arange(-20, 20, dtype=np.int32)
    out = np.zeros_like(a)
    divide.run()(a, np.int32(3), out)
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    strided, fortran = x[:, ::2], np.asfortranarray(x)
    c1, c2 = np.zeros((4, 3), np.float32), np.zeros((4, 6), np.float32)
    copy2d.run()(strided, c1)
    copy2d.run()(fortran, c2)
    total = doubled_sum.run()(np.linspace(0, 1, 7, dtype=np.float32))
    flags = [any_above.run()(a, 19.0, True), any_above.run()(a, 19.0, False)]
    return out, c1, c2, total, flags
