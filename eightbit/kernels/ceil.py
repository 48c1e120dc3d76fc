"""CEIL (TFLite kernels/ceil.cc): float32 only (LiteRT 2.3.0 refuses float16), std::ceil."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.unary_plain import PlainUnary


class Ceil(PlainUnary):
    name = "CEIL"
    allowed = ("FLOAT32",)
    function = staticmethod(np.ceil)
