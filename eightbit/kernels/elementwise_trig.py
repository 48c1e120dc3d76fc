"""SIN and COS (TFLite kernels/elementwise.cc): float32 and float16, std::sin / std::cos.

Computed in double and rounded once to float32: the correctly rounded value, which glibc's
sinf / cosf return (numpy's own float32 sin may differ in the last place); float16 goes through
float32 as LiteRT's half type does, then rounds to half."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.unary_plain import PlainUnary


def _in_double(fn):
    def wrapped(x):
        return fn(np.asarray(x, np.float64)).astype(np.float32).astype(x.dtype)

    return staticmethod(wrapped)


class Sin(PlainUnary):
    name = "SIN"
    function = _in_double(np.sin)


class Cos(PlainUnary):
    name = "COS"
    function = _in_double(np.cos)
