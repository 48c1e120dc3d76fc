"""FLOOR (TFLite kernels/floor.cc): float32 and float16, std::floor per element."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.unary_plain import PlainUnary


class Floor(PlainUnary):
    name = "FLOOR"
    function = staticmethod(np.floor)
