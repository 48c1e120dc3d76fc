"""SQUARED_DIFFERENCE (TFLite kernels/squared_difference.cc).

float32 / int32: (x1 - x2)^2 (int32 wraps like the C++). int8: both inputs rescaled to
2*max(s1, s2) / 2^7 (left shift 7, input multipliers as in ADD), the difference squared in
int32 and requantized with (2*max)^2 / (2^14 * so) plus the output zero point, clamped to int8.
No fused activation.
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels import binary_common as bc
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import OpContext
from eightbit.kernels.opdata import AddSubQuant, Output, Plain


def _eval(params, x1, x2):
    if isinstance(params, Plain):
        with np.errstate(over="ignore", invalid="ignore"):
            d = x1 - x2
            return d * d
    ls = params.left_shift
    d = bc.rescaled(x1, params.in1, ls) - bc.rescaled(x2, params.in2, ls)
    return bc.requantize_output(fp.wrap_int32(d * d), params.out.as_tuple, params.out.act, np.int8)


class SquaredDifference(bc.Binary):
    @staticmethod
    def prepare(op: OpContext):
        t = bc.binary_input_type(op)
        out = op.outputs[0]
        if t in ("FLOAT32", "INT32"):
            return Plain()
        if t != "INT8":
            raise op.unsupported(f"SQUARED_DIFFERENCE has no kernel for {t}")
        in1, in2 = op.inputs
        bc.require_quantized(op, in1, in2, out)
        bc.check_zero_points_in_range(op, np.int8, in1, in2, out)
        left_shift = 7
        twice_max, r1, r2 = bc.rescale_inputs(op, left_shift)
        # (1 << 14) * output.scale is a float product in the C++; exact (power of two).
        mo, so = fp.quantize_multiplier((twice_max * twice_max) / ((1 << (2 * left_shift)) * out.scale))
        return AddSubQuant(left_shift, r1, r2, Output(out.zero_point, mo, so, -128, 127, np.int8))

    @staticmethod
    def eval(params, x1, x2):
        return np.asarray(_eval(params, x1, x2))
