"""Math the importers and real models need (TFLite kernels/pow.cc, floor.cc, ceil.cc, round.cc,
sign.cc, elementwise.cc, logical.cc, ...): plain functions of the stored values, no quantized
kernel, so full-integer PTQ keeps them float."""

from __future__ import annotations

from eightbit.ops.base import OpSpec, Sig, by_type, keep

_F = ("float32",)


def _floor_div(s: Sig) -> int:
    return by_type({"INT8": 3, "INT16": 3, "FLOAT32": 2})(s)


ENTRIES = (
    OpSpec("POW", "PowOptions", "pow.Pow", _F, keep, {1: "1.10.0"}, newest=1,
           doc="x ** y with broadcasting, float32 and int32 (int32: the double power, INT32_MIN where it overflows)."),
    OpSpec("FLOOR", None, "floor.Floor", _F, keep, {1: "1.9.0"}, newest=1, doc="Elementwise floor (float32, float16)."),
    OpSpec("CEIL", None, "ceil.Ceil", _F, keep, {1: "1.14.0"}, newest=1, doc="Elementwise ceil (float32)."),
    OpSpec("ROUND", None, "round.Round", _F, keep, {1: "1.14.0"}, newest=1,
           doc="Elementwise round half to even (float32, float16)."),
    OpSpec("SIGN", None, "sign.Sign", _F, by_type({"INT32": 2}), {1: None, 2: None}, newest=2,
           doc="-1, 0 or 1 of the input's type (float32, float64, int32); NaN stays NaN."),
    OpSpec("SIN", None, "elementwise_trig.Sin", _F, keep, {1: "1.9.0"}, newest=1, doc="Elementwise sine (float32, float16)."),
    OpSpec("COS", None, "elementwise_trig.Cos", _F, keep, {1: "1.14.0"}, newest=1,
           doc="Elementwise cosine (float32, float16)."),
    OpSpec("FLOOR_DIV", "FloorDivOptions", "floor_div.FloorDiv", _F, _floor_div,
           {1: "1.14.0", 2: "1.14.0", 3: None}, newest=3,
           doc="floor(x / y) with broadcasting on the raw values (float32, int8, int16, int32)."),
    OpSpec("FLOOR_MOD", "FloorModOptions", "floor_mod.FloorMod", _F, by_type({"INT8": 2, "INT16": 2}),
           {1: "1.13.0", 2: None}, newest=2,
           doc="x - floor(x / y) * y with broadcasting on the raw values (float32, int8 ... int64)."),
    OpSpec("LOGICAL_AND", "LogicalAndOptions", "logical.LogicalAnd", (), keep, {1: "1.11.0"}, newest=1,
           doc="bool and, broadcasting."),
    OpSpec("LOGICAL_OR", "LogicalOrOptions", "logical.LogicalOr", (), keep, {1: "1.11.0"}, newest=1,
           doc="bool or, broadcasting."),
    OpSpec("LOGICAL_NOT", "LogicalNotOptions", "logical.LogicalNot", (), keep, {1: "1.11.0"}, newest=1,
           doc="bool not."),
)

# Reductions (TFLite kernels/reduce.cc).
ENTRIES += (
    OpSpec("REDUCE_PROD", "ReducerOptions", "reduce_prod.ReduceProd", ("float32", "int8", "int16"),
           by_type({"INT8": 2, "INT16": 2}), {1: "1.11.0", 2: "2.6.0"}, newest=2, non_float_inputs=(1,),
           doc="Product over the axes of input 1; int8/int16 rescale every step by input_scale / output_scale^(1/n)."),
    OpSpec("REDUCE_ANY", "ReducerOptions", "reduce_prod.ReduceAny", (), keep, {1: "1.11.0"}, newest=1,
           non_float_inputs=(1,), doc="bool any over the axes of input 1."),
    OpSpec("REDUCE_ALL", "ReducerOptions", "reduce_prod.ReduceAll", (), keep, {1: "2.6.0"}, newest=1,
           non_float_inputs=(1,), doc="bool all over the axes of input 1."),
)

# Activations and normalization (TFLite kernels/activations.cc, local_response_norm.cc); TF's
# quantizer (operator_property.cc) lists neither, so PTQ keeps them float.
ENTRIES += (
    OpSpec("RELU_0_TO_1", None, "relu_0_to_1.Relu0To1", ("float32", "int8", "uint8"), keep, {1: "2.10.0"},
           newest=1, ptq=(), doc="min(max(x, 0), 1); int8/uint8 requantize to the output scale, then clamp."),
    OpSpec("LOCAL_RESPONSE_NORMALIZATION", "LocalResponseNormalizationOptions",
           "local_response_norm.LocalResponseNormalization", _F, keep, {1: "1.5.0"}, newest=1,
           doc="x / (bias + alpha * sum of squares over 2 * radius + 1 channels) ** beta, float32."),
)

# More ops the importers emit (ONNX Sum / Atan / shape arithmetic); none is in operator_property.cc,
# so PTQ keeps them float.
ENTRIES += (
    OpSpec("ADD_N", "AddNOptions", "add_n.AddN", _F, keep, {1: "1.14.0"}, newest=1,
           doc="The sum of N inputs of one shape (float32, int32), added in input order."),
    OpSpec("ATAN2", None, "atan2.Atan2", _F, keep, {1: "2.10.0"}, newest=1,
           doc="atan2(y, x) elementwise (float32, float64), inputs of one shape."),
    OpSpec("RANK", "RankOptions", "rank.Rank", ("float32", "int8", "uint8", "int16"), keep, {1: "1.14.0"},
           newest=1, ptq=(), doc="The input's number of dimensions (int32 scalar)."),
    OpSpec("BROADCAST_ARGS", None, "broadcast_args.BroadcastArgs", (), keep, {1: "2.6.0"}, newest=1,
           doc="The shape two int32 / int64 shapes broadcast to."),
)
