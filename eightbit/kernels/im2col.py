"""Shared machinery of the convolution and matrix-product kernels (private to them).

- `window_patches`: the (N, OH, OW, KH, KW, C) windows of an NHWC tensor as a strided view over
  a padded copy, the same positions TFLite's reference loops visit (positions outside the image
  read a pad value chosen so that they contribute nothing);
- `gemm_dtype` / `int_matmul`: exact integer matrix products through BLAS. float32 GEMM is exact
  when every partial sum stays below 2^24 (K * max|a| * max|b| < 2^24 bounds them all), float64
  when below 2^53; int64 numpy matmul (slow, exact) otherwise;
- requantization of int32/int64 accumulators with per-channel multipliers (the integer kernels)
  or in double precision (LiteRT's reference FULLY_CONNECTED);
- the multipliers themselves, computed like kernel_util.cc.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from eightbit.errors import ModelError
from eightbit.kernels import fixedpoint as fp

F32_EXACT = 1 << 24
F64_EXACT = 1 << 53


def window_patches(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int, pad_h: int, pad_w: int,
                   out_h: int, out_w: int, pad_value=0, dtype=None) -> np.ndarray:
    """Read-only view (N, out_h, out_w, kh, kw, C): window (oy, ox) tap (fy, fx) is input row
    oy*sh - pad_h + fy*dh, column ox*sw - pad_w + fx*dw; rows/columns outside read `pad_value`
    (a scalar, or an array broadcastable to (N, 1, 1, 1) for a per-batch value)."""
    dtype = np.dtype(dtype or x.dtype)
    n, h, w, c = x.shape
    need_h = max((out_h - 1) * sh + (kh - 1) * dh + 1, 0)
    need_w = max((out_w - 1) * sw + (kw - 1) * dw + 1, 0)
    if pad_h == 0 and pad_w == 0 and need_h <= h and need_w <= w:
        xp = np.ascontiguousarray(x, dtype=dtype)
    else:
        rows, cols = max(need_h, pad_h + h), max(need_w, pad_w + w)
        if rows * cols > max(out_h * out_w * kh * kw, h * w, 1) * 4:
            # Huge dilations, strides or paddings: a padded copy would be far larger than the
            # windows themselves, so gather them (cost bounded by output size times taps).
            return _gathered_patches(x, kh, kw, sh, sw, dh, dw, pad_h, pad_w, out_h, out_w, pad_value, dtype)
        xp = np.empty((n, rows, cols, c), dtype)
        xp[...] = pad_value
        xp[:, pad_h:pad_h + h, pad_w:pad_w + w, :] = x
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, shape=(n, out_h, out_w, kh, kw, c),
                      strides=(s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3), writeable=False)


def _gathered_patches(x, kh, kw, sh, sw, dh, dw, pad_h, pad_w, out_h, out_w, pad_value, dtype) -> np.ndarray:
    """window_patches by indexing: every out-of-image position reads an extra pad row/column."""
    n, h, w, c = x.shape
    xp = np.empty((n, h + 1, w + 1, c), dtype)
    xp[...] = pad_value
    xp[:, :h, :w, :] = x
    iy = np.arange(out_h, dtype=np.int64)[:, None] * sh - pad_h + np.arange(kh, dtype=np.int64)[None, :] * dh
    ix = np.arange(out_w, dtype=np.int64)[:, None] * sw - pad_w + np.arange(kw, dtype=np.int64)[None, :] * dw
    iy = np.where((iy >= 0) & (iy < h), iy, h)
    ix = np.where((ix >= 0) & (ix < w), ix, w)
    return xp[:, iy[:, None, :, None], ix[None, :, None, :], :]


def gemm_dtype(k: int, max_a: int, max_b: int):
    """float32 / float64 when an integer product of depth k with these magnitudes is exact, else int64."""
    bound = int(k) * int(max_a) * int(max_b)
    if bound < F32_EXACT:
        return np.float32
    if bound < F64_EXACT:
        return np.float64
    return np.int64


def max_abs(a: np.ndarray) -> int:
    return int(max(abs(int(a.min())), abs(int(a.max())))) if a.size else 0


class IntWeights:
    """A constant integer GEMM operand (K x N) with its column sums, max |w| and cached casts
    to the GEMM dtypes (converted once, on first use, instead of at every eval)."""

    def __init__(self, mat):
        self.mat = np.ascontiguousarray(mat, np.int64)
        self.colsum = self.mat.sum(axis=0)
        self.max_abs = max_abs(self.mat)
        self._cast = {np.dtype(np.int64): self.mat}

    def cast(self, dtype) -> np.ndarray:
        key = np.dtype(dtype)
        if key not in self._cast:
            self._cast[key] = self.mat.astype(key)
        return self._cast[key]


def cached_int_weights(params: dict, make) -> IntWeights:
    """The IntWeights of a constant filter, made on first use and kept in params["wq_cache"]
    (not in prepare: the fast kernels run the same prepare and never need this int64 copy);
    made afresh every time for a filter computed at run time (no cache)."""
    cache = getattr(params, "wq_cache", None)
    if cache is None:
        return make()
    if "wq" not in cache:
        cache["wq"] = make()
    return cache["wq"]


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b as int64 for integer-valued a, b already held in a dtype chosen by gemm_dtype."""
    r = a @ b
    return r if r.dtype == np.int64 else r.astype(np.int64)


def requantize(acc, mult, shift, out_zp: int, lo: int, hi: int, dtype, int64_acc: bool = False) -> np.ndarray:
    """acc (int64 holding the kernel's accumulator) -> MultiplyByQuantizedMultiplier (int32 version,
    acc wrapped to int32 like the C++ int32 accumulator; or the int64 version) + out_zp, clamped."""
    if int64_acc:
        y = fp.multiply_by_quantized_multiplier_int64(acc, mult, shift)
    else:
        y = fp.multiply_by_quantized_multiplier(acc, mult, shift)  # wraps acc to int32 itself
    if out_zp:
        y = y + out_zp
        if int(y.max(initial=0)) > fp.INT32_MAX or int(y.min(initial=0)) < fp.INT32_MIN:
            y = fp.wrap_int32(y)
    return np.clip(y, lo, hi).astype(dtype)


def requantize_double(acc, effective_scale, out_zp: int, lo: int, hi: int, dtype) -> np.ndarray:
    """LiteRT's reference FULLY_CONNECTED requantization: static_cast<int32_t>(round(double(acc) *
    effective_scale)) + out_zp, clamped (effective_scale a double, or a per-channel array)."""
    y = fp.float_to_int32_trunc(fp.round_half_away(np.asarray(acc).astype(np.float64) * effective_scale))
    if out_zp:
        y = fp.wrap_int32(y + out_zp)
    return np.clip(y, lo, hi).astype(dtype)


def per_channel_multipliers(input_scale: float, filter_scales, output_scale: float, channels: int):
    """PopulateConvolutionQuantizationParams: double(in) * double(filter[c]) / double(out) per channel
    (a per-tensor filter scale broadcast to every channel), then QuantizeMultiplier."""
    fs = np.asarray(filter_scales, np.float32).reshape(-1)
    if fs.size == 1:
        fs = np.full(channels, fs[0], np.float32)
    # The same double operations channel by channel, as one vector expression (IEEE: identical).
    real = np.float64(input_scale) * fs.astype(np.float64) / np.float64(output_scale)
    return fp.quantize_multiplier_array(real)


def legacy_multiplier(input_scale: float, filter_scale: float, output_scale: float):
    """GetQuantizedConvolutionMultipler (uint8 kernels): the scale product in float32, then / out in double."""
    real = float(np.float32(input_scale) * np.float32(filter_scale)) / float(np.float32(output_scale))
    return fp.quantize_multiplier(real)


def conv_multipliers(op, uint8: bool, x, w, b, y, channels: int):
    """The per-output-channel (mult, shift) arrays and filter zero point of CONV_2D, DEPTHWISE_CONV_2D
    and TRANSPOSE_CONV: uint8 uses the legacy per-tensor multiplier (after the bias-scale check) and
    the filter's zero point; int8 / int16 use per-channel multipliers and symmetric filters.
    The caller has checked that the filter has 1 or `channels` scales."""
    if uint8:
        if w.scales.size != 1:
            raise op.unsupported("per-channel quantization needs int8 or int16 activations")
        check_bias_scale(op, x, w, b, y)
        m, s = legacy_multiplier(x.scale, w.scale, y.scale)
        return np.full(channels, m, np.int64), np.full(channels, s, np.int64), legacy_zero_point(w)
    mult, shift = per_channel_multipliers(legacy_scale(x), w.scales, legacy_scale(y), channels)
    return mult, shift, 0  # per-channel kernels assume symmetric filters


BIAS_SCALE_TOLERANCE = 0.02  # of the output scale (kernel_util.cc GetQuantizedConvolutionMultipler)


def check_bias_scale(op, x, w, b, y) -> None:
    """The check LiteRT's Prepare makes before its legacy per-tensor multiplier (uint8 CONV_2D,
    DEPTHWISE_CONV_2D and TRANSPOSE_CONV; FULLY_CONNECTED with per-tensor weights and any integer
    input): |input_scale * filter_scale - bias_scale| / output_scale <= 0.02, in double, on the
    tensors' per-tensor parameters (a bias without quantization, or with several scales, counts as
    scale 0). A bias scale that far from the product means the model's bias was quantized for
    other scales; LiteRT refuses to prepare it, and so do we (ModelError)."""
    if b is None:
        return
    product = _params_scale(x) * _params_scale(w)
    bias_scale, out_scale = _params_scale(b), _params_scale(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.float64(abs(product - bias_scale)) / np.float64(out_scale)
    if not ratio <= BIAS_SCALE_TOLERANCE:
        raise ModelError(
            f"{op.where()}: bias {b.name!r} has scale {bias_scale:.9g}, but input {x.name!r} scale * filter "
            f"{w.name!r} scale = {product:.9g}; |difference| / output {y.name!r} scale {out_scale:.9g} = "
            f"{float(ratio):.4g} exceeds {BIAS_SCALE_TOLERANCE} (LiteRT's Prepare rejects this model too)")


def _params_scale(t) -> float:
    """TfLiteTensor.params.scale as GetLegacyQuantization fills it: the scale when the tensor has
    exactly one scale and one zero point, else 0."""
    if t is None or t.scales is None or t.scales.size != 1 or t.zero_points is None or t.zero_points.size != 1:
        return 0.0
    return float(t.scales[0])


def legacy_scale(t) -> float:
    """TfLiteTensor.params.scale: the per-tensor scale, 0 when the tensor has several scales."""
    if t is None or not t.quantized or t.scales.size != 1:
        return 0.0
    return float(t.scales[0])


def legacy_zero_point(t) -> int:
    """TfLiteTensor.params.zero_point: the per-tensor zero point, 0 when there are several."""
    if t is None or not t.quantized or t.scales.size != 1 or t.zero_points is None or t.zero_points.size != 1:
        return 0
    return int(t.zero_points[0])


def output_range(op, y) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for the op's fused activation on output tensor y."""
    act = int(op.options.get("fused_activation_function", 0) or 0)
    return fp.activation_range_quantized(act, legacy_scale(y), legacy_zero_point(y), y.dtype)


def apply_clamp(v: np.ndarray, clamp) -> np.ndarray:
    """std::min(std::max(v, lo), hi): NaN passes through, like the reference kernels."""
    if clamp is None:
        return v
    return fp.clamp_float(v, clamp[0], clamp[1]).astype(v.dtype, copy=False)
