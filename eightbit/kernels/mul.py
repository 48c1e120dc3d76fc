"""MUL (TFLite kernels/mul.cc, internal/reference/mul.h, reference/integer_ops/mul.h).

float32 / int32 / int64: product clamped to the fused activation's range.
int8 / uint8 / int16 (same type in and out): (x1 - zp1) * (x2 - zp2) in int32, requantized
with one multiplier s1*s2/so (computed in float32, as the C++ does) plus the output zero
point, clamped; int16 requires zero points 0.
int16 inputs with int8 / uint8 output (the LSTM path): Q0.15 fixed-point product, rounded
down to 8 bits (divide by 2^8), clamped, plus the output zero point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import binary_common as bc
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import OpContext
from eightbit.kernels.opdata import Output, Plain


@dataclass(frozen=True, eq=False)
class MulQuant:
    """(x1 - zp1) * (x2 - zp2) requantized by s1 * s2 / so."""

    off1: int
    off2: int
    out: Output


@dataclass(frozen=True, eq=False)
class Mul16To8:
    """int16 inputs, int8 / uint8 output (the LSTM path): Q0.15 product divided by 2^8."""

    zero_point: int
    lo: int
    hi: int
    dtype: object


def _eval(params, x1, x2):
    if isinstance(params, Plain):
        with np.errstate(over="ignore", invalid="ignore"):
            y = x1 * x2
        return bc.clamp(y, *params.clamp)
    if isinstance(params, Mul16To8):
        prod = fp.saturating_rounding_doubling_high_mul_int16(x1, x2)
        y = bc.rounding_divide_by_pot(prod, 8)
        zp = params.zero_point
        return (np.clip(y, params.lo - zp, params.hi - zp) + zp).astype(params.dtype)
    prod = (bc.as_int64(x1) + params.off1) * (bc.as_int64(x2) + params.off2)
    return bc.requantize_output(prod, params.out.as_tuple, params.out.act, params.out.dtype)


class Mul(bc.Binary):
    @staticmethod
    def prepare(op: OpContext):
        t = bc.binary_input_type(op, output=None)  # int16 inputs may give an 8-bit output
        out = op.outputs[0]
        act = bc.activation(op)
        if t in bc.FLOAT_TYPES + bc.INT_TYPES:
            if out.type != t:
                raise op.unsupported(f"output type {out.type} differs from input type {t}")
            if t in bc.FLOAT_TYPES:
                return Plain(fp.activation_range_float(act))
            return Plain(bc.int_clamp(act, out.dtype))
        if t not in bc.QUANT_TYPES:
            raise op.unsupported(f"MUL has no kernel for {t}")
        in1, in2 = op.inputs
        bc.require_quantized(op, in1, in2, out)
        lo, hi = bc.quantized_activation_range(op)
        if t == "INT16" and out.type in ("INT8", "UINT8"):
            return Mul16To8(out.zero_point, lo, hi, out.dtype)
        if out.type != t:
            raise op.unsupported(f"output type {out.type} with {t} inputs")
        if t == "INT16" and (in1.zero_point or in2.zero_point or out.zero_point):
            raise op.unsupported("int16 quantization must be symmetric (zero points 0)")
        # input1.scale * input2.scale / output.scale is float arithmetic in mul.cc.
        real = np.float32(np.float32(in1.scale) * np.float32(in2.scale)) / np.float32(out.scale)
        m, s = fp.quantize_multiplier(float(np.float32(real)))
        return MulQuant(-in1.zero_point, -in2.zero_point, Output(out.zero_point, m, s, lo, hi, out.dtype))

    @staticmethod
    def eval(params, x1, x2):
        return np.asarray(_eval(params, x1, x2))
