"""Integer helpers shared by the quantized kernels, vectorized over numpy arrays.

They reproduce TFLite's reference arithmetic (quantization_util.cc, common.h,
gemmlowp fixedpoint): same rounding, same saturation, so results are bit-exact.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: a double as (int32 q in [2^30, 2^31), shift), real ~= q * 2^(shift - 31).

    Multipliers below 2^-32 flush to (0, 0). LiteRT is built with double rounding (not
    TFLITE_SINGLE_ROUNDING), where shifts above 30 are not clamped: left as computed (TFLite's
    MultiplyByQuantizedMultiplier then shifts left by that much, wrapping in int32).
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = _round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def quantize_multiplier_array(reals) -> tuple[np.ndarray, np.ndarray]:
    """quantize_multiplier per element (per-channel scales)."""
    # Vectorized (a model's allocate_tensors calls this for every output channel): the same
    # steps as quantize_multiplier, elementwise; q * 2^31 is exact in float64.
    reals = np.asarray(reals, np.float64).reshape(-1)
    q, shift = np.frexp(reals)
    q_fixed = round_half_away(q * float(1 << 31)).astype(np.int64)
    shift = shift.astype(np.int64)
    carry = q_fixed == (1 << 31)
    q_fixed = np.where(carry, q_fixed // 2, q_fixed)
    shift = np.where(carry, shift + 1, shift)
    flush = (shift < -31) | (reals == 0.0)
    return np.where(flush, 0, q_fixed).astype(np.int64), np.where(flush, 0, shift).astype(np.int64)


def quantize_multiplier_smaller_than_one_exp(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplierSmallerThanOneExp: multiplier < 1, shift <= 0."""
    assert 0.0 < real < 1.0, real
    return quantize_multiplier(real)


def _round_half_away(x: float) -> int:
    """std::round of a double, as a Python int (exact: no `+ 0.5` that rounds before the floor)."""
    a = abs(x)
    f = math.floor(a)
    r = f + 1 if a - f >= 0.5 else f
    return int(r) if x >= 0 else -int(r)


def round_half_away(x: np.ndarray) -> np.ndarray:
    """std::round / TfLiteRound: halves away from zero (numpy's round is half-to-even).

    Exact for every float32 and float64 value: `floor(|x| + 0.5)` would round the sum first
    (0.49999997f + 0.5f == 1.0f, and 2^52 + 1.5 ties to even in float64), so the fraction
    `|x| - floor(|x|)` (always exact) is compared with one half instead. Returned in the input's
    floating dtype (float64 for integer input).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    a = np.abs(x)
    f = np.floor(a)
    r = np.copysign(f + (a - f >= 0.5), x).astype(x.dtype, copy=False)
    return r[()] if r.ndim == 0 else r


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values (as int64 arrays)."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    # C++ integer division truncates toward zero.
    s = ab + nudge
    high = np.where(s >= 0, s >> 31, -((-s) >> 31))
    overflow = (a == b) & (a == INT32_MIN)
    return np.where(overflow, INT32_MAX, high).astype(np.int64)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: x / 2^exponent, rounding halves away from zero."""
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift) -> np.ndarray:
    """TFLite MultiplyByQuantizedMultiplier for int32 x; multiplier/shift may be per-channel arrays.

    RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * 2^left, multiplier), right), fused
    into few whole-array passes (the kernels' hot path), exactly equal to the composition:
    - SaturatingRoundingDoublingHighMul(a, b) = (a*b + 2^30) >> 31 (floor): for a*b < 0 the
      truncating division of a*b + 1 - 2^30 by 2^31 is that same floor; the one saturating case
      a == b == INT32_MIN is patched;
    - RoundingDivideByPOT(h, r) = (h + 2^(r-1) - [h < 0 and r > 0]) >> r (halves away from zero);
    - the left shift count is masked to 5 bits, as x86 evaluates `1 << shift`.
    """
    x = np.asarray(x, np.int64)
    multiplier = np.asarray(multiplier, np.int64)
    shift = np.asarray(shift, np.int64)
    # x * (1 << shift) with an int shift count: x86 masks the count to 5 bits, so a multiplier of
    # 2^31 or more (shift >= 32) multiplies by 2^(shift & 31) (LiteRT on x86 does this).
    left = np.where(shift > 0, shift & 31, 0)
    right = np.maximum(-shift, 0)
    # x * (1 << left) wraps like the int32 arithmetic of the C++ code.
    a = wrap_int32(x << left) if np.any(left) else _wrap_int32_if_needed(x)
    h = a * multiplier
    h += 1 << 30
    h >>= 31
    if np.any(multiplier == INT32_MIN):
        h = np.where((a == INT32_MIN) & (multiplier == INT32_MIN), INT32_MAX, h)
    if not np.any(right):
        return h
    if np.any(right > 31):
        return _rounding_divide_by_pot_x86(h, right)
    half = (np.int64(1) << right) >> 1
    h += half - (h < 0) * (right > 0)
    h >>= right
    return h


def _rounding_divide_by_pot_x86(x: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """RoundingDivideByPOT on int32 values for exponents past 31 (a caller's shift below -31), as
    LiteRT's scalar x86-64 code computes it: the mask (1ll << exponent) - 1 uses exponent & 63 and
    keeps its low 32 bits (all ones for 32..63), and x >> exponent shifts by exponent & 31."""
    sh = exponent & 63
    mask = np.where(sh >= 32, -1, (np.int64(1) << np.minimum(sh, 31)) - 1)
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> (exponent & 31)) + (remainder > threshold)


def multiply_by_quantized_multiplier_int64(x, multiplier, shift) -> np.ndarray:
    """TFLite's int64-input MultiplyByQuantizedMultiplier (int16x8 kernels with int64 bias), with
    x86's 6-bit masking of its shift counts."""
    x = np.asarray(x, np.int64)
    multiplier = np.asarray(multiplier, np.int64)
    shift = np.asarray(shift, np.int64)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total_shift = 15 - shift
    # A real multiplier >= 2^15 (shift >= 16) makes total_shift negative: x86 masks int64 shift
    # counts to 6 bits (shift 16: round = 1 << 62, result >> 63). int64 sums wrap like the C++.
    with np.errstate(over="ignore"):
        y = x * reduced + (np.int64(1) << ((total_shift - 1) & 63))
    return wrap_int32(y >> (total_shift & 63))


def _wrap_int32_if_needed(x: np.ndarray) -> np.ndarray:
    """wrap_int32, skipping the work (and returning x itself) when x is already in range."""
    if x.size == 0 or (int(x.min()) >= INT32_MIN and int(x.max()) <= INT32_MAX):
        return x
    return wrap_int32(x)


def wrap_int32(x) -> np.ndarray:
    """Two's-complement wrap of int64 values to the int32 range."""
    x = np.asarray(x, np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def saturate(x, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(x, info.min, info.max).astype(dtype)


def activation_range_quantized(activation: int, scale: float, zero_point: int, dtype) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: the integer clamp for a fused activation."""
    info = np.iinfo(dtype)
    qmin, qmax = int(info.min), int(info.max)

    def q(v):  # TFLite divides in float32: f / params.scale
        return zero_point + _round_half_away(float(np.float32(v) / np.float32(scale)))

    if activation == 1:  # RELU
        return max(qmin, q(0.0)), qmax
    if activation == 3:  # RELU6
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if activation == 2:  # RELU_N1_TO_1
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    return qmin, qmax


FLT_MAX = float(np.finfo(np.float32).max)


def activation_range_float(activation: int) -> tuple[float, float]:
    """CalculateActivationRange<float>: RELU [0, FLT_MAX], RELU6 [0, 6], RELU_N1_TO_1 [-1, 1], and
    every other activation (NONE, TANH, SIGN_BIT, ...) [lowest, FLT_MAX], so the kernels that clamp
    with it turn +-inf into +-FLT_MAX."""
    if activation == 1:
        return 0.0, FLT_MAX
    if activation == 3:
        return 0.0, 6.0
    if activation == 2:
        return -1.0, 1.0
    return -FLT_MAX, FLT_MAX


def clamp_float(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """ActivationFunctionWithMinMax: std::min(std::max(x, lo), hi) in float32 (NaN stays NaN)."""
    return np.minimum(np.maximum(x, np.float32(lo)), np.float32(hi)).astype(np.float32, copy=False)


def apply_float_activation(x: np.ndarray, activation: int) -> np.ndarray:
    """tensor_utils::ApplyActivationToVector (hybrid kernels): NONE passes through, RELU is
    max(0, x), RELU_N1_TO_1 / RELU6 clamp; none of them caps at FLT_MAX."""
    if activation == 0:
        return x
    if activation == 1:
        return np.maximum(x, np.float32(0)).astype(x.dtype, copy=False)
    if activation in (2, 3):
        lo, hi = activation_range_float(activation)
        return np.minimum(np.maximum(x, np.float32(lo)), np.float32(hi)).astype(x.dtype, copy=False)
    if activation == 4:  # TANH
        return np.tanh(x)
    if activation == 5:  # SIGN_BIT
        return np.signbit(x).astype(x.dtype)
    if activation == 6:  # SIGMOID
        return (1.0 / (1.0 + np.exp(-x))).astype(x.dtype)
    raise ValueError(f"unknown fused activation {activation}")


# ---- saturating shifts, inverse square root, lookup tables (elementwise, exp, l2norm, ...) ----


def saturating_rounding_multiply_by_pot(x, exponent: int) -> np.ndarray:
    """gemmlowp SaturatingRoundingMultiplyByPOT on int32 values: x * 2^exponent, saturating when
    exponent > 0, RoundingDivideByPOT when exponent < 0 (so FixedPoint Rescale<> too)."""
    x = np.asarray(x, np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    shifted = wrap_int32(x << exponent)
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, shifted)).astype(np.int64)


def get_inv_sqrt_quantized_multiplier_exp(x, reverse_shift: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """TFLite GetInvSqrtQuantizedMultiplierExp, vectorized: 1/sqrt(x) for int32 x >= 0 as
    (multiplier, shift); reverse_shift=-1 (kReverseShift) gives a left shift as MultiplyByQuantizedMultiplier takes.

    Newton-Raphson in gemmlowp Q3.28 arithmetic, five iterations from 1, exactly as common.h.
    """
    x = np.asarray(x, np.int64)
    small = x <= 1  # 0 and 1: INT32_MAX, shift 0
    v = np.where(small, 4, x)
    shift = np.full(v.shape, 11, np.int64)
    for _ in range(2):  # int32 inputs need at most one division by 4 to get below 2^29
        big = v >= (1 << 29)
        v = np.where(big, v // 4, v)
        shift += big
    leading_zeros = 32 - _bit_length(v)
    left_shift_bit_pairs = (leading_zeros - 1) // 2 - 1
    shift -= left_shift_bit_pairs
    v = v << (2 * left_shift_bit_pairs)
    half_input = rounding_divide_by_pot(v >> 1, 1)  # F3 input / 2
    half_three = (1 << 28) + (1 << 27)  # 1.5 in Q3.28
    est = np.full(v.shape, 1 << 28, np.int64)  # 1.0 in Q3.28
    for _ in range(5):
        cube = saturating_rounding_doubling_high_mul(saturating_rounding_doubling_high_mul(est, est), est)
        cube = saturating_rounding_multiply_by_pot(cube, 6)  # Q9 -> Q3
        diff = wrap_int32(saturating_rounding_doubling_high_mul(half_three, est)
                          - saturating_rounding_doubling_high_mul(half_input, cube))
        est = saturating_rounding_multiply_by_pot(diff, 3)  # Q6 -> Q3
    est = saturating_rounding_doubling_high_mul(est, 1518500250)  # * sqrt(2)/2
    neg = shift < 0
    est = np.where(neg, wrap_int32(est << np.where(neg, -shift, 0)), est)
    shift = np.where(neg, 0, shift)
    mult = np.where(small, INT32_MAX, est).astype(np.int64)
    shift = np.where(small, 0, shift * reverse_shift).astype(np.int64)
    return mult, shift


def _bit_length(v: np.ndarray) -> np.ndarray:
    """Bits needed for non-negative int64 values below 2^53 (0 -> 0)."""
    v = np.asarray(v, np.int64)
    _, e = np.frexp(v.astype(np.float64))
    return np.where(v > 0, e, 0).astype(np.int64)


def float_to_int32_trunc(x) -> np.ndarray:
    """static_cast<int32_t>(float or double) as x86-64 computes it: truncation toward zero, and
    INT32_MIN (the "integer indefinite" value) for NaN or anything outside the int32 range."""
    f = np.asarray(x, np.float64)
    ok = (f > -2147483649.0) & (f < 2147483648.0)  # False for NaN
    return np.where(ok, np.trunc(np.where(ok, f, 0.0)), INT32_MIN).astype(np.int64)


def float_to_int32_saturate(x) -> np.ndarray:
    """A float -> int32 conversion that saturates, NaN giving 0 (LLVM's fptosi.sat). Compilers use
    it where static_cast<int32_t> is directly clamped, as in LUTPopulateInt8 (measured on LiteRT 2.3:
    an exp table entry that overflows gives 127, not -128)."""
    f = np.asarray(x, np.float64)
    return np.trunc(np.clip(np.nan_to_num(f, nan=0.0), INT32_MIN, INT32_MAX)).astype(np.int64)


def lut_populate_int8(input_scale, input_zero_point, output_scale, output_zero_point, transform,
                      dtype=np.int8) -> np.ndarray:
    """LUTPopulate<int8_t/uint8_t> (common.h LUTPopulateInt8) in float32 arithmetic.

    transform maps a float32 array to a float32 array. Returns the table over input values from
    the type's minimum to its maximum (entry k is the output for input min + k). The int32
    conversion followed by the clamp saturates (float_to_int32_saturate)."""
    info = np.iinfo(dtype)
    f32 = np.float32
    inverse_scale = f32(1) / f32(output_scale)
    vals = np.arange(info.min, info.max + 1, dtype=np.int64)
    dequantized = f32(input_scale) * (vals - int(input_zero_point)).astype(f32)
    transformed = np.asarray(transform(dequantized), f32)
    with np.errstate(over="ignore", invalid="ignore"):
        rescaled = round_half_away(transformed * inverse_scale)
        quantized = float_to_int32_saturate(rescaled + f32(output_zero_point))
    return np.clip(quantized, info.min, info.max).astype(dtype)


def lut_populate_int16(input_scale, input_zero_point, output_scale, output_zero_point, transform,
                       float_type=np.float32) -> np.ndarray:
    """LUTPopulate<int16_t> (common.h LUTPopulateInt16<FloatT>): 513 int16 entries, computed in
    `float_type` (float32, or float64 as int16 SOFTMAX does).

    transform maps a `float_type` array to a `float_type` array."""
    f = float_type
    in_s, out_s = f(input_scale), f(output_scale)
    input_min = in_s * f(-32768 - int(input_zero_point))
    input_max = in_s * f(32767 - int(input_zero_point))
    output_min = out_s * f(-32768 - int(output_zero_point))
    output_max = out_s * f(32767 - int(output_zero_point))
    nb_steps = 512
    step = (input_max - input_min) / f(nb_steps)
    half_step = step / f(2)
    scaling_inv = f(65536) / (output_max - output_min)
    i = np.arange(nb_steps, dtype=f)
    with np.errstate(over="ignore", invalid="ignore"):
        x = input_min + i * step
        val = np.asarray(transform(x), f)
        val_mid = np.asarray(transform(x + half_step), f)
        val_next = np.asarray(transform(input_min + (i + f(1)) * step), f)
        sample = round_half_away(val * scaling_inv)
        mid_interp = round_half_away((val_next * scaling_inv + sample) / f(2))
        mid = round_half_away(val_mid * scaling_inv)
        bias = round_half_away((mid_interp - mid) / f(2))
        body = np.clip(sample - bias, f(-32768), f(32767))
        last = np.clip(round_half_away(np.asarray(transform(np.array([input_max], f)), f) * scaling_inv),
                       f(-32768), f(32767))
    return float_to_int32_trunc(np.concatenate([body, last])).astype(np.int16)


def lut_lookup_int16(x, lut) -> np.ndarray:
    """LUTLookup(int16_t, lut[513]): the high 9 bits index, the low 7 interpolate."""
    x = np.asarray(x, np.int64)
    lut = np.asarray(lut, np.int64)
    index = 256 + (x >> 7)
    offset = x & 0x7F
    base = lut[index]
    slope = ((lut[index + 1] - base + 32768) & 0xFFFF) - 32768  # stored as int16_t
    delta = (slope * offset + 64) >> 7
    return (((base + delta + 32768) & 0xFFFF) - 32768).astype(np.int16)


# ---- int16 fixed point (gemmlowp on int16_t raw values; MUL int16 -> int8, HARD_SWISH) ----------

def wrap_int16(x) -> np.ndarray:
    """Two's-complement wrap of int64 values to the int16 range (static_cast<int16_t>)."""
    return ((np.asarray(x, np.int64) + 32768) & 0xFFFF) - 32768


def _high_mul_int16(a, b, nudge: bool) -> np.ndarray:
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    s = ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14)) if nudge else ab
    q = np.where(s >= 0, s >> 15, -((-s) >> 15))  # C++ division truncates toward zero
    return np.where((a == b) & (a == -32768), 32767, wrap_int16(q))


def saturating_rounding_doubling_high_mul_int16(a, b) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int16 values."""
    return _high_mul_int16(a, b, nudge=True)


def saturating_doubling_high_mul_int16(a, b) -> np.ndarray:
    """SaturatingDoublingHighMul on int16 (truncating, no rounding nudge)."""
    return _high_mul_int16(a, b, nudge=False)


def rounding_divide_by_pot_int16(x, exponent: int) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT on int16 for exponents 0..15 (the mask is an int16 value too)."""
    x = np.asarray(x, np.int64)
    mask = int(wrap_int16((1 << exponent) - 1))
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return wrap_int16((x >> exponent) + (remainder > threshold))


def saturating_left_shift_int16(x, amount: int) -> np.ndarray:
    return np.clip(np.asarray(x, np.int64) * (1 << amount), -32768, 32767)
