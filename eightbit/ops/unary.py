"""Elementwise math of one input (TFLite kernels/elementwise.cc, exp.cc, neg.cc)."""

from __future__ import annotations

from eightbit.ops.base import OpSpec, Sig, by_type, keep

_F_I8_I16 = ("float32", "int8", "int16")
_LUT = by_type({"INT8": 2, "INT16": 2})


def _abs(s: Sig) -> int:
    if s.t0 == "INT32":
        return 5
    if s.t0 == "INT16":
        return 3 if s.quantized(0) else 4
    return 2 if s.t0 in ("INT8", "UINT8") else 1


ENTRIES = (
    OpSpec("ABS", "AbsOptions", "elementwise.Abs", _F_I8_I16, _abs,
           {1: "1.13.0", 2: "2.4.0", 3: "2.5.0", 4: "2.6.0", 5: None}, newest=3,
           doc="|x|; the int8/int16 kernel rescales when input and output scales differ."),
    OpSpec("SQRT", None, "elementwise.Sqrt", _F_I8_I16, keep, {1: "1.10.0", 2: None}, newest=2,
           doc="Elementwise square root."),
    OpSpec("RSQRT", None, "elementwise.Rsqrt", _F_I8_I16, by_type({"INT16": 3, "INT8": 2}),
           {1: "1.10.0", 2: "2.5.0", 3: None}, newest=3,
           doc="Elementwise 1 / sqrt(x); int8 in fixed point, int16 by lookup table."),
    OpSpec("LOG", None, "elementwise.Log", _F_I8_I16, _LUT, {1: "1.14.0", 2: None}, newest=2,
           doc="Elementwise natural logarithm; int8/int16 by lookup table."),
    OpSpec("EXP", "ExpOptions", "exp.Exp", _F_I8_I16, _LUT, {1: "1.7.0", 2: None}, newest=2,
           doc="Elementwise e^x; int8/int16 by lookup table."),
    OpSpec("SQUARE", "SquareOptions", "elementwise.Square", ("float32",), runtime={1: "1.12.0"},
           doc="Elementwise x * x; float32 only (TFLite has no quantized SQUARE, so PTQ keeps it float)."),
    # The kernel negates int8/int16 values as stored (quantization ignored, as TFLite's does), but
    # TF's quantizer has no NEG in operator_property.cc: PTQ keeps it float.
    OpSpec("NEG", "NegOptions", "neg.Neg", _F_I8_I16, keep, {1: "1.9.0"}, newest=1, ptq=(),
           doc="Elementwise -x (float32, int32, int64; int8/int16 raw values)."),
)
