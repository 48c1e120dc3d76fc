"""ADD (TFLite kernels/add.cc, internal/reference/add.h, reference/integer_ops/add.h).

float32 / int32 / int64: plain sum, clamped to the fused activation's range.
int8 / uint8: both inputs rescaled to 2*max(s1, s2) / 2^20 (input multipliers), summed in
int32 and requantized to the output scale.
int16: the same general path with left shift 15 when pot_scale_int16 is false or any scale
is not a power of two; otherwise the power-of-two path: one input is right-shifted
(rounding) to the other's scale and the two are added with int16 saturation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import binary_common as bc
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import OpContext
from eightbit.kernels.opdata import AddSubQuant, Plain


@dataclass(frozen=True, eq=False)
class Pot16:
    """int16 power-of-two path: one input right-shifted (rounding) to the other's scale."""

    shift1: int
    shift2: int
    lo: int
    hi: int


def prepare_add_sub(op: OpContext, name: str) -> Plain | Pot16 | AddSubQuant:
    big_out = name == "SUB"  # sub.cc accepts an output multiplier > 1, add.cc does not
    t = bc.binary_input_type(op)
    out = op.outputs[0]
    act = bc.activation(op)
    if t in bc.FLOAT_TYPES:
        return Plain(fp.activation_range_float(act))
    if t in bc.INT_TYPES:
        return Plain(bc.int_clamp(act, out.dtype))
    if t not in bc.QUANT_TYPES:
        raise op.unsupported(f"{name} has no kernel for {t}")
    in1, in2 = op.inputs
    bc.require_quantized(op, in1, in2, out)
    if t == "INT16":
        if in1.zero_point or in2.zero_point or out.zero_point:
            raise op.unsupported("int16 quantization must be symmetric (zero points 0)")
        # An AddOptions / SubOptions table always carries the field (default true); without the
        # table TFLite zero-initialises its params, so the general path is used.
        pot = bool(op.options.get("pot_scale_int16", False))
        if pot:
            logs = [bc.checked_log2(x.scale) for x in (in1, in2, out)]
            pot = all(ok for ok, _ in logs)
        if pot:
            shift1 = logs[0][1] - logs[2][1]
            shift2 = logs[1][1] - logs[2][1]
            if not (shift1 == 0 or shift2 == 0) or shift1 > 0 or shift2 > 0:
                raise op.unsupported(
                    "power-of-two int16 path needs one input at the output scale and the other finer"
                )
            return Pot16(-shift1, -shift2, *bc.quantized_activation_range(op))
        return bc.add_sub_params(op, 15, big_out)
    bc.check_zero_points_in_range(op, out.dtype, in1, in2, out)
    return bc.add_sub_params(op, 20, big_out)


def _plain(p: Plain, x1, x2, sign: int):
    with np.errstate(over="ignore", invalid="ignore"):
        y = x1 + x2 if sign > 0 else x1 - x2
    return bc.clamp(y, *p.clamp)


def _pot16(p: Pot16, x1, x2, sign: int):
    # One of the shifts is 0; RoundingDivideByPOT by 0 leaves the input as it is.
    a = bc.rounding_divide_by_pot_int16(x1, p.shift1)
    b = bc.rounding_divide_by_pot_int16(x2, p.shift2)
    y = np.clip(a + b if sign > 0 else a - b, -32768, 32767)
    return np.clip(y, p.lo, p.hi).astype(np.int16)


def _quant(p: AddSubQuant, x1, x2, sign: int):
    a = bc.rescaled(x1, p.in1, p.left_shift)
    b = bc.rescaled(x2, p.in2, p.left_shift)
    raw = a + b if sign > 0 else a - b
    return bc.requantize_output_smaller_than_one_exp(
        raw, p.out.as_tuple, p.out.act, p.out.dtype, elementwise=bc.same_extended_shapes(x1, x2))


def eval_add_sub(params, x1: np.ndarray, x2: np.ndarray, sign: int) -> np.ndarray:
    if isinstance(params, Plain):
        return _plain(params, x1, x2, sign)
    if isinstance(params, Pot16):
        return _pot16(params, x1, x2, sign)
    return _quant(params, x1, x2, sign)


class Add(bc.Binary):
    @staticmethod
    def prepare(op: OpContext):
        return prepare_add_sub(op, "ADD")

    @staticmethod
    def eval(params, x1, x2):
        return np.asarray(eval_add_sub(params, x1, x2, +1))
