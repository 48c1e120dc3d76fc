"""QUANTIZE and DEQUANTIZE: the conversions between float and the integer types."""

from __future__ import annotations

from eightbit.ops.base import ALL, OpSpec, Sig


def _dequantize(s: Sig) -> int:
    if s.t0 == "INT4":
        return 6
    if s.t0 in ("INT16", "FLOAT16"):
        return 3
    if s.t0 == "INT8":
        return 5 if s.per_channel(0) else 2
    return 1


def _quantize(s: Sig) -> int:
    if s.t0 == "INT4" or s.o0 == "INT4":
        return 4
    if s.per_channel(0, outputs=True):
        return 3
    return 2 if s.o0 == "INT16" else 1


ENTRIES = (
    OpSpec("QUANTIZE", "QuantizeOptions", "quantize.Quantize", ALL, _quantize,
           {1: "1.14.0", 2: "1.15.0", 3: "2.7.0", 4: None}, newest=6,
           doc="float -> int8/uint8/int16 (per tensor or per channel), or an integer requantization."),
    OpSpec("DEQUANTIZE", "DequantizeOptions", "dequantize.Dequantize", ALL, _dequantize,
           {1: "1.13.1", 2: "1.14.0", 3: "1.15.0", 4: "2.2.0", 5: "2.7.0", 6: None}, newest=9,
           doc="int8/uint8/int16 (per tensor or per channel) or float16 -> float32."),
)
