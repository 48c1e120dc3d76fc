"""CEIL (TFLite kernels/ceil.cc): float32 and float16, std::ceil per element."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.unary_plain import PlainUnary


class Ceil(PlainUnary):
    name = "CEIL"
    function = staticmethod(np.ceil)
