"""Pieces shared by the binary elementwise kernels (add, sub, mul, div, squared_difference,
maximum_minimum, comparisons, select).

TFLite broadcasts two (or three) inputs the numpy way (trailing dimensions aligned, size-1
dimensions stretched), up to 6 dimensions in the newest kernels; numpy broadcasting gives the
same elements in the same order, so the kernels here broadcast with numpy.

Float kernels clamp with CalculateActivationRange: NONE still clamps to [lowest, max] of the
type, which turns +-inf into +-FLT_MAX (and leaves NaN alone); TANH and SIGN_BIT are ignored.
"""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import gemmlowp as gl
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.opdata import AddSubQuant, Output, Rescale

FLOAT_TYPES = ("FLOAT32",)
INT_TYPES = ("INT32", "INT64")
QUANT_TYPES = ("INT8", "UINT8", "INT16")

ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6 = 0, 1, 2, 3


def broadcast_shape(op: OpContext, *infos) -> tuple:
    """The output shape of broadcasting the given inputs (CalculateShapeForBroadcast)."""
    try:
        return tuple(np.broadcast_shapes(*[tuple(t.shape) for t in infos]))
    except ValueError as e:
        shapes = " and ".join(str(tuple(t.shape)) for t in infos)
        raise ModelError(f"{op.where()}: input shapes {shapes} do not broadcast") from e


def check_inputs(op: OpContext, n: int = 2) -> None:
    if len(op.inputs) != n or any(t is None for t in op.inputs) or len(op.outputs) != 1:
        raise ModelError(f"{op.where()}: expects {n} inputs and 1 output")


def same_input_types(op: OpContext) -> str:
    """The common type of the two inputs (TFLite requires input1.type == input2.type)."""
    a, b = op.inputs[0].type, op.inputs[1].type
    if a != b:
        raise op.unsupported(f"input types differ ({a} vs {b})")
    return a


def binary_input_type(op: OpContext, output: str | None = "same") -> str:
    """The shared Prepare checks of the binary elementwise kernels: two inputs of one type, one
    output of that type (`output="same"`), of a fixed type (e.g. "BOOL"), or unchecked (None),
    and input shapes that broadcast. Returns the input type."""
    check_inputs(op, 2)
    t = same_input_types(op)
    want = t if output == "same" else output
    out = op.outputs[0]
    if want is not None and out.type != want:
        raise op.unsupported(f"output type {out.type} differs from input type {t}" if output == "same"
                             else f"output type {out.type}; {op.op_type} produces {want}")
    broadcast_shape(op, *op.inputs)
    return t


class Binary(Kernel):
    """A binary elementwise kernel with broadcasting: `input_type(op)` does the shared checks."""

    input_type = staticmethod(binary_input_type)


def activation(op: OpContext) -> int:
    return int(op.options.get("fused_activation_function", ACT_NONE) or 0)


def int_clamp(act: int, dtype) -> tuple:
    """CalculateActivationRange<int32/int64>: the same integer bounds for non-quantized ints."""
    info = np.iinfo(dtype)
    if act == ACT_RELU:
        return 0, int(info.max)
    if act == ACT_RELU6:
        return 0, 6
    if act == ACT_RELU_N1_TO_1:
        return -1, 1
    return int(info.min), int(info.max)


def clamp(x: np.ndarray, lo, hi) -> np.ndarray:
    """min(max(x, lo), hi) keeping x's dtype (NaN passes through, as with std::min/max)."""
    return np.minimum(np.maximum(x, x.dtype.type(lo)), x.dtype.type(hi))


def quantized_activation_range(op: OpContext, act: int | None = None) -> tuple:
    """CalculateActivationRangeQuantized for the output; TFLite rejects TANH / SIGN_BIT here."""
    act = activation(op) if act is None else act
    if act not in (ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6):
        raise op.unsupported(f"fused activation {act} is not supported by the quantized kernel")
    out = op.outputs[0]
    return fp.activation_range_quantized(act, out.scale, out.zero_point, out.dtype)


def require_quantized(op: OpContext, *infos) -> None:
    for t in infos:
        if not t.quantized or t.scale <= 0.0:
            raise op.unsupported(f"tensor {t.name!r} ({t.type}) has no quantization scale")


def check_zero_points_in_range(op: OpContext, dtype, *infos) -> None:
    info = np.iinfo(dtype)
    for t in infos:
        if not info.min <= t.zero_point <= info.max:
            raise op.unsupported(f"zero point {t.zero_point} of {t.name!r} is outside {np.dtype(dtype).name}")


def as_int64(x) -> np.ndarray:
    return np.asarray(x).astype(np.int64, copy=False)


def rescale_input(x, offset: int, left_shift: int, multiplier: int, shift: int) -> np.ndarray:
    """(x + offset) << left_shift, then MultiplyByQuantizedMultiplierSmallerThanOneExp.

    The add/sub/comparison/squared-difference input rescaling; values stay well inside int32.
    """
    v = (as_int64(x) + offset) << left_shift
    return fp.multiply_by_quantized_multiplier(v, multiplier, shift)


def rescale_inputs(op: OpContext, left_shift: int) -> tuple[float, Rescale, Rescale]:
    """(2*max(s1, s2), Rescale of input 1, of input 2): the common-scale setup of ADD, SUB and
    SQUARED_DIFFERENCE (add.cc / sub.cc / squared_difference.cc Prepare)."""
    in1, in2 = op.inputs[:2]
    twice_max = 2.0 * max(in1.scale, in2.scale)
    m1, sh1 = fp.quantize_multiplier(in1.scale / twice_max)
    m2, sh2 = fp.quantize_multiplier(in2.scale / twice_max)
    return twice_max, Rescale(-in1.zero_point, m1, sh1), Rescale(-in2.zero_point, m2, sh2)


def add_sub_params(op: OpContext, left_shift: int, allow_big_output_multiplier: bool = False) -> AddSubQuant:
    """Shared quantized setup of ADD and SUB (general rescaling path, add.cc / sub.cc Prepare).

    Both inputs are brought to a common scale 2*max(s1, s2) / 2^left_shift, added or
    subtracted there, and the sum is requantized to the output. ADD requires the output
    multiplier to be < 1 (TFLite aborts otherwise); SUB accepts a larger one (tiny output
    scales), see `requantize_output`.
    """
    out = op.outputs[0]
    so = out.scale
    twice_max, r1, r2 = rescale_inputs(op, left_shift)
    real_out = twice_max / ((1 << left_shift) * so)
    if real_out >= 1.0 and not allow_big_output_multiplier:
        raise op.unsupported(
            f"output scale {so} is too small for the input scales (multiplier {real_out:.4g} >= 1; TFLite rejects it)"
        )
    mo, sho = fp.quantize_multiplier(real_out)
    lo, hi = quantized_activation_range(op)
    return AddSubQuant(left_shift, r1, r2, Output(out.zero_point, mo, sho, lo, hi, out.dtype))


def rescaled(x, r: Rescale, left_shift: int) -> np.ndarray:
    return rescale_input(x, r.offset, left_shift, r.multiplier, r.shift)


def requantize_output(raw: np.ndarray, out: tuple, act: tuple, dtype) -> np.ndarray:
    """MultiplyByQuantizedMultiplier(raw) + output offset, clamped to the activation range."""
    zp, m, s = out
    y = fp.multiply_by_quantized_multiplier(raw, m, s) + zp
    return np.clip(y, act[0], act[1]).astype(dtype)


def rounding_divide_by_pot_x86(x, exponent) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT on int32 values for any exponent, as the x86-64 LiteRT build
    computes it (scalar code). In range (0..31) it is the usual rounding shift. Out of range
    the C++ is undefined, and the machine masks shift counts: the mask (1ll << exponent) - 1 uses
    exponent & 63 and keeps its low 32 bits (all ones for 32..63), and x >> exponent shifts by
    exponent & 31. Some kernels (DIV's per-element shifts, SUB's output stage with a multiplier
    > 1) reach such exponents with ordinary data; this reproduces LiteRT's results there.
    """
    x = as_int64(x)
    e = as_int64(exponent)
    sh = e & 63
    mask = np.where(sh >= 32, -1, (np.int64(1) << np.minimum(sh, 31)) - 1)  # low 32 bits, as int32
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> (e & 31)) + (remainder > threshold)


def requantize_output_smaller_than_one_exp(
    raw: np.ndarray, out: tuple, act: tuple, dtype, elementwise: bool = False
) -> np.ndarray:
    """MultiplyByQuantizedMultiplierSmallerThanOneExp(raw) + output offset, clamped.

    For shift <= 0 this is `requantize_output`. SUB also gets here with shift > 0 (sub.cc
    accepts an output multiplier > 1 when the output scale is tiny), and then RoundingDivideByPOT
    receives the negative exponent -shift (see `rounding_divide_by_pot_x86`). One more twist,
    checked against LiteRT 2.3.0's reference SUB: the non-broadcast elementwise loop is
    vectorised 4 lanes wide, and there an out-of-range arithmetic shift fills with the sign bit,
    for every full group of 4 elements. `elementwise` says the inputs had the same shape
    (TFLite's kNonBroadcast), so that pattern applies.
    """
    zp, m, s = out
    if s <= 0:
        return requantize_output(raw, out, act, dtype)
    v = fp.saturating_rounding_doubling_high_mul(raw, m)
    y = rounding_divide_by_pot_x86(v, -s)
    if elementwise and v.size >= 4:
        vec = np.arange(v.size).reshape(v.shape) < (v.size // 4) * 4
        y = np.where(vec, (v >> 31) + (v > (v < 0).astype(np.int64) - 1), y)
    y = y + zp
    return np.clip(y, act[0], act[1]).astype(dtype)


def same_extended_shapes(a: np.ndarray, b: np.ndarray) -> bool:
    """TFLite's ProcessBroadcastShapes 'non-broadcast' test: equal shapes after padding with 1s."""
    n = max(a.ndim, b.ndim)
    return (1,) * (n - a.ndim) + a.shape == (1,) * (n - b.ndim) + b.shape


checked_log2 = gl.checked_log2  # CheckedLog2: one implementation, in gemmlowp.py


def rounding_divide_by_pot_int16(x, exponent: int) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT<int16_t> over a flat elementwise loop (ADD / SUB's
    pot_scale_int16 path), as x86-64 LiteRT computes it for any exponent (measured on 2.3.0):
    - the mask (1ll << (exponent & 63)) - 1 is truncated to int16 (all ones for exponents 16..63),
      so above 15 the result is x >> exponent (0 or -1) plus 1 for x >= 0;
    - the loop runs 8 int16 lanes at a time, whose shift saturates (x >> 31 for any larger
      count), and its scalar tail (the last size % 8 elements) shifts the int-promoted x by
      exponent & 31: the two differ only for exponents of 32 or more.
    The sum wraps to int16."""
    x = as_int64(x)
    e = int(exponent)
    mask = ((((1 << (e & 63)) - 1) + (1 << 15)) & 0xFFFF) - (1 << 15)
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    if e < 32 or x.size % 8 == 0:
        shifted = x >> min(e, 31)
    else:
        tail = np.arange(x.size).reshape(x.shape) >= x.size - x.size % 8
        shifted = x >> np.where(tail, e & 31, min(e, 31))
    y = shifted + (remainder > threshold)
    return ((y + (1 << 15)) & 0xFFFF) - (1 << 15)


def rounding_divide_by_pot(x, exponent: int) -> np.ndarray:
    return fp.rounding_divide_by_pot(as_int64(x), exponent)
