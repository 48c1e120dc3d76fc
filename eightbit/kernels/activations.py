"""Activation kernels (TFLite kernels/activations.cc, as registered by BuiltinRefOpResolver).

Which arithmetic each quantized type uses (the *reference* kernel type):
- RELU, RELU6, RELU_N1_TO_1: requantize with one multiplier, then clamp (ReluX).
- LEAKY_RELU: one multiplier for x >= 0 (identity), one for x < 0 (alpha).
- PRELU: multiplier 1 for x >= 0, multiplier 2 times the quantized alpha for x < 0.
- ELU (int8), LOGISTIC and TANH (int8, uint8): 256-entry lookup tables built in Prepare.
- LOGISTIC, TANH int16: the interpolated sigmoid table of reference_integer_ops.
- HARD_SWISH: reference_ops::HardSwish's 16-bit fixed-point "relu-ish" scheme.
- SOFTMAX 8-bit input: reference_ops::Softmax (gemmlowp exp, reciprocal); int16: exp and 1/(1+x) LUTs.
- LOG_SOFTMAX 8-bit: gemmlowp exp and log.
"""

from __future__ import annotations

import math
from dataclasses import make_dataclass
from functools import lru_cache

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import gemmlowp as gl
from eightbit.kernels import lut
from eightbit.kernels.base import Kernel, OpContext, Unary
from eightbit.kernels.fixedpoint import multiply_by_quantized_multiplier, rounding_divide_by_pot, wrap_int32
from eightbit.kernels.opdata import Plain

F32 = np.float32
_QTYPES = {"INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16}


def _f32_ratio(a: float, b: float) -> float:
    """float / float in single precision, widened (TFLite computes these scale ratios in float)."""
    return float(F32(a) / F32(b))


def _requantize(x, in_zp: int, multiplier: int, shift: int, out_zp: int) -> np.ndarray:
    return out_zp + multiply_by_quantized_multiplier(x.astype(np.int64) - in_zp, multiplier, shift)


def _roundf_int(v) -> int:
    """static_cast<int32>(roundf(v)) for a float32 value, as x86 converts (out of range: INT32_MIN)."""
    v = float(v)
    if not (math.isfinite(v) and -2147483648.5 < v < 2147483647.5):
        return gl.INT32_MIN
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def _quantize_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier, plus x86's masking of a shift count >= 32 in `x * (1 << shift)`.

    Only multipliers >= 2^31 (absurd scale ratios) are affected; LiteRT on x86 behaves this way.
    """
    m, s = gl.quantize_multiplier(real)
    return m, (s & 31 if s >= 32 else s)


# ---- prepare results -------------------------------------------------------------------------

def _data(doc: str, **fields):
    """A frozen dataclass type for one kernel's prepare result (fields: name -> type)."""
    cls = make_dataclass(doc.split(":")[0], list(fields.items()), frozen=True, eq=False)
    cls.__doc__ = doc
    cls.__module__ = __name__  # found by pickle (the prepared-state cache stores params)
    return cls


ReluQuant = _data("ReluQuant: requantize by in/out scale, clamp to the activation's [qmin, qmax]",
                  m=int, s=int, in_zp=int, out_zp=int, qmin=int, qmax=int, dtype=object)
LeakyFloat = _data("LeakyFloat: x if x > 0 else alpha * x in float32", alpha=object)
LeakyQuant = _data("LeakyQuant: identity multiplier (mi, si) for x >= 0, alpha's (ma, sa) below",
                   ma=int, sa=int, mi=int, si=int, in_zp=int, out_zp=int, dtype=object)
PreluQuant = _data("PreluQuant: (m1, s1) for x >= 0, (m2, s2) for x * alpha below",
                   m1=int, s1=int, m2=int, s2=int, in_zp=int, alpha_zp=int, out_zp=int, dtype=object)
Lut8 = _data("Lut8: a 256-entry table of the 8-bit kernel (LUTPopulate)", table=object)
Int16Sigmoid = _data("Int16Sigmoid: int16 LOGISTIC / TANH input multiplier and shift", m=int, shift=int)
HardSwishQuant = _data("HardSwishQuant: int16 fixed-point multipliers of the output and the relu-ish part",
                       in_zp=int, out_zp=int, out_m=int, out_exp=int, rel_m=int, rel_exp=int, dtype=object)
SoftmaxFloat = _data("SoftmaxFloat: exp(beta * (x - max)) normalised", beta=object)
SoftmaxInt16 = _data("SoftmaxInt16: input multiplier and the exp / reciprocal int16 LUTs",
                     m=int, s=int, exp_lut=object, recip_lut=object)
SoftmaxQ8 = _data("SoftmaxQ8: gemmlowp exp of the scaled differences, reciprocal of their sum",
                  m=int, left_shift=int, diff_min=int, out_dtype=object)
LogSoftmaxQ8 = _data("LogSoftmaxQ8: the difference scaling and its reverse, for the log of the sum",
                     m=int, left_shift=int, rev_m=int, rev_shift=int, diff_min=int, dtype=object)


# ---- RELU family -------------------------------------------------------------------------------

class _ReluX(Unary):
    act_min = 0.0
    act_max = float("inf")
    quantized_types = ("INT8", "UINT8", "INT16")

    @classmethod
    def prepare(cls, op: OpContext):
        x, y = Unary.check(op, ("FLOAT32",) + cls.quantized_types)
        if x.type == "FLOAT32":
            return Plain((F32(cls.act_min), F32(cls.act_max)))
        if x.type == "INT16" and (x.zero_point != 0 or y.zero_point != 0):
            raise op.unsupported("int16 RELU needs zero points 0")
        m, s = _quantize_multiplier(_f32_ratio(x.scale, y.scale))
        dtype = _QTYPES[x.type]
        info = np.iinfo(dtype)
        # int32 arithmetic: a huge ratio overflows the conversion and the sum, as in TFLite.
        with np.errstate(over="ignore"):
            lo = int(wrap_int32(y.zero_point + _roundf_int(F32(cls.act_min) / F32(y.scale))))
            hi = int(wrap_int32(y.zero_point + _roundf_int(F32(cls.act_max) / F32(y.scale))))
        qmin = max(int(info.min), lo)
        qmax = int(info.max) if cls.act_max == float("inf") else min(int(info.max), hi)
        return ReluQuant(m, s, x.zero_point, y.zero_point, qmin, qmax, dtype)

    @staticmethod
    def eval(p, x):
        if isinstance(p, Plain):
            return np.minimum(np.maximum(x, p.clamp[0]), p.clamp[1]).astype(np.float32)
        v = _requantize(x, p.in_zp, p.m, p.s, p.out_zp)
        return np.clip(v, p.qmin, p.qmax).astype(p.dtype)


class Relu(_ReluX):
    """max(0, x) (act_min 0, no upper bound)."""

class Relu6(_ReluX):
    act_max = 6.0


class ReluN1To1(_ReluX):
    act_min = -1.0
    act_max = 1.0
    quantized_types = ("INT8", "UINT8")


# ---- LEAKY_RELU, PRELU -------------------------------------------------------------------------

class LeakyRelu(Unary):
    @staticmethod
    def prepare(op: OpContext):
        x, y = Unary.check(op, ("FLOAT32", "INT8", "UINT8", "INT16"))
        alpha = F32(op.options.get("alpha", 0.2))
        if x.type == "FLOAT32":
            return LeakyFloat(alpha)
        if x.type == "INT16" and (x.zero_point != 0 or y.zero_point != 0):
            raise op.unsupported("int16 LEAKY_RELU needs zero points 0")
        ma, sa = _quantize_multiplier(float(F32(x.scale) * alpha / F32(y.scale)))
        mi, si = _quantize_multiplier(_f32_ratio(x.scale, y.scale))
        return LeakyQuant(ma, sa, mi, si, x.zero_point, y.zero_point, _QTYPES[x.type])

    @staticmethod
    def eval(p, x):
        if isinstance(p, LeakyFloat):
            return np.where(x > 0, x, x * p.alpha).astype(np.float32)
        v = x.astype(np.int64) - p.in_zp
        identity = multiply_by_quantized_multiplier(v, p.mi, p.si)
        # A negative alpha: scale by |multiplier| and negate (MultiplyByQuantizedMultiplier needs m >= 0).
        scaled_alpha = multiply_by_quantized_multiplier(v, abs(p.ma), p.sa)
        if p.ma < 0:
            scaled_alpha = -scaled_alpha
        out = p.out_zp + np.where(v >= 0, identity, scaled_alpha)
        return fp.saturate(out, p.dtype)


class Prelu(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, y = Unary.check(op, ("FLOAT32", "INT8", "UINT8"))
        alpha = op.inputs[1]
        if alpha is None or alpha.type != x.type:
            raise op.unsupported("alpha must have the input's type")
        try:
            shape = np.broadcast_shapes(tuple(x.shape), tuple(alpha.shape))
        except ValueError:
            raise op.unsupported(f"alpha shape {alpha.shape} does not broadcast to {x.shape}") from None
        if tuple(shape) != tuple(x.shape):
            raise op.unsupported(f"alpha shape {alpha.shape} would grow the output beyond {x.shape}")
        if x.type == "FLOAT32":
            return Plain()
        m1, s1 = _quantize_multiplier(_f32_ratio(x.scale, y.scale))
        m2, s2 = _quantize_multiplier(float(F32(x.scale) * F32(alpha.scale) / F32(y.scale)))
        return PreluQuant(m1, s1, m2, s2, x.zero_point, alpha.zero_point, y.zero_point, _QTYPES[x.type])

    @staticmethod
    def eval(p, x, alpha):
        if isinstance(p, Plain):
            return np.where(x >= 0, x, x * alpha).astype(np.float32)
        v = x.astype(np.int64) - p.in_zp
        a = alpha.astype(np.int64) - p.alpha_zp
        v, a = np.broadcast_arrays(v, a)
        positive = multiply_by_quantized_multiplier(v, p.m1, p.s1)
        negative = multiply_by_quantized_multiplier(wrap_int32(v * a), p.m2, p.s2)
        out = p.out_zp + np.where(v >= 0, positive, negative)
        return fp.saturate(out, p.dtype).reshape(x.shape)


# ---- lookup-table kernels: ELU, LOGISTIC, TANH -------------------------------------------------

def _lut_params(op, x, y, transform):
    dtype = _QTYPES[x.type]
    table = lut.lut_8bit(transform, x.scale, x.zero_point, y.scale, y.zero_point, dtype)
    return Lut8(table)


def _expm1_or_identity():
    expm1f = lut.libm_f32("expm1f")
    return lambda v: expm1f(v) if v < F32(0) else F32(v)


def _sigmoid_f32():
    expf = lut.libm_f32("expf")
    return lambda v: F32(1.0) / (F32(1.0) + expf(-v))


class Elu(Unary):
    @staticmethod
    def prepare(op: OpContext):
        x, y = Unary.check(op, ("FLOAT32", "INT8"))
        if x.type == "FLOAT32":
            return Plain()
        return _lut_params(op, x, y, _expm1_or_identity())

    @staticmethod
    def eval(p, x):
        if isinstance(p, Plain):
            with np.errstate(over="ignore"):
                return np.where(x < 0, np.expm1(np.minimum(x, 0)), x).astype(np.float32)
        return lut.lookup_8bit(p.table, x)


def _int16_sigmoid_prepare(op, x, y, pot_shifts: tuple, name: str):
    """Input multiplier/shift of the int16 LOGISTIC/TANH kernels (activations.cc Prepare)."""
    if x.zero_point != 0 or y.zero_point != 0:
        raise op.unsupported(f"int16 {name} needs zero points 0")
    pot, log2_rounded = gl.checked_log2(x.scale)
    left_shift = (15 - 3) + log2_rounded
    multiplier = 0
    if not (pot and left_shift in pot_shifts):
        real = float(F32(x.scale)) * 4096.0 * 3.0
        left_shift = 0
        while real <= 32767.0 / 2.0 and left_shift <= 30:
            left_shift += 1
            real *= 2.0
        multiplier = int(real)
    ok, out_log2 = gl.checked_log2(y.scale)
    if not ok or out_log2 != -15:
        raise op.unsupported(f"int16 {name} output scale must be 1/32768")
    if multiplier == 0:  # power-of-two input scale: the kernel multiplies by 3 << shift
        multiplier, left_shift = 3 << left_shift, 0
    return Int16Sigmoid(multiplier, left_shift)


def _int16_scaled_input(p, x):
    """((x * multiplier + round) >> shift) in int32, and its absolute value."""
    shift = p.shift
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    v = wrap_int32(x.astype(np.int64) * p.m + rnd) >> shift
    return v, np.abs(v)


def _sigmoid_table(a, frac_bits: int, saturated):
    """sigmoid_table_uint16 at |input| a, linearly interpolated on its low frac_bits bits
    (the int16 LOGISTIC uses 9, TANH 8); `saturated` past the table's end."""
    uh = a >> frac_bits
    idx = np.minimum(uh, 254)
    ua = lut.SIGMOID_TABLE_UINT16[idx]
    ub = lut.SIGMOID_TABLE_UINT16[idx + 1]
    return np.where(uh >= 255, saturated, (ua << frac_bits) + (a & ((1 << frac_bits) - 1)) * (ub - ua))


def _expf(v: np.ndarray) -> np.ndarray:
    """exp in float32 as the C library's expf gives it (computed in double, rounded once: equal
    except in rare last-bit cases; numpy's float32 exp differs far more often)."""
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(v.astype(np.float64)).astype(np.float32)


def _logistic_f32(x: np.ndarray) -> np.ndarray:
    """reference_ops::Logistic: 1 above 16.619047, exp(x) below -9 (not 1 / (1 + exp(-x)): the
    two differ by a factor 1 + exp(x), 1.2e-4 at -9), 1 / (1 + exp(-x)) between."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        mid = F32(1.0) / (F32(1.0) + _expf(-x))
        out = np.where(x > F32(16.619047164916992188), F32(1.0), np.where(x < F32(-9.0), _expf(x), mid))
    return out.astype(np.float32)


class Logistic(Unary):
    @staticmethod
    def prepare(op: OpContext):
        x, y = Unary.check(op, ("FLOAT32", "INT8", "UINT8", "INT16"))
        if x.type == "FLOAT32":
            return Plain()
        if x.type == "INT16":
            if float(F32(y.scale)) != 1.0 / 32768:
                raise op.unsupported("int16 LOGISTIC output scale must be 1/32768")
            return _int16_sigmoid_prepare(op, x, y, (0,), "LOGISTIC")
        if float(F32(y.scale)) != 1.0 / 256:
            raise op.unsupported("8-bit LOGISTIC output scale must be 1/256")
        return _lut_params(op, x, y, _sigmoid_f32())

    @staticmethod
    def eval(p, x):
        if isinstance(p, Plain):
            return _logistic_f32(x)
        if isinstance(p, Lut8):
            return lut.lookup_8bit(p.table, x)
        v, a = _int16_scaled_input(p, x)
        result = _sigmoid_table(a, 9, 0x7FFF << 10)
        result = np.where(v >= 0, result + (1 << 9), (1 << 25) - result + (1 << 9) - 1)
        return (result >> 10).astype(np.int16)


class Tanh(Unary):
    @staticmethod
    def prepare(op: OpContext):
        x, y = Unary.check(op, ("FLOAT32", "INT8", "UINT8", "INT16"))
        if x.type == "FLOAT32":
            return Plain()
        if x.type == "INT16":
            return _int16_sigmoid_prepare(op, x, y, (0, 1), "TANH")
        return _lut_params(op, x, y, lut.libm_f32("tanhf"))

    @staticmethod
    def eval(p, x):
        if isinstance(p, Plain):
            return np.tanh(x).astype(np.float32)
        if isinstance(p, Lut8):
            return lut.lookup_8bit(p.table, x)
        v, a = _int16_scaled_input(p, x)
        result = _sigmoid_table(a, 8, 0xFFFF << 8)
        result = np.where(v >= 0, result - (1 << 23) + (1 << 7), -result + (1 << 23) + (1 << 7) - 1)
        return (result >> 8).astype(np.int16)


# ---- HARD_SWISH ------------------------------------------------------------------------------

class HardSwish(Unary):
    @staticmethod
    def prepare(op: OpContext):
        x, y = Unary.check(op, ("FLOAT32", "INT8", "UINT8"))
        if x.type == "FLOAT32":
            return Plain()
        hires_input_scale = F32(1.0 / 128.0) * F32(x.scale)
        reluish_scale = F32(3.0) / F32(32768.0)
        out_m32, out_exp = gl.quantize_multiplier(float(hires_input_scale / F32(y.scale)))
        if out_exp > 0:
            raise op.unsupported("HARD_SWISH needs input_scale / 128 < output_scale (TFLite Prepare check)")
        rel_m32, rel_exp = gl.quantize_multiplier(float(hires_input_scale / reluish_scale))
        return HardSwishQuant(x.zero_point, y.zero_point, gl.downscale_int32_to_int16_multiplier(out_m32), out_exp,
                              gl.downscale_int32_to_int16_multiplier(rel_m32), rel_exp, _QTYPES[x.type])

    @staticmethod
    def eval(p, x):
        if isinstance(p, Plain):
            x = x.astype(np.float32)
            return (x * np.minimum(F32(6), np.maximum(F32(0), x + F32(3))) / F32(6)).astype(np.float32)
        value = fp.wrap_int16(x.astype(np.int64) - p.in_zp)
        hires = fp.wrap_int16(value * (1 << 7))
        preshift_output = fp.saturating_rounding_doubling_high_mul_int16(hires, p.out_m)
        reluish = hires
        if p.rel_exp > 0:
            reluish = fp.saturating_left_shift_int16(reluish, p.rel_exp - 1)
        reluish = fp.saturating_rounding_doubling_high_mul_int16(reluish, p.rel_m)
        if p.rel_exp > 0:
            reluish = fp.saturating_left_shift_int16(reluish, 1)
        if p.rel_exp < 0:
            reluish = fp.rounding_divide_by_pot_int16(reluish, -p.rel_exp)
        reluish = fp.wrap_int16((reluish + (1 << 15)) >> 1)
        preshift = fp.saturating_doubling_high_mul_int16(reluish, preshift_output)
        out = fp.wrap_int16(fp.rounding_divide_by_pot_int16(preshift, -p.out_exp) + p.out_zp)
        return fp.saturate(out, p.dtype)


# ---- SOFTMAX, LOG_SOFTMAX --------------------------------------------------------------------

_SOFTMAX_TYPES = {("UINT8", "UINT8"), ("UINT8", "INT16"), ("INT8", "INT8"), ("INT8", "INT16"), ("INT16", "INT16")}


@lru_cache(maxsize=1)
def _softmax_int16_luts():
    """exp on [-10, 0] and 1/(1+x) on [0, 1], both to [-1, 1] on int16 (LUTPopulate<int16_t>, double)."""
    rng = 65535.0
    exp_lut = lut.lut_int16(lambda v: np.float64(np.exp(v)), 10.0 / rng, 32767, 2.0 / rng, 0, np.float64)
    recip_lut = lut.lut_int16(lambda v: np.float64(1.0) / (np.float64(1.0) + v), 1.0 / rng, -32768, 2.0 / rng, 0,
                              np.float64)
    return exp_lut, recip_lut


def _rows(x):
    """x as (outer, depth) int64 over the last axis."""
    depth = x.shape[-1] if x.ndim else 1
    return x.reshape(-1, depth).astype(np.int64)


class Softmax(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, y = op.inputs[0], op.outputs[0]
        beta = float(F32(op.options.get("beta", 1.0)))
        if len(x.shape) < 1:
            raise op.unsupported("SOFTMAX needs an input of rank >= 1")
        if x.type == "FLOAT32" and y.type == "FLOAT32":
            return SoftmaxFloat(F32(beta))
        if (x.type, y.type) not in _SOFTMAX_TYPES:
            raise op.unsupported(f"{x.type} input with {y.type} output is not supported")
        if x.type == "INT8" and y.type == "INT8":
            if y.zero_point != -128 or abs(float(F32(y.scale)) - 1.0 / 256) > 0.001 / 256:
                raise op.unsupported("int8 SOFTMAX output must be scale 1/256, zero point -128")
        if x.type == "INT16":
            if y.zero_point != 0 or abs(float(F32(y.scale)) - 1.0 / 32768) > 0.001 / 32768:
                raise op.unsupported("int16 SOFTMAX output must be scale 1/32768, zero point 0")
            if x.zero_point != 0:
                raise op.unsupported("int16 SOFTMAX needs input zero point 0")
            m, s = gl.quantize_multiplier(float(F32(x.scale) * F32(beta)) / (10.0 / 65535.0))
            exp_lut, recip_lut = _softmax_int16_luts()
            return SoftmaxInt16(m, s, exp_lut, recip_lut)
        pre = gl.preprocess_softmax_scaling(beta, x.scale, 5)
        if pre is None:
            raise op.unsupported("beta * input_scale is too small for TFLite's quantized SOFTMAX")
        m, left_shift = pre
        out_dtype = _QTYPES[y.type]
        return SoftmaxQ8(m, left_shift, -gl.calculate_input_radius(5, left_shift), out_dtype)

    @staticmethod
    def eval(p, x):
        if x.size == 0:
            return np.zeros(x.shape, np.float32 if isinstance(p, SoftmaxFloat) else
                            (np.int16 if isinstance(p, SoftmaxInt16) else p.out_dtype))
        if isinstance(p, SoftmaxFloat):
            x = x.astype(np.float32)
            with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # inf / NaN inputs give NaN rows
                mx = np.max(x, axis=-1, keepdims=True)
                e = np.exp((x - mx) * p.beta).astype(np.float32)
                return (e / np.sum(e, axis=-1, keepdims=True, dtype=np.float32)).astype(np.float32)
        if isinstance(p, SoftmaxInt16):
            return _softmax_int16(p, x)
        return _softmax_q8(p, x)


def _softmax_q8(p, x):
    rows = _rows(x)
    diff = rows - rows.max(axis=1, keepdims=True)
    valid = diff >= p.diff_min
    scaled = gl.mul(wrap_int32(diff << p.left_shift), p.m)  # MultiplyByQuantizedMultiplierGreaterThanOne
    exps = gl.exp_on_negative_values(scaled, 5)
    total = wrap_int32(np.sum(np.where(valid, gl.rescale(exps, 0, 12), 0), axis=1, keepdims=True))
    shifted_scale, num_bits_over_unit = gl.get_reciprocal(total, 12)
    out_dtype = p.out_dtype
    bits = np.iinfo(out_dtype).bits
    exponent = num_bits_over_unit + 31 - bits
    if np.any((exponent < 0) | (exponent > 31)):
        raise ValueError("SOFTMAX: sum of exponentials out of TFLite's supported range")
    out_min = int(np.iinfo(out_dtype).min)
    unsat = rounding_divide_by_pot(gl.mul(shifted_scale, exps), exponent)
    out = np.where(valid, fp.saturate(unsat + out_min, out_dtype), out_min)
    return out.astype(out_dtype).reshape(x.shape)


def _softmax_int16(p, x):
    rows = _rows(x)
    diff = rows - rows.max(axis=1, keepdims=True)
    scaled = multiply_by_quantized_multiplier(diff, p.m, p.s)
    sym = np.clip(scaled + 32767, -32768, 32767)
    exps = fp.lut_lookup_int16(sym, p.exp_lut).astype(np.int64)
    total = wrap_int32(np.sum(exps, axis=1, keepdims=True))
    headroom_plus_one = gl.count_leading_zeros32(total)
    shifted_sum = ((total << (headroom_plus_one - 1)) + (1 << 13)) >> 14
    sym_sum = np.clip(shifted_sum - ((1 << 15) + (1 << 16)), -32768, 32767)
    reciprocal = fp.lut_lookup_int16(sym_sum, p.recip_lut).astype(np.int64)
    right_shift = 31 - headroom_plus_one
    result = wrap_int32((exps * reciprocal + (np.int64(1) << (right_shift - 1))) >> right_shift)
    return np.clip(result, 0, 32767).astype(np.int16).reshape(x.shape)


class LogSoftmax(Unary):
    @staticmethod
    def prepare(op: OpContext):
        x, y = Unary.check(op, ("FLOAT32", "INT8", "UINT8"))
        if len(x.shape) < 1:
            raise op.unsupported("LOG_SOFTMAX needs an input of rank >= 1")
        if x.type == "FLOAT32":
            return Plain()
        out_zp = 255 if x.type == "UINT8" else 127
        if float(F32(y.scale)) != 16.0 / 256 or y.zero_point != out_zp:
            raise op.unsupported(f"{x.type} LOG_SOFTMAX output must be scale 16/256, zero point {out_zp}")
        pre = gl.preprocess_log_softmax_scaling_exp(1.0, x.scale, 5)
        if pre is None:
            raise op.unsupported("input scale out of the range TFLite's quantized LOG_SOFTMAX accepts")
        m, left_shift, rev_m, rev_shift = pre
        return LogSoftmaxQ8(m, left_shift, rev_m, rev_shift, -gl.calculate_input_radius(5, left_shift), _QTYPES[x.type])

    @staticmethod
    def eval(p, x):
        if isinstance(p, Plain):
            if x.size == 0:
                return x.astype(np.float32)
            x = x.astype(np.float32)
            mx = np.max(x, axis=-1, keepdims=True)
            s = np.sum(np.exp(x - mx), axis=-1, keepdims=True, dtype=np.float32)
            return (x - mx - np.log(s)).astype(np.float32)
        dtype = p.dtype
        if x.size == 0:
            return x.astype(dtype)
        rows = _rows(x)
        diff = rows - rows.max(axis=1, keepdims=True)
        diff_min = p.diff_min
        scaled = multiply_by_quantized_multiplier(diff, p.m, p.left_shift)
        exps = gl.rescale(gl.exp_on_negative_values(scaled, 5), 0, 12)
        total = wrap_int32(np.sum(np.where(diff >= diff_min, exps, 0), axis=1, keepdims=True))
        log_sum = gl.log_x_for_x_greater_than_or_equal_to_1(total, 12, 5)
        rescaled_diff_min = wrap_int32(log_sum + gl.INT32_MIN)
        adjusted_diff_min = np.maximum(diff_min - 1,
                                       multiply_by_quantized_multiplier(rescaled_diff_min, p.rev_m, p.rev_shift))
        info = np.iinfo(dtype)
        out = rounding_divide_by_pot(gl.sub(scaled, log_sum), 31 - 5 - 4) + int(info.max)
        out = np.where(diff > adjusted_diff_min, np.clip(out, int(info.min), int(info.max)), int(info.min))
        return out.astype(dtype).reshape(x.shape)
