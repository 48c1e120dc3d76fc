"""ABS, SQRT, RSQRT, LOG, SQUARE (TFLite kernels/elementwise.cc).

float32: the C library function per element. Quantized int8 / int16 (int16 needs zero points 0):
prepare evaluates the reference arithmetic once for every representable input value and eval
looks the inputs up in that table, so eval is integer-only and bit-exact:
- ABS: |q - zp_in|, rescaled by MultiplyByQuantizedMultiplier(in_scale / out_scale, the division
  in float32) when the scales differ, + zp_out. int32 and unquantized int16: plain abs (wrapping).
- SQRT: as SqrtEvalQuantized, in float32: sqrt(in_scale * (q - zp_in)) / out_scale truncated
  toward zero, + zp_out; a negative real input is an error at run time, as in TFLite.
- RSQRT int8: GetInvSqrtQuantizedMultiplierExp fixed point, then the multiplier
  1 / (sqrtf(in_scale) * out_scale); q == zp_in gives 127; q < zp_in is an error.
  RSQRT int16: LUTPopulate<int16_t> of 1/sqrt (32767 * out_scale where x <= 0).
- LOG: LUTPopulate of log, the output minimum where x <= 0.
- SQUARE: float32 only (SquareEval is EvalNumeric: x * x in float).
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import FloatUnary, OpContext, Unary
from eightbit.kernels.opdata import Plain, full_table


def _f32(fn):
    """A float32 -> float32 elementwise function computed in double and rounded once (libm's
    float functions are correctly rounded or within a hair of it)."""

    def wrapped(v):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.asarray(fn(np.asarray(v, np.float64)), np.float32)

    return wrapped


def _values(dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.arange(info.min, info.max + 1, dtype=np.int64)


def _float_only(op: OpContext, name: str):
    x, out = op.inputs[0], op.outputs[0]
    if x.type != "FLOAT32" or out.type != "FLOAT32":
        raise op.unsupported(f"{name} runs float32, int8 and int16, not {x.type} -> {out.type}")


class Abs(Unary):
    @staticmethod
    def prepare(op: OpContext):
        x, out = op.inputs[0], op.outputs[0]
        if x.type in ("FLOAT32", "INT32") or (x.type == "INT16" and not x.quantized):
            if out.type != x.type:
                raise op.unsupported(f"ABS output type {out.type} differs from input type {x.type}")
            return Plain()
        if x.type not in ("INT8", "INT16"):
            raise op.unsupported(f"ABS does not run {x.type}")
        x, out = Unary.check_quantized(op)
        dtype = np.dtype(out.dtype)
        info = np.iinfo(dtype)
        value = np.abs(_values(dtype) - x.zero_point)
        in_s, out_s = np.float32(x.scale), np.float32(out.scale)
        if in_s != out_s:
            mult, shift = fp.quantize_multiplier(float(in_s / out_s))
            value = fp.multiply_by_quantized_multiplier(value, mult, shift)
        return full_table(np.clip(value + out.zero_point, info.min, info.max), dtype)

    @staticmethod
    def eval(params, x):
        if isinstance(params, Plain):
            return np.asarray(np.abs(x), x.dtype)
        return params.lookup(x)


class _FloatOrTable(Unary):
    """SQRT, RSQRT, LOG: float32 through `float_eval`, int8/int16 through a table from `table`."""

    name = ""

    @classmethod
    def prepare(cls, op: OpContext):
        if op.inputs[0].type not in ("INT8", "INT16"):
            _float_only(op, cls.name)
            return Plain()
        x, out = Unary.check_quantized(op)
        return cls.table(x, out, np.dtype(out.dtype))

    @classmethod
    def eval(cls, params, x):
        if isinstance(params, Plain):
            return cls.float_eval(x)
        return params.lookup(x)


class Sqrt(_FloatOrTable):
    name = "SQRT"

    @staticmethod
    def table(x, out, dtype):
        info = np.iinfo(dtype)
        vals = _values(dtype)
        real = np.float32(x.scale) * (vals - x.zero_point).astype(np.float32)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            q = fp.float_to_int32_trunc(np.sqrt(np.maximum(real, np.float32(0))) / np.float32(out.scale))
        q = fp.wrap_int32(q + out.zero_point)
        negative = vals[real < 0]
        min_valid = int(negative.max()) + 1 if negative.size else None
        return full_table(np.clip(q, info.min, info.max), dtype, min_valid,
                             "SQRT: Sqrt is only defined for non-negative values")

    @staticmethod
    def float_eval(x):
        return np.asarray(np.sqrt(x), np.float32)


class Rsqrt(_FloatOrTable):
    name = "RSQRT"

    @staticmethod
    def table(x, out, dtype):
        info = np.iinfo(dtype)
        message = "RSQRT: Rsqrt is only defined for positive values"
        in_zp = x.zero_point
        if x.type == "INT16":
            limit = np.float32(32767) * np.float32(out.scale)

            def rsqrt(v):
                with np.errstate(divide="ignore", invalid="ignore"):
                    r = (np.float32(1) / np.sqrt(np.asarray(v, np.float32))).astype(np.float32)
                return np.where(v <= 0, limit, r).astype(np.float32)

            lut = fp.lut_populate_int16(x.scale, in_zp, out.scale, out.zero_point, rsqrt)
            return full_table(fp.lut_lookup_int16(_values(dtype), lut), dtype, in_zp, message)
        value = _values(dtype) - in_zp
        k_shift = 20  # keeps the intermediate 1/sqrt an integer
        sqrt_in = np.sqrt(np.float32(x.scale))  # std::sqrt(float) is float
        mult, shift = fp.quantize_multiplier(1.0 / float(sqrt_in * np.float32(out.scale)))
        inv_mult, inv_shift = fp.get_inv_sqrt_quantized_multiplier_exp(np.maximum(value, 0), -1)
        data = fp.multiply_by_quantized_multiplier(1, inv_mult, inv_shift + k_shift)
        q = fp.multiply_by_quantized_multiplier(data, mult, shift - k_shift) + out.zero_point
        q = np.where(value == 0, info.max, np.clip(q, info.min, info.max))
        return full_table(q, dtype, in_zp, message)

    @staticmethod
    def float_eval(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.float32(1) / np.sqrt(x), np.float32)


class Log(_FloatOrTable):
    name = "LOG"

    @staticmethod
    def table(x, out, dtype):
        lowest = np.iinfo(dtype).min
        output_min = np.float32(lowest - out.zero_point) * np.float32(out.scale)
        logf = _f32(np.log)

        def log_or_min(v):
            v = np.asarray(v, np.float32)
            return np.where(v <= 0, output_min, logf(np.where(v > 0, v, np.float32(1)))).astype(np.float32)

        if x.type == "INT8":
            table = fp.lut_populate_int8(x.scale, x.zero_point, out.scale, out.zero_point, log_or_min)
        else:
            lut = fp.lut_populate_int16(x.scale, x.zero_point, out.scale, out.zero_point, log_or_min)
            table = fp.lut_lookup_int16(_values(dtype), lut)
        return full_table(table, dtype)

    @staticmethod
    def float_eval(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _f32(np.log)(x)


class Square(FloatUnary):
    """x * x in float32 (one IEEE multiply, as TFLite's lambda); TFLite has no quantized SQUARE."""

    @staticmethod
    def float_eval(x):
        return np.multiply(x, x, dtype=np.float32)
