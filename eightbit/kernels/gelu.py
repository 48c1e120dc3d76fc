"""GELU (TFLite kernels/activations.cc GeluPrepare/GeluEval, reference/gelu.h).

float32: 0.5 x erfc(-x / sqrt 2) (exact) or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
int8/uint8: a 256-entry table of the float32 transform (LUTPopulate).
int16: the 513-entry interpolated table (LUTPopulate<int16_t>, float32 generator).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import lut
from eightbit.kernels.activations import Lut8
from eightbit.kernels.base import Kernel, OpContext

F32 = np.float32
_QTYPES = {"INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16}
_NEG_SQRT1_2 = F32(-math.sqrt(0.5))  # static_cast<float>(-M_SQRT1_2)
_SQRT_2_OVER_PI = F32(2.0 / math.sqrt(math.pi) * math.sqrt(0.5))  # constexpr float M_2_SQRTPI * M_SQRT1_2


def _gelu_transform():
    erfcf = lut.libm_f32("erfcf")
    return lambda v: F32(0.5) * F32(v) * erfcf(F32(v) * _NEG_SQRT1_2)


def _gelu_transform_approximate():
    tanhf = lut.libm_f32("tanhf")

    def f(v):
        v = F32(v)
        cube_term = F32(0.044715) * v * v * v
        return F32(0.5) * v * (F32(1.0) + tanhf(_SQRT_2_OVER_PI * (v + cube_term)))

    return f


@dataclass(frozen=True, eq=False)
class GeluFloat:
    approximate: bool  # tanh approximation instead of erf


@dataclass(frozen=True, eq=False)
class Lut16:
    """LUTPopulate<int16_t>'s 513-entry interpolated table."""

    table: np.ndarray


class Gelu(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, y = op.inputs[0], op.outputs[0]
        if x.type != y.type:
            raise op.unsupported(f"input {x.type} and output {y.type} differ")
        approximate = bool(op.options.get("approximate", False))
        if x.type == "FLOAT32":
            return GeluFloat(approximate)
        if x.type not in _QTYPES:
            raise op.unsupported(f"{x.type} is not supported (float32, int8, uint8, int16)")
        transform = _gelu_transform_approximate() if approximate else _gelu_transform()
        if x.type == "INT16":
            table = lut.lut_int16(transform, x.scale, x.zero_point, y.scale, y.zero_point, np.float32)
            return Lut16(table)
        table = lut.lut_8bit(transform, x.scale, x.zero_point, y.scale, y.zero_point, _QTYPES[x.type])
        return Lut8(table)

    @staticmethod
    def eval(p, x):
        if isinstance(p, Lut8):
            return lut.lookup_8bit(p.table, x)
        if isinstance(p, Lut16):
            return fp.lut_lookup_int16(x, p.table)
        v = x.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):  # +-inf inputs: inf * 0 is NaN, as in C++
            if p.approximate:
                out = 0.5 * v * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)))
            else:
                out = 0.5 * v * _erfc(-v / math.sqrt(2.0))
            return out.astype(np.float32)


def _erfc(z: np.ndarray) -> np.ndarray:
    """erfc in float64, vectorized: Chebyshev fit with fractional error below 1.2e-7 everywhere."""
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.5 * a)
    coeffs = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418,
              0.37409196, 1.00002368, -1.26551223)
    poly = np.zeros_like(t)
    for c in coeffs:
        poly = poly * t + c
    with np.errstate(under="ignore"):
        ans = t * np.exp(-a * a + poly)
    return np.where(z >= 0, ans, 2.0 - ans)
