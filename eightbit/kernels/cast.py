"""CAST (TFLite kernels/cast.cc): element type conversion; quantization parameters play no part.

Float -> integer conversions saturate, as LiteRT 2.3 does for every integer type (measured
against it: the cast.cc we could read saturates float32 -> int32/int16/uint8 only): truncation
toward zero, values beyond the type's range clamp to its limits, and NaN gives the maximum
(the reference tests `x <= max` first). Anything -> float16 goes through float32 first (two
roundings: static_cast<float>, then fp16_ieee_from_fp32_value). Integer -> integer wraps and
anything -> bool is != 0, as numpy's astype does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import Kernel, OpContext

_TYPES = ("FLOAT32", "FLOAT16", "FLOAT64", "INT64", "INT32", "UINT32", "INT16", "UINT16", "UINT8", "INT8", "BOOL")
_FLOATS = ("FLOAT32", "FLOAT16", "FLOAT64")


def _float_to_integer(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    f = np.asarray(x, np.float64)
    info = np.iinfo(dtype)
    high = ~(f < float(info.max) + 1.0)  # at or past 2^bits (exact in float64), or NaN
    low = f < float(info.min)
    inside = ~(high | low)
    out = np.trunc(np.where(inside, f, 0.0)).astype(dtype)
    return np.where(high, info.max, np.where(low, info.min, out)).astype(dtype)


@dataclass(frozen=True, eq=False)
class CastParams:
    """Source and destination types (C++ static_cast semantics per pair)."""

    src: str
    dst: str
    dtype: object


class Cast(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, out = op.inputs[0], op.outputs[0]
        if x.type not in _TYPES or out.type not in _TYPES:
            raise op.unsupported(f"CAST {x.type} -> {out.type} is not supported")
        return CastParams(src=x.type, dst=out.type, dtype=np.dtype(out.dtype))

    @staticmethod
    def eval(params, x):
        src, dst, dtype = params.src, params.dst, params.dtype
        x = np.asarray(x)
        with np.errstate(over="ignore", invalid="ignore"):
            if dst == "FLOAT16":
                return np.asarray(x.astype(np.float32), np.float16)
            if src in _FLOATS and dtype.kind in "iu":
                return np.asarray(_float_to_integer(x, dtype), dtype)
            return np.asarray(x.astype(dtype), dtype)
