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

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.opdata import Affine, channel_affine

_QUANT_OUT = ("INT8", "UINT8", "INT16")
_REQUANT = {
    "INT8": ("INT8", "UINT8", "INT16"),
    "UINT8": ("INT8", "UINT8"),
    "INT16": ("INT8", "INT16", "INT32"),
    "INT32": ("INT8", "INT16"),
}


@dataclass(frozen=True, eq=False)
class AffineQuantize:
    """float32 -> integer: round(x / scale) + zero point, clamped to [lo, hi]."""

    affine: Affine
    lo: int
    hi: int
    dtype: object


@dataclass(frozen=True, eq=False)
class Requantize:
    """integer -> integer: zp_out + MultiplyByQuantizedMultiplier(q - zp_in), clamped; `wrap`: int32 input."""

    multiplier: int
    shift: int
    zp_in: int
    zp_out: int
    wrap: bool
    lo: int
    hi: int
    dtype: object


def _prepare_float(op: OpContext, out) -> AffineQuantize:
    if out.type not in _QUANT_OUT:
        raise op.unsupported(f"QUANTIZE float32 -> {out.type} is not supported")
    info = np.iinfo(out.dtype)
    affine = channel_affine(op, out) if out.scales.size > 1 else Affine(np.float32(out.scale), out.zero_point)
    return AffineQuantize(affine, int(info.min), int(info.max), np.dtype(out.dtype))


def _prepare_requantize(op: OpContext, x, out) -> Requantize:
    allowed = _REQUANT.get(x.type)
    if allowed is None or out.type not in allowed:
        raise op.unsupported(f"QUANTIZE {x.type} -> {out.type} is not supported")
    if not x.quantized:
        raise op.unsupported(f"QUANTIZE {x.type} input has no quantization parameters")
    if x.scales.size > 1 or out.scales.size > 1:
        raise op.unsupported("requantization runs per-tensor parameters only")
    if x.type == "INT16" and out.type == "INT16" and (x.zero_point != 0 or out.zero_point != 0):
        raise op.unsupported("int16 -> int16 requantization needs zero points 0")
    mult, shift = fp.quantize_multiplier(float(x.scale) / float(out.scale))
    info = np.iinfo(out.dtype)
    return Requantize(mult, shift, x.zero_point, out.zero_point, x.type == "INT32", int(info.min), int(info.max),
                      np.dtype(out.dtype))


def _affine_quantize(p: AffineQuantize, x):
    scale, zp = p.affine.along(x.ndim)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = fp.round_half_away(np.asarray(x, np.float32) / scale)
    # LiteRT 2.3 converts the rounded value to int32 before adding the zero point: NaN and
    # anything beyond int32 become INT32_MIN (x86), and the int32 addition wraps.
    q = fp.wrap_int32(fp.float_to_int32_trunc(r) + zp)
    return np.asarray(np.clip(q, p.lo, p.hi), p.dtype)


def _requantize(p: Requantize, x):
    v = np.asarray(x, np.int64) - p.zp_in
    if p.wrap:
        v = fp.wrap_int32(v)
    y = fp.multiply_by_quantized_multiplier(v, p.multiplier, p.shift) + p.zp_out
    if p.wrap or p.dtype == np.int32:
        y = fp.wrap_int32(y)
    return np.asarray(np.clip(y, p.lo, p.hi), p.dtype)


class Quantize(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> AffineQuantize | Requantize:
        x, out = op.inputs[0], op.outputs[0]
        if not out.quantized:
            raise op.unsupported("QUANTIZE output has no quantization parameters")
        if x.type == "FLOAT32":
            return _prepare_float(op, out)
        return _prepare_requantize(op, x, out)

    @staticmethod
    def eval(params, x):
        if isinstance(params, AffineQuantize):
            return _affine_quantize(params, x)
        return _requantize(params, x)
