"""A kernel calling another through a global captured at import (`x.run()` in module code, the
pattern jitted callers use): the global is numba's dispatcher, the caller is in the library."""

from __future__ import annotations

from eightbit.kernels.fast.jit import njit


def _add_one(x, out):
    for i in range(x.size):
        out[i] = x[i] + 1


add_one = njit(_add_one)
ADD_ONE = add_one.run()  # called inside _add_two: must be numba's


def _add_two(x, tmp, out):
    ADD_ONE(x, tmp)
    ADD_ONE(tmp, out)


add_two = njit(_add_two)
