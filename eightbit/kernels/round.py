"""ROUND (TFLite kernels/round.cc, reference Round): float32 and float16, to the nearest integer with
ties to even (RoundToNearest), which is numpy's rint; signed zeros and inf/NaN pass through."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.unary_plain import PlainUnary


class Round(PlainUnary):
    name = "ROUND"
    function = staticmethod(np.rint)
