"""SUB (TFLite kernels/sub.cc, internal/reference/sub.h).

The same paths as ADD (see add.py): float32 / int32 / int64 difference with the activation
clamp; int8 / uint8 general rescaling (left shift 20); int16 general rescaling (left shift 15)
or, with pot_scale_int16 and power-of-two scales, the rounding-shift path with saturation.
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.add import eval_add_sub, prepare_add_sub
from eightbit.kernels.base import OpContext
from eightbit.kernels.binary_common import Binary


class Sub(Binary):
    @staticmethod
    def prepare(op: OpContext):
        return prepare_add_sub(op, "SUB")

    @staticmethod
    def eval(params, x1, x2):
        return np.asarray(eval_add_sub(params, x1, x2, -1))
