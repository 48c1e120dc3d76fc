"""QUANTIZE (TFLite kernels/quantize.cc, reference/quantize.h, reference/requantize.h).

Two uses:
- float32 -> int8/uint8/int16 (AffineQuantize / PerChannelQuantize): q = round(x / scale) + zp,
  the division in float32, rounding half away from zero, then clamped to the output type. As in
  LiteRT 2.3 (checked against it), the rounded value goes through int32 before the zero point is
  added: NaN and values beyond the int32 range become INT32_MIN, and the addition wraps.
- integer -> integer requantization (Requantize): q_out = zp_out + MultiplyByQuantizedMultiplier(
  q_in - zp_in, M) with M = in_scale / out_scale (double) as Prepare computes it, clamped.
  Pairs TFLite accepts: int8/uint8 -> int8/uint8, int16 -> int8/int16/int32, int32 -> int8/int16,
  and int8 -> int16 (LiteRT 2.3 runs it through the same Requantize).
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import Kernel, OpContext

_QUANT_OUT = ("INT8", "UINT8", "INT16")
_REQUANT = {
    "INT8": ("INT8", "UINT8", "INT16"),
    "UINT8": ("INT8", "UINT8"),
    "INT16": ("INT8", "INT16", "INT32"),
    "INT32": ("INT8", "INT16"),
}


def _channel_params(info):
    """Per-channel (scales, zero points) shaped to broadcast along the quantized dimension."""
    scales = np.asarray(info.scales, np.float32).reshape(-1)
    zps = np.asarray(info.zero_points, np.int64).reshape(-1)
    if zps.size != scales.size:  # TFLite repeats the first zero point
        zps = np.full(scales.shape, int(zps[0]) if zps.size else 0, np.int64)
    return scales, zps, int(info.quantized_dimension)


def _along(v: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = v.size
    return v.reshape(shape)


class Quantize(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, out = op.inputs[0], op.outputs[0]
        if not out.quantized:
            raise op.unsupported("QUANTIZE output has no quantization parameters")
        dtype = np.dtype(out.dtype)
        if x.type == "FLOAT32":
            if out.type not in _QUANT_OUT:
                raise op.unsupported(f"QUANTIZE float32 -> {out.type} is not supported")
            info = np.iinfo(dtype)
            if out.scales.size > 1:
                scales, zps, axis = _channel_params(out)
                if len(out.shape) and not (0 <= axis < len(out.shape) and out.shape[axis] == scales.size):
                    raise op.unsupported(f"per-channel output: {scales.size} scales for dimension {axis} of {out.shape}")
                return {"mode": "float", "scale": scales, "zp": zps, "axis": axis,
                        "min": info.min, "max": info.max, "dtype": dtype}
            return {"mode": "float", "scale": np.float32(out.scale), "zp": out.zero_point, "axis": None,
                    "min": info.min, "max": info.max, "dtype": dtype}
        allowed = _REQUANT.get(x.type)
        if allowed is None or out.type not in allowed:
            raise op.unsupported(f"QUANTIZE {x.type} -> {out.type} is not supported")
        info = np.iinfo(dtype)
        if not x.quantized:
            raise op.unsupported(f"QUANTIZE {x.type} input has no quantization parameters")
        if x.scales.size > 1 or out.scales.size > 1:
            raise op.unsupported("requantization runs per-tensor parameters only")
        if x.type == "INT16" and out.type == "INT16" and (x.zero_point != 0 or out.zero_point != 0):
            raise op.unsupported("int16 -> int16 requantization needs zero points 0")
        mult, shift = fp.quantize_multiplier(float(x.scale) / float(out.scale))
        return {"mode": "requant", "mult": mult, "shift": shift, "zp_in": x.zero_point, "zp_out": out.zero_point,
                "wrap": x.type == "INT32", "min": info.min, "max": info.max, "dtype": dtype}

    @staticmethod
    def eval(params, x):
        lo, hi = params["min"], params["max"]
        if params["mode"] == "float":
            scale, zp = params["scale"], params["zp"]
            if params["axis"] is not None:
                scale = _along(scale, params["axis"], x.ndim)
                zp = _along(zp, params["axis"], x.ndim)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                r = fp.round_half_away(np.asarray(x, np.float32) / scale)
            # LiteRT 2.3 converts the rounded value to int32 before adding the zero point: NaN and
            # anything beyond int32 become INT32_MIN (x86), and the int32 addition wraps.
            q = fp.wrap_int32(fp.float_to_int32_trunc(r) + zp)
            return np.asarray(np.clip(q, lo, hi), params["dtype"])
        v = np.asarray(x, np.int64) - params["zp_in"]
        if params["wrap"]:
            v = fp.wrap_int32(v)
        y = fp.multiply_by_quantized_multiplier(v, params["mult"], params["shift"]) + params["zp_out"]
        if params["wrap"] or params["dtype"] == np.int32:
            y = fp.wrap_int32(y)
        return np.asarray(np.clip(y, lo, hi), params["dtype"])
