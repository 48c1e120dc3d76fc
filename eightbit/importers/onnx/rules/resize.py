"""Resize and Upsample over H and W: RESIZE_* builtins when TFLite's sampling is ONNX's, GATHERs
(nearest, exact for every coordinate mode and rounding) otherwise."""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.rules import rule
from eightbit.importers.onnx.rules.conv import expand_1d, squeeze_1d


def onnx_coordinates(mode: str, out_size: int, in_size: int, scale: float) -> np.ndarray:
    """Source coordinate of each output index (ONNX Resize coordinate_transformation_mode)."""
    x = np.arange(out_size, dtype=np.float64)
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if out_size > 1 else np.zeros(out_size)
    if mode == "align_corners":
        return x * (in_size - 1) / (out_size - 1) if out_size > 1 else np.zeros(out_size)
    if mode == "asymmetric":
        return x / scale
    if mode == "tf_half_pixel_for_nn":
        return (x + 0.5) / scale
    if mode == "half_pixel_symmetric":
        adj = out_size / (scale * in_size)
        center = in_size / 2
        return center * (1 - adj) + (x + 0.5) / scale - 0.5
    raise ValueError(mode)


def onnx_nearest(coords: np.ndarray, rounding: str, in_size: int) -> np.ndarray:
    if rounding == "round_prefer_floor":
        idx = np.where(coords - np.floor(coords) == 0.5, np.floor(coords), np.round(coords))
    elif rounding == "round_prefer_ceil":
        idx = np.where(coords - np.floor(coords) == 0.5, np.ceil(coords), np.round(coords))
    elif rounding == "floor":
        idx = np.floor(coords)
    else:
        idx = np.ceil(coords)
    return np.clip(idx, 0, in_size - 1).astype(np.int64)


def tflite_nearest(out_size: int, in_size: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """TFLite's reference nearest-neighbour source index (float32 arithmetic)."""
    x = np.arange(out_size, dtype=np.float32)
    if align_corners and out_size > 1:
        scale = np.float32(in_size - 1) / np.float32(out_size - 1)
    else:
        scale = np.float32(in_size) / np.float32(out_size)
    offset = np.float32(0.5 if half_pixel else 0.0)
    v = (x + offset) * scale
    idx = np.sign(v) * np.floor(np.abs(v) + 0.5) if align_corners else np.floor(v)
    idx = np.minimum(idx.astype(np.int64), in_size - 1)
    return np.maximum(idx, 0) if half_pixel else idx


def _sizes_and_scales(ctx, node, in_shape, out_shape):
    scales = None
    if node.op_type == "Upsample":
        scales = ctx.require_const(node, 1, "scales") if ctx.has_input(node, 1) else np.array(ctx.attr(node, "scales"))
    elif ctx.opset < 11:  # Resize-10: (X, scales)
        scales = ctx.require_const(node, 1, "scales")
    elif ctx.has_input(node, 2) and ctx.const(node, 2) is not None and ctx.const(node, 2).size:
        scales = ctx.const(node, 2)
    if scales is not None and node.attrs.get("axes") is not None:
        full = np.ones(len(in_shape))
        full[[a % len(in_shape) for a in node.attrs["axes"]]] = np.asarray(scales).reshape(-1)
        scales = full
    if scales is None:
        scales = np.array(out_shape, np.float64) / np.array(in_shape, np.float64)
    return out_shape, [float(s) for s in np.asarray(scales).reshape(-1)]


@rule("Resize", "Upsample")
def resize(ctx, node):
    x = ctx.tensor(node, 0)
    out = ctx.output(node, 0)
    in_shape = tuple(ctx.ir(x).shape)
    if len(in_shape) not in (3, 4):
        raise ctx.unsupported(node, f"rank-{len(in_shape)} input (only [N, C, L] and [N, C, H, W])")
    for i, what in ((1, "roi"), (2, "scales"), (3, "sizes")) if ctx.opset >= 11 else ((1, "scales"),):
        if node.op_type == "Resize" and ctx.has_input(node, i) and ctx.const(node, i) is None:
            raise ctx.unsupported(node, f"{what} computed at run time")
    out_shape, scales = _sizes_and_scales(ctx, node, in_shape, tuple(ctx.ir(out).shape))
    if out_shape[:2] != in_shape[:2]:
        raise ctx.unsupported(node, "resizes the batch or channel axis")
    if ctx.attr(node, "antialias", 0) and any(o < i for o, i in zip(out_shape[2:], in_shape[2:])):
        raise ctx.unsupported(node, "antialias downscaling")
    if ctx.attr(node, "keep_aspect_ratio_policy", "stretch") != "stretch":
        scales = [o / i for o, i in zip(out_shape, in_shape)]
    mode = ctx.attr(node, "mode", "nearest")
    coord = ctx.attr(node, "coordinate_transformation_mode", "half_pixel" if node.op_type == "Resize" else "asymmetric")
    if node.op_type == "Upsample" or ctx.opset < 11:
        coord = "asymmetric"
    rounding = ctx.attr(node, "nearest_mode", "round_prefer_floor" if node.op_type == "Resize" else "floor")
    if node.op_type == "Upsample" or ctx.opset < 11:
        rounding = "floor"
    one_d = len(in_shape) == 3
    if one_d:
        x = expand_1d(ctx, x)
        in_shape, out_shape, scales = in_shape[:2] + (1,) + in_shape[2:], out_shape[:2] + (1,) + out_shape[2:], \
            scales[:2] + [1.0] + scales[2:]
    y = ctx.temp(out_shape, ctx.ir(out).dtype, f"{node.outputs[0]}_2d") if one_d else out
    if mode == "nearest":
        _nearest(ctx, node, x, y, in_shape, out_shape, scales, coord, rounding)
    elif mode == "linear":
        if coord != "align_corners" and any(abs(scales[a] - out_shape[a] / in_shape[a]) > 1e-6 * scales[a]
                                            for a in (2, 3)):
            # ONNX samples at 1 / scale, TFLite at in / out: equal only when in * scale is whole
            raise ctx.unsupported(node, f"linear with scales {scales[2:]} that do not give whole output sizes")
        _linear(ctx, node, x, y, out_shape, coord)
    else:
        raise ctx.unsupported(node, f"mode {mode!r}")
    if one_d:
        squeeze_1d(ctx, y, out)


def _nearest(ctx, node, x, y, in_shape, out_shape, scales, coord, rounding):
    try:
        wanted = [onnx_nearest(onnx_coordinates(coord, out_shape[a], in_shape[a], scales[a]), rounding, in_shape[a])
                  for a in (2, 3)]
    except ValueError:
        raise ctx.unsupported(node, f"coordinate_transformation_mode {coord!r}") from None
    for align, half in ((False, False), (False, True), (True, False)):
        if all(np.array_equal(wanted[k], tflite_nearest(out_shape[a], in_shape[a], align, half))
               for k, a in enumerate((2, 3))):
            size = ctx.add_const(np.array(out_shape[2:], np.int32), "size")
            ctx.emit("RESIZE_NEAREST_NEIGHBOR", [x, size], [y], {"align_corners": align, "half_pixel_centers": half},
                     layout="NCHW")
            return
    t = ctx.ir(x)
    rows = ctx.temp(t.shape[:2] + (out_shape[2], t.shape[3]), t.dtype, f"{node.outputs[0]}_rows")
    ctx.emit("GATHER", [x, ctx.add_const(wanted[0].astype(np.int32), "rows")], [rows], {"axis": 2, "batch_dims": 0})
    ctx.emit("GATHER", [rows, ctx.add_const(wanted[1].astype(np.int32), "cols")], [y], {"axis": 3, "batch_dims": 0})


def _linear(ctx, node, x, y, out_shape, coord):
    flags = {"align_corners": (True, False), "asymmetric": (False, False), "half_pixel": (False, True),
             "pytorch_half_pixel": (False, True)}
    if coord not in flags or (coord == "pytorch_half_pixel" and min(out_shape[2:]) == 1):
        raise ctx.unsupported(node, f"linear with coordinate_transformation_mode {coord!r}")
    align, half = flags[coord]
    size = ctx.add_const(np.array(out_shape[2:], np.int32), "size")
    ctx.emit("RESIZE_BILINEAR", [x, size], [y], {"align_corners": align, "half_pixel_centers": half}, layout="NCHW")
