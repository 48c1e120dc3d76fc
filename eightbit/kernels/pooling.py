"""AVERAGE_POOL_2D and MAX_POOL_2D (TFLite kernels/pooling.cc, reference kernels).

Reference arithmetic (internal/reference/pooling.h, reference/integer_ops/pooling.h):
- The window is clipped to the input: padded positions are not counted (average over the
  valid taps only).
- Float average: taps summed in float32 in (filter_y, filter_x) order, divided by the count.
- uint8 average: (sum + count/2) / count (sum is never negative).
- int8 / int16 average: rounded to nearest with halves away from zero:
  sum > 0 ? (sum + count/2) / count : (sum - count/2) / count (C division truncates).
- Max: the largest valid tap (starting from the type's lowest value). Float: std::max(max, tap)
  never moves to a NaN tap, so NaN taps are skipped (a window of NaN gives the lowest float).
- Then the fused activation clamp (float range, or the quantized range of the output). Float
  NONE / RELU still clamp to [lowest, max] (CalculateActivationRange<float>), so +-inf become
  +-FLT_MAX; NaN passes the clamp unchanged.
Input and output share scale and zero point, so there is no requantization.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.fixedpoint import activation_range_float, activation_range_quantized
from eightbit.kernels.padding import compute_padding_height_width

_TYPES = {"FLOAT32", "INT8", "UINT8", "INT16"}


@dataclass(frozen=True)
class PoolParams:
    """What the pooling kernels' prepare works out once."""

    stride_h: int
    stride_w: int
    filter_h: int
    filter_w: int
    padding: int
    dtype: np.dtype
    float: bool
    unsigned: bool
    clamp: tuple


def _prepare(op: OpContext):
    x, y = op.inputs[0], op.outputs[0]
    if x.type not in _TYPES:
        raise op.unsupported(f"input type {x.type} (float32, int8, uint8, int16 only)")
    if y.type != x.type:
        raise op.unsupported(f"output type {y.type} differs from input type {x.type}")
    if len(x.shape) != 4:
        raise op.unsupported(f"input must be 4-D (NHWC), got shape {x.shape}")
    o = op.options
    p = {
        "stride_h": int(o.get("stride_h", 1)), "stride_w": int(o.get("stride_w", 1)),
        "filter_h": int(o.get("filter_height", 1)), "filter_w": int(o.get("filter_width", 1)),
        "padding": int(o.get("padding", 0)), "dtype": x.dtype, "float": x.type == "FLOAT32",
        "unsigned": x.type == "UINT8",
    }
    if min(p["stride_h"], p["stride_w"], p["filter_h"], p["filter_w"]) <= 0:
        raise op.unsupported("strides and filter sizes must be positive")
    act = int(o.get("fused_activation_function", 0))
    if p["float"]:
        p["clamp"] = activation_range_float(act)
    else:
        p["clamp"] = activation_range_quantized(act, y.scale, y.zero_point, x.dtype)
    return PoolParams(**p)


def _tap_range(starts: np.ndarray, size: int, filter_size: int) -> range:
    """The filter taps k (along one axis) that put at least one window start + k inside [0, size):
    the window is clipped to the input, so other taps never contribute. At most
    size + (last start - first start) taps, whatever the filter size."""
    if starts.size == 0 or size <= 0:
        return range(0)
    lo = max(0, -int(starts.max()))
    hi = min(filter_size, size - int(starts.min()))
    return range(lo, max(lo, hi))


def _windows(p, x):
    """Yield, for every filter tap that can reach the input (in (filter_y, filter_x) order), the
    input values under it (N, OH, OW, C) and the validity mask (OH, OW)."""
    _, h, w, _ = x.shape
    g = compute_padding_height_width(p.stride_h, p.stride_w, 1, 1, h, w, p.filter_h, p.filter_w,
                                     p.padding)
    oh, ow = max(g.out_height, 0), max(g.out_width, 0)
    y0 = np.arange(oh, dtype=np.int64) * p.stride_h - g.height
    x0 = np.arange(ow, dtype=np.int64) * p.stride_w - g.width
    xtaps = _tap_range(x0, w, p.filter_w)
    for ky in _tap_range(y0, h, p.filter_h):
        iy = y0 + ky
        vy = (iy >= 0) & (iy < h)
        rows = x[:, np.clip(iy, 0, h - 1)]
        for kx in xtaps:
            ix = x0 + kx
            vx = (ix >= 0) & (ix < w)
            yield rows[:, :, np.clip(ix, 0, w - 1)], vy[:, None] & vx[None, :]


def _out_hw(p, x):
    _, h, w, _ = x.shape
    g = compute_padding_height_width(p.stride_h, p.stride_w, 1, 1, h, w, p.filter_h, p.filter_w,
                                     p.padding)
    return max(g.out_height, 0), max(g.out_width, 0)


class AveragePool2D(Kernel):
    types = ("float32", "int8", "uint8", "int16")

    @staticmethod
    def prepare(op: OpContext):
        return _prepare(op)

    @staticmethod
    def eval(p, x):
        with np.errstate(over="ignore", invalid="ignore"):  # float taps may be +-inf / NaN
            return AveragePool2D._eval(p, x)

    @staticmethod
    def _eval(p, x):
        oh, ow = _out_hw(p, x)
        acc = np.zeros((x.shape[0], oh, ow, x.shape[3]), np.float32 if p.float else np.int64)
        count = np.zeros((oh, ow), np.int64)
        for vals, valid in _windows(p, x):
            if p.float:
                term = np.where(valid[None, :, :, None], vals, np.float32(0)).astype(np.float32)
            else:
                term = np.where(valid[None, :, :, None], vals.astype(np.int64), 0)
            acc = acc + term
            count = count + valid
        c = count[None, :, :, None]
        if x.size and np.any(count == 0):
            raise ValueError("AVERAGE_POOL_2D: a pooling window covers no input element")
        c = np.maximum(c, 1)
        lo, hi = p.clamp
        if p.float:
            avg = (acc / c.astype(np.float32)).astype(np.float32)
            return np.minimum(np.maximum(avg, np.float32(lo)), np.float32(hi)).astype(np.float32)
        half = c // 2
        if p.unsigned:
            q = (acc + half) // c
        else:
            q = np.where(acc > 0, (acc + half) // c, -((half - acc) // c))
        return np.clip(q, lo, hi).astype(p.dtype)


class MaxPool2D(Kernel):
    types = ("float32", "int8", "uint8", "int16")

    @staticmethod
    def prepare(op: OpContext):
        return _prepare(op)

    @staticmethod
    def eval(p, x):
        dtype = p.dtype
        lowest = np.finfo(dtype).min if p.float else np.iinfo(dtype).min
        oh, ow = _out_hw(p, x)
        out = np.full((x.shape[0], oh, ow, x.shape[3]), lowest, dtype)
        for vals, valid in _windows(p, x):
            take = valid[None, :, :, None]
            if p.float:
                take = take & ~np.isnan(vals)
            term = np.where(take, vals, lowest).astype(dtype)
            out = np.maximum(out, term)
        lo, hi = p.clamp
        if p.float:
            return np.minimum(np.maximum(out, np.float32(lo)), np.float32(hi)).astype(np.float32)
        return np.clip(out, lo, hi).astype(dtype)
