"""Elementwise ops of two (or three) inputs with broadcasting: arithmetic, MAXIMUM / MINIMUM,
comparisons (BOOL output), SELECT."""

from __future__ import annotations

from eightbit.ops.base import ALL, OpSpec, Sig, by_type

_CMP = ("float32", "int8", "uint8")
_ARITH_DOC = ("with broadcasting and a fused activation; quantized inputs and output have independent "
              "scales (int16: zero points 0)")
_CMP_DOC = ("elementwise comparison with broadcasting (empty options); BOOL output. int8/uint8 inputs keep "
            "their own scales (the kernel rescales both); no int16 kernel.")


def _add(s: Sig) -> int:
    if s.t0 == "INT16" and not s.quantized(0):
        return 5
    if s.t0 == "INT64":
        return 4
    if s.t0 == "INT16" and s.o0 == "INT16" and not s.options.get("pot_scale_int16", True):
        return 3
    return 2 if s.t0 == "INT8" else 1


def _sub(s: Sig) -> int:
    if s.t0 == "INT16" and s.o0 == "INT16" and not s.options.get("pot_scale_int16", True):
        return 5
    if s.t0 == "INT64":
        return 4
    if s.broadcast_above_4d:
        return 3
    return 2 if s.t0 == "INT8" else 1


def _mul(s: Sig) -> int:
    if (s.t0 == "INT16" and not s.quantized(0)) or s.t0 == "UINT32":
        return 7
    if s.t0 == "COMPLEX64":
        return 6
    if s.t0 == "INT64":
        return 5
    if s.t0 == "INT16":
        return 4
    if s.quantized(0) and s.quantized(1) and s.outs and s.outs[0] is not None and s.outs[0].quantized:
        s1, s2, so = (float(s.ins[0].quantization.scale[0]), float(s.ins[1].quantization.scale[0]),
                      float(s.outs[0].quantization.scale[0]))
        if s1 and s2 and so and s1 * s2 / so >= 1.0:
            return 3
    return 2 if s.t0 == "INT8" else 1


def _maximum_minimum(s: Sig) -> int:
    if s.t0 == "INT16" and s.o0 == "INT16":
        return 4
    if s.broadcast_above_4d:
        return 3
    return 2 if s.t0 == "INT8" else 1


def _select(s: Sig) -> int:
    if s.t0 == "UINT32":
        return 4
    if any(s.dims(i) == 5 for i in range(3)):
        return 3
    return 2 if s.t0 == "INT8" else 1


ENTRIES = (
    OpSpec("ADD", "AddOptions", "add.Add", ALL, _add, {1: "1.5.0", 2: "1.14.0", 3: "2.4.0", 4: "2.6.0", 5: None},
           newest=5, doc="x1 + x2 " + _ARITH_DOC + "; pot_scale_int16 picks the legacy int16 path."),
    OpSpec("SUB", "SubOptions", "sub.Sub", ALL, _sub, {1: "1.6.0", 2: "1.14.0", 3: "2.3.0", 4: "2.4.0", 5: "2.4.0"},
           newest=5, doc="x1 - x2 " + _ARITH_DOC + "; pot_scale_int16 picks the legacy int16 path."),
    OpSpec("MUL", "MulOptions", "mul.Mul", ALL, _mul,
           {1: "1.5.0", 2: "1.14.0", 3: "1.15.0", 4: "2.3.0", 5: "2.6.0", 6: None, 7: None}, newest=7,
           doc="x1 * x2 " + _ARITH_DOC + "."),
    # TFLite's old quantizer left DIV float (uint8 kernel only); LiteRT 2.3.0's reference runs uint8,
    # int8 and int16 (zero points allowed), and so does eightbit.
    OpSpec("DIV", "DivOptions", "div.Div", ALL, lambda s: 2 if s.broadcast_above_4d else 1,
           {1: "1.6.0", 2: "2.3.0"}, newest=2, doc="x1 / x2 " + _ARITH_DOC + "."),
    OpSpec("SQUARED_DIFFERENCE", "SquaredDifferenceOptions", "squared_difference.SquaredDifference",
           ("float32", "int8"), by_type({"INT8": 2}), {1: "1.13.1", 2: "2.5.0"}, newest=2,
           doc="(x1 - x2)^2 with broadcasting; quantized: int8 only, independent scales."),
    OpSpec("MAXIMUM", "MaximumMinimumOptions", "maximum_minimum.Maximum", ALL, _maximum_minimum,
           {1: "1.14.0", 2: "1.14.0", 3: "2.3.0", 4: "2.3.0"}, newest=4, same_scale=True, same_scale_inputs=(1,),
           doc="Elementwise maximum with broadcasting; compares raw values, so inputs and output share one scale."),
    OpSpec("MINIMUM", "MaximumMinimumOptions", "maximum_minimum.Minimum", ALL, _maximum_minimum,
           {1: "1.14.0", 2: "1.14.0", 3: "2.3.0", 4: "2.3.0"}, newest=4, same_scale=True, same_scale_inputs=(1,),
           doc="Elementwise minimum with broadcasting; compares raw values, so inputs and output share one scale."),
    OpSpec("LESS", "LessOptions", "comparisons.Less", _CMP, by_type({"INT16": 3, "INT8": 2}),
           {1: "1.14.0", 2: "1.14.0", 3: None}, newest=3, doc="x1 < x2: " + _CMP_DOC),
    OpSpec("LESS_EQUAL", "LessEqualOptions", "comparisons.LessEqual", _CMP, by_type({"INT8": 2}),
           {1: "1.14.0", 2: "1.14.0"}, newest=2, doc="x1 <= x2: " + _CMP_DOC),
    OpSpec("GREATER", "GreaterOptions", "comparisons.Greater", _CMP, by_type({"INT8": 2}),
           {1: "1.14.0", 2: "1.14.0"}, newest=2, doc="x1 > x2: " + _CMP_DOC),
    OpSpec("GREATER_EQUAL", "GreaterEqualOptions", "comparisons.GreaterEqual", _CMP, by_type({"INT16": 3, "INT8": 2}),
           {1: "1.14.0", 2: "1.14.0", 3: None}, newest=3, doc="x1 >= x2: " + _CMP_DOC),
    OpSpec("EQUAL", "EqualOptions", "comparisons.Equal", _CMP, by_type({"INT16": 4, "STRING": 3, "INT8": 2}),
           {1: "1.14.0", 2: "1.14.0", 3: "2.3.0", 4: None}, newest=5, doc="x1 == x2: " + _CMP_DOC),
    OpSpec("NOT_EQUAL", "NotEqualOptions", "comparisons.NotEqual", _CMP, by_type({"STRING": 3, "INT8": 2}),
           {1: "1.14.0", 2: "1.14.0", 3: "2.3.0"}, newest=4, doc="x1 != x2: " + _CMP_DOC),
    OpSpec("SELECT", "SelectOptions", "select.Select", ALL, _select, {1: "1.14.0", 2: "1.14.0", 3: None, 4: None},
           newest=4, same_scale_inputs=(1, 2), non_float_inputs=(0,),
           doc="x where condition else y; condition (BOOL) is a scalar, x's shape, or rank 1 along x's first "
               "dimension; x, y and the output share one scale."),
    OpSpec("SELECT_V2", "SelectV2Options", "select.SelectV2", ALL, by_type({"UINT32": 2}), {1: "2.2.0", 2: None},
           newest=2, same_scale_inputs=(1, 2), non_float_inputs=(0,),
           doc="x where condition else y, all three broadcast; x, y and the output share one scale."),
)
