"""Shape and data movement: the output holds input values moved around (quantized: the same
scale and zero point), plus SHAPE, CAST, FILL, ZEROS_LIKE and DENSIFY."""

from __future__ import annotations

from eightbit.ops.base import ALL, OpSpec, Sig, by_type, keep

_Q2 = ("float32", "int8", "uint8")


def _transpose(s: Sig) -> int:
    if s.dims(0) > 5:
        return 6
    if s.t0 == "INT16":
        return 5
    if s.dims(0) > 4:
        return 4
    return by_type({"BOOL": 3, "INT8": 2})(s)


def _strided_slice(s: Sig) -> int:
    opt = s.options
    if opt.get("offset"):
        return 8
    if s.t0 == "UINT32":
        return 7
    if opt.get("ellipsis_mask", 0) or opt.get("new_axis_mask", 0):
        return 6
    if s.t0 == "STRING":
        return 5
    if s.dims(0) > 4:
        return 4
    return by_type({"BOOL": 3, "INT8": 2})(s)


def _slice(s: Sig) -> int:
    if s.t0 == "UINT32":
        return 6
    if s.dims(0) > 4:
        return 5
    return by_type({"INT16": 4, "STRING": 3, "INT8": 2})(s)


def _pad(s: Sig) -> int:
    return 4 if s.dims(0) > 4 else by_type({"INT16": 3, "INT8": 2})(s)


def _gather(s: Sig) -> int:
    if s.t0 == "INT4":
        return 7
    if s.t1 == "INT16":
        return 6
    if s.options.get("batch_dims", 0):
        return 5
    return by_type({"INT16": 4, "BOOL": 3, "INT8": 2})(s)


def _pack(s: Sig) -> int:
    if s.t0 == "INT8":
        return 2
    if s.t0 == "INT16" and s.o0 == "INT16":
        return 3
    return 4 if s.t0 == "UINT32" else 1


def _unpack(s: Sig) -> int:
    if s.t0 in ("INT8", "UINT8"):
        return 2
    if s.t0 == "BOOL":
        return 3
    return 4 if s.t0 == "INT16" and s.o0 == "INT16" else 1


def _cast(s: Sig) -> int:
    both = {s.t0, s.o0}
    if "BFLOAT16" in both:
        return 7
    if (s.t0, s.o0) == ("INT4", "FLOAT32"):
        return 6
    if {"FLOAT64", "FLOAT16"} & both:
        return 5
    if "UINT16" in both:
        return 4
    if "INT8" in both:
        return 3
    return 2 if "UINT32" in both else 1


def _fill(s: Sig) -> int:
    if len(s.ins) >= 2:
        return by_type({"FLOAT16": 4, "INT8": 3, "INT16": 3, "BOOL": 2, "STRING": 2}, of=1)(s)
    return 1


ENTRIES = (
    OpSpec("RESHAPE", "ReshapeOptions", "reshape.Reshape", ALL, keep, {1: "1.5.0"}, newest=1, same_scale=True,
           non_float_inputs=(1,), doc="Same data, new shape (the 1-D int32 shape input, else new_shape)."),
    OpSpec("SQUEEZE", "SqueezeOptions", "squeeze.Squeeze", ALL, by_type({"STRING": 2}), {1: "1.6.0", 2: "2.5.0"},
           newest=1, same_scale=True, doc="Drop size-1 dimensions (squeeze_dims, all of them when empty)."),
    OpSpec("EXPAND_DIMS", "ExpandDimsOptions", "expand_dims.ExpandDims", ALL, keep, {1: "1.10.0"}, newest=1,
           same_scale=True, non_float_inputs=(1,),
           doc="Insert a size-1 dimension at the axis given by input 1 (int32/int64 scalar)."),
    OpSpec("TRANSPOSE", "TransposeOptions", "transpose.Transpose", ALL, _transpose,
           {1: "1.6.0", 2: "1.14.0", 3: "1.15.0", 4: "2.3.0", 5: "2.4.0", 6: None}, newest=8, same_scale=True,
           non_float_inputs=(1,), doc="Permute dimensions by the int32 perm input."),
    # Variadic: every input shares the output's parameters (TFLite requires it for int8, and for
    # int16 with zero points 0); the uint8 kernel requantizes inputs whose parameters differ.
    OpSpec("CONCATENATION", "ConcatenationOptions", "concatenation.Concatenation", ALL,
           by_type({"UINT32": 4, "INT16": 3, "INT8": 2}), {1: "1.5.0", 2: "1.14.0", 3: "2.3.0", 4: None}, newest=7,
           same_scale=True, same_scale_inputs=("all",),
           doc="Join inputs along the axis option (fused activation must be NONE)."),
    OpSpec("SPLIT", "SplitOptions", "split.Split", ALL, by_type({"INT16": 4, "INT32": 3, "INT8": 2}, of=1),
           {1: "1.5.0", 2: "1.14.0", 3: "1.14.0", 4: "2.3.0"}, newest=5, same_scale=True, same_scale_inputs=(1,),
           non_float_inputs=(0,),
           doc="Input 0 is the int32 axis, input 1 the tensor, cut into num_splits equal parts."),
    OpSpec("SPLIT_V", "SplitVOptions", "split_v.SplitV", ALL, by_type({"INT8": 2}), {1: "1.13.1", 2: "2.3.0"},
           newest=3, same_scale=True, non_float_inputs=(1, 2),
           doc="Input 0 the tensor, input 1 the size_splits (at most one -1), input 2 the axis."),
    OpSpec("STRIDED_SLICE", "StridedSliceOptions", "strided_slice.StridedSlice", ALL, _strided_slice,
           {1: "1.6.0", 2: "1.14.0", 3: "2.1.0", 4: "2.2.0", 5: "2.5.0", 6: "2.6.0", 7: None, 8: None}, newest=4,
           same_scale=True, non_float_inputs=(1, 2, 3),
           doc="numpy-style strided slicing (begin/end/strides int32 inputs and the five masks)."),
    OpSpec("SLICE", "SliceOptions", "slice.Slice", ALL, _slice,
           {1: "1.14.0", 2: "1.14.0", 3: "1.14.0", 4: "2.4.0", 5: "2.5.0", 6: None}, newest=8, same_scale=True,
           non_float_inputs=(1, 2), doc="A block given by begin and size (int32/int64; size -1 = to the end)."),
    OpSpec("PAD", "PadOptions", "pad.Pad", ALL, _pad, {1: "1.5.0", 2: "1.14.0", 3: "2.4.0", 4: "2.6.0"}, newest=6,
           same_scale=True, non_float_inputs=(1,),
           doc="Pad with zeros (quantized: the output zero point); paddings [rank, 2] int32/int64."),
    OpSpec("PADV2", "PadV2Options", "pad.PadV2", ALL, _pad, {1: "1.9.0", 2: "1.14.0", 3: "2.4.0", 4: "2.6.0"},
           newest=6, same_scale=True, same_scale_inputs=(2,), non_float_inputs=(1,),
           doc="PAD with the constant value of input 2 (quantized: it shares the output's parameters)."),
    OpSpec("GATHER", "GatherOptions", "gather.Gather", ALL, _gather,
           {1: "1.6.0", 2: "1.14.0", 3: "1.15.0", 4: "2.4.0", 5: "2.5.0", 6: None, 7: None}, newest=8,
           same_scale=True, non_float_inputs=(1,),
           doc="Slices along the axis option at the positions of input 1 (batch_dims leading dims shared)."),
    OpSpec("PACK", "PackOptions", "pack.Pack", ALL, _pack, {1: "1.11.0", 2: "1.14.0", 3: "2.3.0", 4: None},
           newest=5, same_scale=True, same_scale_inputs=("all",),
           doc="Stack values_count tensors along a new axis; all share the output's parameters."),
    OpSpec("UNPACK", "UnpackOptions", "unpack.Unpack", ALL, _unpack,
           {1: "1.11.0", 2: "1.14.0", 3: "2.2.0", 4: "2.3.0"}, newest=6, same_scale=True,
           doc="Split along the axis option into num tensors of one rank less."),
    # The output is never quantized, so it imposes no constraint on the input.
    OpSpec("SHAPE", "ShapeOptions", "shape.Shape", ALL, keep, {1: "1.10.0"}, newest=1,
           doc="The input's shape as an int32 or int64 vector (the output tensor's type)."),
    OpSpec("TILE", "TileOptions", "tile.Tile", ALL, by_type({"INT8": 3, "STRING": 2}),
           {1: "1.10.1", 2: "2.2.0", 3: "2.8.0"}, newest=2, same_scale=True, non_float_inputs=(1,),
           doc="Repeat the input multiples[i] times along each axis (multiples int32/int64)."),
    # CAST changes the element type: TF's quantizer never quantizes it.
    OpSpec("CAST", "CastOptions", "cast.Cast", ALL, _cast,
           {1: "1.5.0", 2: "2.7.0", 3: "2.8.0", 4: "2.9.0", 5: None, 6: None, 7: None}, newest=9, ptq=(),
           doc="Element type conversion (C++ static_cast semantics); quantization parameters are ignored."),
    OpSpec("FILL", "FillOptions", "fill.Fill", ALL, _fill, {1: "1.13.0", 2: "2.3.0", 3: "2.5.0", 4: None},
           newest=5, same_scale=True, same_scale_inputs=(1,), non_float_inputs=(0,),
           doc="A tensor of shape dims (input 0) filled with the scalar value (input 1; quantized: same "
               "parameters as the output)."),
    OpSpec("ZEROS_LIKE", "ZerosLikeOptions", "zeros_like.ZerosLike", ("float32",), keep, {1: "1.12.0"}, newest=1,
           doc="Zeros of the input's shape and type (TFLite: float32, int32, int64 only)."),
    # BROADCAST_TO version 1 was rolled back (its op code changed), so versions start at 2.
    OpSpec("BROADCAST_TO", "BroadcastToOptions", "broadcast_to.BroadcastTo", ALL,
           by_type({"INT8": 3, "INT16": 3}, default=2), {2: "2.5.0", 3: "2.5.0"}, newest=4, same_scale=True,
           non_float_inputs=(1,), doc="Broadcast the input to the shape of input 1 (int32/int64)."),
    OpSpec("DEPTH_TO_SPACE", "DepthToSpaceOptions", "depth_to_space.DepthToSpace", _Q2, by_type({"INT8": 2}),
           {1: "2.1.0", 2: "2.5.0"}, newest=1, same_scale=True,
           doc="NHWC, move depth blocks of block_size^2 into space."),
    OpSpec("SPACE_TO_DEPTH", "SpaceToDepthOptions", "space_to_depth.SpaceToDepth", _Q2, by_type({"INT8": 2}),
           {1: "1.5.0", 2: "1.14.0"}, newest=2, same_scale=True,
           doc="NHWC, move block_size x block_size spatial blocks into depth."),
    # DENSIFY expands a sparse constant; the constant keeps its type, so PTQ has nothing to do.
    OpSpec("DENSIFY", "DensifyOptions", "densify.Densify", ("float32", "int8"), keep, {1: "2.2.0"}, newest=1,
           ptq=(), doc="Expands a sparse constant (TFLite SparsityParameters) into its dense form."),
)
