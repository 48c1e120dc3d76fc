"""Error figures between a float tensor and its quantized counterpart.

Conventions (the same everywhere in eightbit.debug):
- error e = dequantized(q) - float, dequantized = (q - zero_point) * scale (per channel along
  `quantized_dimension` when the tensor has several scales) as float32 values, as TFLite's
  DEQUANTIZE computes it; sums in float64;
- SQNR = 10 * log10(sum(float^2) / sum(e^2)) dB: +inf when the values are identical, -inf when the
  float values are all zero but the quantized ones are not;
- a value is *saturated* when the quantized value sits at its integer type's limit (-128 or 127 for
  int8) while the float value lies beyond what that limit represents by more than half a step:
  the tensor's range clipped it. A ReLU output at zero_point -128 is not saturated.
"""

from __future__ import annotations

import math

import numpy as np

from eightbit.ir import QuantParams
from eightbit.kernels.fixedpoint import round_half_away


def broadcast_params(qp: QuantParams, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """(scale, zero_point) as float64 arrays broadcastable against a tensor of `shape`."""
    scale = qp.scale.astype(np.float64)
    zp = qp.zero_point.astype(np.float64)
    if zp.size not in (1, scale.size):
        zp = np.full(scale.shape, zp[0] if zp.size else 0.0)
    if scale.size == 1:
        return np.float64(scale[0]), np.float64(zp[0] if zp.size else 0.0)
    axis = int(qp.quantized_dimension)
    if not 0 <= axis < len(shape) or shape[axis] != scale.size:
        raise ValueError(f"{scale.size} per-channel scales do not fit dimension {axis} of shape {list(shape)}")
    bshape = [1] * len(shape)
    bshape[axis] = scale.size
    if zp.size == 1:
        zp = np.full(scale.shape, zp[0])
    return scale.reshape(bshape), zp.reshape(bshape)


def is_quantized(tensor) -> bool:
    """A tensor holding integers that stand for real numbers (scale and zero point set)."""
    return tensor.quantized and tensor.dtype.kind in "iu"


def dequantize(values: np.ndarray, tensor) -> np.ndarray:
    """The real values a tensor holds, as float64 arrays: (q - zero_point) * scale for quantized
    integer tensors (per-channel aware) rounded to float32 as TFLite's DEQUANTIZE gives them (the
    float64 product is exact), the values themselves otherwise."""
    v = np.asarray(values)
    if not is_quantized(tensor):
        return v.astype(np.float64)
    scale, zp = broadcast_params(tensor.quantization, v.shape)
    return ((v.astype(np.float64) - zp) * scale).astype(np.float32).astype(np.float64)


def quantize(values: np.ndarray, tensor) -> np.ndarray:
    """Float values to a quantized tensor's integers as TFLite's QUANTIZE does it: x / scale in
    float32, rounded half away from zero, plus the zero point, clamped to the type."""
    x = np.asarray(values, np.float32)
    scale, zp = broadcast_params(tensor.quantization, x.shape)
    v = (x / np.asarray(scale, np.float32)).astype(np.float64)
    q = round_half_away(v)  # TfLiteRound: half away from zero
    info = np.iinfo(tensor.dtype)
    q = np.clip(q.astype(np.float64) + zp, info.min, info.max)
    return q.astype(tensor.dtype)


def sqnr_db(signal_power: float, noise_power: float) -> float:
    if noise_power == 0:
        return math.inf
    if signal_power == 0:
        return -math.inf
    return 10.0 * math.log10(signal_power / noise_power)


def saturation_mask(q: np.ndarray, ref: np.ndarray, tensor) -> np.ndarray | None:
    """Where the quantized value is pinned at its type's limit and the float value lies beyond
    that limit's real value by more than half a step (None for tensors without an integer range)."""
    if not is_quantized(tensor) or tensor.dtype.itemsize > 2:
        return None
    info = np.iinfo(tensor.dtype)
    scale, zp = broadcast_params(tensor.quantization, q.shape)
    lo = (info.min - zp) * scale - scale / 2
    hi = (info.max - zp) * scale + scale / 2
    return ((q == info.min) & (ref < lo)) | ((q == info.max) & (ref > hi))


def representable_range(tensor) -> tuple[float, float] | None:
    """The real values a per-tensor quantized tensor's integer range covers (None otherwise)."""
    if not is_quantized(tensor) or tensor.quantization.scale.size != 1:
        return None
    info = np.iinfo(tensor.dtype)
    scale, zp = broadcast_params(tensor.quantization, ())
    return float((info.min - zp) * scale), float((info.max - zp) * scale)


class ErrorAccumulator:
    """Running sums over samples for one tensor: everything the report needs, in bounded memory."""

    def __init__(self, tensor=None):
        self.tensor = tensor
        self.count = 0
        self.samples = 0
        self.sum_ref2 = 0.0
        self.sum_err = 0.0
        self.sum_err2 = 0.0
        self.sum_err2_lsb = 0.0
        self.max_abs = 0.0
        self.ref_min = math.inf
        self.ref_max = -math.inf
        self.saturated = 0
        self.saturated_low = 0  # clipped at the type's lowest value
        self.has_saturation = False

    def update(self, ref: np.ndarray, q: np.ndarray) -> None:
        """ref: the float values; q: the quantized tensor's values as stored (integers or floats)."""
        ref = np.asarray(ref, np.float64)
        got = dequantize(q, self.tensor) if self.tensor is not None else np.asarray(q, np.float64)
        if got.shape != ref.shape:
            if got.size != ref.size:
                raise ValueError(f"cannot compare shapes {list(got.shape)} and {list(ref.shape)}")
            got = got.reshape(ref.shape)
        err = got - ref
        self.samples += 1
        self.count += err.size
        if err.size == 0:
            return
        self.sum_ref2 += float(np.sum(ref * ref))
        self.sum_err += float(np.sum(err))
        self.sum_err2 += float(np.sum(err * err))
        self.max_abs = max(self.max_abs, float(np.max(np.abs(err))))
        self.ref_min = min(self.ref_min, float(np.min(ref)))
        self.ref_max = max(self.ref_max, float(np.max(ref)))
        if self.tensor is not None and is_quantized(self.tensor):
            scale, _ = broadcast_params(self.tensor.quantization, ref.shape)
            self.sum_err2_lsb += float(np.sum((err / scale) ** 2))
            mask = saturation_mask(np.asarray(q).reshape(ref.shape), ref, self.tensor)
            if mask is not None:
                self.has_saturation = True
                self.saturated += int(np.count_nonzero(mask))
                low = np.asarray(q).reshape(ref.shape) == np.iinfo(self.tensor.dtype).min
                self.saturated_low += int(np.count_nonzero(mask & low))

    def figures(self) -> dict:
        n = self.count
        if n == 0:
            return {"sqnr_db": None, "max_abs_error": None, "mean_error": None, "rmse": None,
                    "float_min": None, "float_max": None, "rmse_rel_range": None, "rmse_lsb": None,
                    "saturated": None, "saturation_pct": None, "saturation_low_pct": None,
                    "saturation_high_pct": None}
        rmse = math.sqrt(self.sum_err2 / n)
        rng = self.ref_max - self.ref_min
        quant = self.tensor is not None and is_quantized(self.tensor)
        return {
            "sqnr_db": sqnr_db(self.sum_ref2, self.sum_err2),
            "max_abs_error": self.max_abs,
            "mean_error": self.sum_err / n,
            "rmse": rmse,
            "float_min": self.ref_min,
            "float_max": self.ref_max,
            "rmse_rel_range": (rmse / rng) if rng > 0 else (0.0 if rmse == 0 else math.inf),
            "rmse_lsb": math.sqrt(self.sum_err2_lsb / n) if quant else None,
            "saturated": self.saturated if self.has_saturation else None,
            "saturation_pct": 100.0 * self.saturated / n if self.has_saturation else None,
            "saturation_low_pct": 100.0 * self.saturated_low / n if self.has_saturation else None,
            "saturation_high_pct": (100.0 * (self.saturated - self.saturated_low) / n
                                    if self.has_saturation else None),
        }
