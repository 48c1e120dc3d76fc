"""SIGN (TFLite kernels/sign.cc): float32, float64 and int32; -1, 0 or 1 of the input's type.
Zero of either sign gives +0; NaN gives the NaN back (LiteRT 2.3.0 measured)."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.unary_plain import PlainUnary


def _sign(x):
    s = (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)
    return np.where(np.isnan(x), x, s) if x.dtype.kind == "f" else s


class Sign(PlainUnary):
    name = "SIGN"
    allowed = ("FLOAT32", "FLOAT64", "INT32")
    function = staticmethod(_sign)
