"""RESIZE_NEAREST_NEIGHBOR (TFLite kernels/resize_nearest_neighbor.cc, reference/resize_nearest_neighbor.h).

NHWC input, output (N, size[0], size[1], C). Each output row/column copies one input row/column
chosen in float32 exactly as the reference does (GetNearestNeighbor):
  scale = in / out, or (in - 1) / (out - 1) with align_corners and out > 1
  src = (dst + (0.5 if half_pixel_centers else 0)) * scale
  index = round_half_away(src) with align_corners, floor(src) otherwise; at most in - 1, and
  at least 0 with half_pixel_centers.
Pure data movement: any dtype, scale and zero point unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.fixedpoint import round_half_away

_TYPES = ("FLOAT32", "UINT8", "INT8", "INT16", "INT32", "INT64", "BOOL")


@lru_cache(maxsize=256)
def nearest_indices(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> np.ndarray:
    f = np.float32
    if align_corners and out_size > 1:
        scale = f(in_size - 1) / f(out_size - 1)
    else:
        scale = f(in_size) / f(out_size)
    offset = f(0.5) if half_pixel_centers else f(0.0)
    src = (np.arange(out_size, dtype=np.float32) + offset) * scale
    if align_corners:
        idx = round_half_away(src)  # TfLiteRound
    else:
        idx = np.floor(src)
    idx = np.minimum(idx.astype(np.int64), in_size - 1)
    if half_pixel_centers:
        idx = np.maximum(idx, 0)
    idx.setflags(write=False)
    return idx


@dataclass(frozen=True, eq=False)
class ResizeNearestNeighborParams:
    """ResizeNearestNeighborOptions."""

    align_corners: bool
    half_pixel_centers: bool


class ResizeNearestNeighbor(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, size, y = op.inputs[0], op.inputs[1], op.outputs[0]
        if x.type not in _TYPES:
            raise op.unsupported(f"input type {x.type}")
        if y.type != x.type:
            raise op.unsupported(f"output type {y.type} differs from input type {x.type}")
        if len(x.shape) != 4:
            raise op.unsupported(f"input must be 4-D (NHWC), got shape {x.shape}")
        if size is None or size.type != "INT32" or len(size.shape) != 1 or size.shape[0] != 2:
            raise op.unsupported("size must be an int32 tensor of 2 elements")
        return ResizeNearestNeighborParams(align_corners=bool(op.options.get("align_corners", False)), half_pixel_centers=bool(op.options.get("half_pixel_centers", False)))

    @staticmethod
    def eval(p, x, size):
        out_h, out_w = (int(v) for v in np.asarray(size).reshape(-1)[:2])
        if out_h <= 0 or out_w <= 0:
            raise ValueError(f"output size must be positive, got {out_h}x{out_w}")
        _, h, w, _ = x.shape
        iy = nearest_indices(h, out_h, p.align_corners, p.half_pixel_centers)
        ix = nearest_indices(w, out_w, p.align_corners, p.half_pixel_centers)
        return np.ascontiguousarray(x[:, iy][:, :, ix])
