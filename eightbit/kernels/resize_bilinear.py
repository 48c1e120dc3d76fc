"""RESIZE_BILINEAR (TFLite kernels/resize_bilinear.cc with kReference, reference/resize_bilinear.h).

NHWC input, output (N, size[0], size[1], C); scale and zero point unchanged.

float32 (and uint8, which the reference runs through the same float routine): for each output
row y, in float32, scale = in / out (or (in - 1) / (out - 1) with align_corners and out > 1),
src = (y + 0.5) * scale - 0.5 with half_pixel_centers else y * scale, y0 = max(floor(src), 0),
y1 = min(ceil(src), in - 1); likewise for columns; the four neighbours are weighted
v00 (1-dy)(1-dx) + v10 dy (1-dx) + v01 (1-dy) dx + v11 dy dx (dy = src - y0), evaluated in float32
in that order. For uint8, 0.5 is added and the value truncated.

int8 and int16 use ResizeBilinearInteger: coordinates in 10-bit fixed point,
scale_10 = (1024 * in + out / 2) / out (align_corners: (1024 * (in - 1) + (out - 1) / 2) / (out - 1)),
src_10 = y * scale_10 (+ scale_10 / 2 - 512 with half_pixel_centers), y0 = max(src_10 / 1024, 0),
y1 = min((src_10 + 1023) / 1024, in - 1); the weighted sum of the four neighbours carries 20
fractional bits and is rounded to nearest, halves away from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from eightbit.kernels.base import Kernel, OpContext

_FLOAT_PATH = ("FLOAT32", "UINT8")
_INTEGER_PATH = ("INT8", "INT16")


def _cdiv(a, b):
    """C division (truncates toward zero) for int64 arrays and a positive divisor."""
    a = np.asarray(a, np.int64)
    return np.where(a >= 0, a // b, -((-a) // b))


@lru_cache(maxsize=256)
def _float_coords(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool):
    f = np.float32
    scale = f(in_size) / f(out_size)
    if align_corners and out_size > 1:
        scale = f(in_size - 1) / f(out_size - 1)
    v = np.arange(out_size, dtype=np.float32)
    src = (v + f(0.5)) * scale - f(0.5) if half_pixel_centers else v * scale
    lo = np.maximum(np.floor(src).astype(np.int64), 0)
    hi = np.minimum(np.ceil(src).astype(np.int64), in_size - 1)
    frac = (src - lo.astype(np.float32)).astype(np.float32)  # may be negative near the border
    return src, lo, hi, frac


@lru_cache(maxsize=256)
def _integer_coords(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool):
    if align_corners and out_size > 1:
        scale = (1024 * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = (1024 * in_size + out_size // 2) // out_size
    v = np.arange(out_size, dtype=np.int64)
    src = v * scale + (scale // 2 - 512 if half_pixel_centers else 0)
    lo = np.maximum(_cdiv(src, 1024), 0)
    hi = np.minimum(_cdiv(src + 1023, 1024), in_size - 1)
    frac = src - 1024 * lo  # weight of the upper neighbour, in 1/1024
    return lo, hi, frac


@dataclass(frozen=True, eq=False)
class ResizeBilinearParams:
    """ResizeBilinearOptions, and whether the integer path (int8 / int16) runs."""

    align_corners: bool
    half_pixel_centers: bool
    integer: bool
    dtype: object


class ResizeBilinear(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, size, y = op.inputs[0], op.inputs[1], op.outputs[0]
        if x.type not in _FLOAT_PATH + _INTEGER_PATH:
            raise op.unsupported(f"input type {x.type} (float32, uint8, int8, int16 only)")
        if y.type != x.type:
            raise op.unsupported(f"output type {y.type} differs from input type {x.type}")
        if len(x.shape) != 4:
            raise op.unsupported(f"input must be 4-D (NHWC), got shape {x.shape}")
        if size is None or size.type != "INT32" or len(size.shape) != 1:
            raise op.unsupported("size must be a 1-D int32 tensor")
        align = bool(op.options.get("align_corners", False))
        half = bool(op.options.get("half_pixel_centers", False))
        if align and half:
            raise op.unsupported("align_corners and half_pixel_centers cannot both be set")
        return ResizeBilinearParams(align_corners=align, half_pixel_centers=half, integer=x.type in _INTEGER_PATH, dtype=y.dtype)

    @staticmethod
    def eval(p, x, size):
        out_h, out_w = (int(v) for v in np.asarray(size).reshape(-1)[:2])
        if out_h <= 0 or out_w <= 0:
            raise ValueError(f"output size must be positive, got {out_h}x{out_w}")
        _, h, w, _ = x.shape
        flags = (p.align_corners, p.half_pixel_centers)
        if p.integer:
            return _resize_integer(x, h, w, out_h, out_w, flags, p.dtype)
        return _resize_float(x, h, w, out_h, out_w, flags, p.dtype)


def _resize_float(x, h, w, out_h, out_w, flags, dtype):
    with np.errstate(over="ignore", invalid="ignore"):  # +-inf inputs: inf * 0 is NaN, as in C++
        return _resize_float_impl(x, h, w, out_h, out_w, flags, dtype)


def _resize_float_impl(x, h, w, out_h, out_w, flags, dtype):
    _, y0, y1, dy = _float_coords(h, out_h, *flags)
    _, x0, x1, dx = _float_coords(w, out_w, *flags)
    one = np.float32(1)
    wy0, wy1 = (one - dy)[None, :, None, None], dy[None, :, None, None]
    wx0, wx1 = (one - dx)[None, None, :, None], dx[None, None, :, None]
    xf = x.astype(np.float32)
    top, bottom = xf[:, y0], xf[:, y1]
    v00, v01 = top[:, :, x0], top[:, :, x1]
    v10, v11 = bottom[:, :, x0], bottom[:, :, x1]
    # Same float32 operations, in the same order, as the reference expression.
    r = v00 * wy0 * wx0
    r = r + v10 * wy1 * wx0
    r = r + v01 * wy0 * wx1
    r = r + v11 * wy1 * wx1
    if dtype == np.float32:
        return r.astype(np.float32)
    r = r + np.float32(0.5)
    return np.trunc(r).astype(dtype)


def _resize_integer(x, h, w, out_h, out_w, flags, dtype):
    y0, y1, fy = _integer_coords(h, out_h, *flags)
    x0, x1, fx = _integer_coords(w, out_w, *flags)
    wy0, wy1 = (1024 - fy)[None, :, None, None], fy[None, :, None, None]
    wx0, wx1 = (1024 - fx)[None, None, :, None], fx[None, None, :, None]
    xi = x.astype(np.int64)
    top, bottom = xi[:, y0], xi[:, y1]
    acc = top[:, :, x0] * wy0 * wx0 + bottom[:, :, x0] * wy1 * wx0 + top[:, :, x1] * wy0 * wx1 + bottom[:, :, x1] * wy1 * wx1
    rounded = _cdiv(acc + np.where(acc > 0, 1 << 19, -(1 << 19)), 1 << 20)
    return rounded.astype(dtype)
