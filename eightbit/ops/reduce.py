"""Pooling, reductions over axes, ARG_MAX / ARG_MIN, resizing."""

from __future__ import annotations

from eightbit.ops.base import ALL, OpSpec, Sig, by_type

_INT8_INT16 = by_type({"INT16": 3, "INT8": 2})


def _pool(s: Sig) -> int:
    if s.t0 == "INT16" and s.o0 == "INT16":
        return 3
    return 2 if s.t0 == "INT8" else 1


def _resize_bilinear(s: Sig) -> int:
    if s.t0 == "INT16":
        return 4
    if s.options.get("half_pixel_centers"):
        return 3
    return 2 if s.t0 == "INT8" else 1


def _resize_nearest(s: Sig) -> int:
    if s.t0 == "INT16":
        return 4
    if s.options.get("half_pixel_centers") or s.options.get("align_corners"):
        return 3
    return 2 if s.t0 == "INT8" else 1


_ARG = "along the axis in input 1; int32/int64 output (output_type option)."

ENTRIES = (
    OpSpec("AVERAGE_POOL_2D", "Pool2DOptions", "pooling.AveragePool2D", ALL, _pool,
           {1: "1.5.0", 2: "1.14.0", 3: "2.3.0"}, newest=3, same_scale=True,
           doc="Mean over a 2-D window (NHWC); output shares the input's scale and zero point."),
    OpSpec("MAX_POOL_2D", "Pool2DOptions", "pooling.MaxPool2D", ALL, _pool, {1: "1.5.0", 2: "1.14.0", 3: "2.3.0"},
           newest=3, same_scale=True,
           doc="Maximum over a 2-D window (NHWC); output shares the input's scale and zero point."),
    OpSpec("MEAN", "ReducerOptions", "reduce.Mean", ALL, _INT8_INT16, {1: "1.6.0", 2: "1.14.0", 3: "2.4.0"},
           newest=3, non_float_inputs=(1,),
           doc="Average over the axes given by input 1 (keep_dims); requantizes to the output scale."),
    # LiteRT 2.3.0's reference int16 SUM reads the data as bytes: PTQ must not produce int16 SUM.
    OpSpec("SUM", "ReducerOptions", "reduce.Sum", ALL, by_type({"INT8": 2}), {1: "1.10.0", 2: "1.15.0"},
           newest=2, ptq=("int8",), non_float_inputs=(1,),
           doc="Sum over the axes given by input 1 (keep_dims); quantized types requantize."),
    OpSpec("REDUCE_MAX", "ReducerOptions", "reduce.ReduceMax", ALL, _INT8_INT16,
           {1: "1.11.0", 2: "1.14.0", 3: "2.5.0"}, newest=3, same_scale=True, non_float_inputs=(1,),
           doc="Maximum over the axes given by input 1; output shares the input's scale and zero point."),
    OpSpec("REDUCE_MIN", "ReducerOptions", "reduce.ReduceMin", ALL, _INT8_INT16,
           {1: "1.11.0", 2: "1.14.0", 3: "2.5.0"}, newest=3, same_scale=True, non_float_inputs=(1,),
           doc="Minimum over the axes given by input 1; output shares the input's scale and zero point."),
    OpSpec("ARG_MAX", "ArgMaxOptions", "arg_min_max.ArgMax", ("float32", "int8", "uint8"),
           by_type({"BOOL": 3, "INT8": 2}), {1: "1.9.0", 2: "1.14.0", 3: "2.9.0"}, newest=2, non_float_inputs=(1,),
           doc="Index of the largest value " + _ARG),
    OpSpec("ARG_MIN", "ArgMinOptions", "arg_min_max.ArgMin", ("float32", "int8", "uint8"),
           by_type({"BOOL": 3, "INT8": 2}), {1: "1.9.0", 2: "1.14.0", 3: "2.9.0"}, newest=2, non_float_inputs=(1,),
           doc="Index of the smallest value " + _ARG),
    OpSpec("RESIZE_BILINEAR", "ResizeBilinearOptions", "resize_bilinear.ResizeBilinear", ALL, _resize_bilinear,
           {1: "1.7.0", 2: "1.14.0", 3: "2.2.0", 4: "2.5.0"}, newest=4, same_scale=True, non_float_inputs=(1,),
           doc="NHWC bilinear resize to the (height, width) in input 1; shares scale and zero point."),
    OpSpec("RESIZE_NEAREST_NEIGHBOR", "ResizeNearestNeighborOptions", "resize_nearest_neighbor.ResizeNearestNeighbor",
           ALL, _resize_nearest, {1: "1.13.1", 2: "1.14.0", 3: "2.3.0", 4: "2.4.0"}, newest=4, same_scale=True,
           non_float_inputs=(1,),
           doc="NHWC nearest resize to the (height, width) in input 1; shares scale and zero point."),
)
