"""TFLite's lookup tables for 8-bit and 16-bit LUT kernels (common.h LUTPopulate / LUTLookup).

8-bit (int8/uint8): one entry per input value. TFLite builds the table in float32:
dequantize (float scale times the integer offset), apply the float transform, multiply by
1/output_scale, round half away from zero, add the output zero point, clamp.

16-bit (int16): 513 entries sampled uniformly over the input range, with a bias term that
centres the interpolation error; fixedpoint.lut_lookup_int16 interpolates between neighbours
with the 7 low bits of the input. The 8-bit generator is fixedpoint.lut_populate_int8. TFLite has a float32 and a float64 flavour of the generator
(softmax int16 uses float64).

The transforms must be the C library's functions (expf, tanhf, erfcf, expm1f in float32;
exp in float64) so the tables match bit for bit: `libm_f32(name)` wraps them with ctypes and
falls back to a correctly rounded float64 evaluation where no C library is found.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from functools import cache

import numpy as np

from eightbit.kernels import fixedpoint as fp


@cache
def _libm():
    for name in (ctypes.util.find_library("m"), "libm.so.6", "libm.dylib"):
        if not name:
            continue
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


_F64_FALLBACK = {"expf": math.exp, "tanhf": math.tanh, "erfcf": math.erfc, "expm1f": math.expm1}


@cache
def libm_f32(name: str):
    """The C library's float function `name` (e.g. "expf") as a Python callable on float32 values."""
    lib = _libm()
    fn = getattr(lib, name, None) if lib is not None else None
    if fn is not None:
        fn.restype = ctypes.c_float
        fn.argtypes = [ctypes.c_float]
        return lambda x: np.float32(fn(float(x)))
    ref = _F64_FALLBACK[name]

    def fallback(x):
        try:
            return np.float32(ref(float(x)))
        except OverflowError:
            return np.float32(np.inf)

    return fallback


def lut_8bit(transform, input_scale: float, input_zero_point: int, output_scale: float,
             output_zero_point: int, dtype) -> np.ndarray:
    """LUTPopulate<int8_t/uint8_t>: table[v - min(dtype)] for every input value v, of `dtype`.

    `transform` maps one float32 value to one float32 value (the float lambda of the kernel).
    """
    def elementwise(values):
        return np.array([transform(v) for v in values], dtype=np.float32)

    return fp.lut_populate_int8(input_scale, input_zero_point, output_scale, output_zero_point, elementwise, dtype)


def lookup_8bit(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """LookupTable for int8/uint8: out = table[x]."""
    offset = int(np.iinfo(table.dtype).min)
    return table[x.astype(np.int64) - offset]


def lut_int16(transform, input_scale, input_zero_point: int, output_scale, output_zero_point: int,
              float_type=np.float32) -> np.ndarray:
    """LUTPopulateInt16<FloatT>: the 513-entry int16 table, computed in `float_type`.

    `transform` maps one `float_type` value to one `float_type` value.
    """
    def elementwise(values):
        return np.array([transform(v) for v in values], dtype=float_type)

    return fp.lut_populate_int16(input_scale, input_zero_point, output_scale, output_zero_point, elementwise,
                                 float_type)


# Table of sigmoid(i / 24) in unsigned Q0.16, i = 0..255 (TFLite common.h sigmoid_table_uint16),
# shared by the int16 LOGISTIC and TANH kernels (tanh(x) = 2 sigmoid(2x) - 1).
SIGMOID_TABLE_UINT16 = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
], dtype=np.int64)
