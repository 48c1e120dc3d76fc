"""Activations (TFLite kernels/activations.cc, gelu.cc, l2norm.cc). Quantized kernels requantize
input scale to output scale unless the output quantization is fixed (LOGISTIC, TANH, SOFTMAX, ...)."""

from __future__ import annotations

from eightbit.ops.base import ALL, OpSpec, Sig, by_type, keep

_Q2 = ("float32", "int8", "uint8")
_INT8_INT16 = by_type({"INT16": 3, "INT8": 2})


def _logistic_tanh(s: Sig) -> int:
    if s.t0 == "INT16" and s.o0 == "INT16":
        return 3
    return 2 if s.t0 == "INT8" else 1


ENTRIES = (
    OpSpec("RELU", None, "activations.Relu", ALL, by_type({"INT16": 3, "INT8": 2, "UINT8": 2}),
           {1: "1.5.0", 2: "2.1.0", 3: "2.5.0"}, newest=3, doc="max(0, x)."),
    OpSpec("RELU6", None, "activations.Relu6", ALL, _INT8_INT16, {1: "1.5.0", 2: "1.14.0", 3: "2.5.0"}, newest=3,
           doc="min(max(0, x), 6)."),
    OpSpec("RELU_N1_TO_1", None, "activations.ReluN1To1", _Q2, keep, {1: "1.5.0"}, newest=1,
           doc="Clamp to [-1, 1]; no int16 kernel in TFLite."),
    OpSpec("LEAKY_RELU", "LeakyReluOptions", "activations.LeakyRelu", ALL, by_type({"INT16": 2}),
           {1: "1.13.1", 2: "2.3.0"}, newest=2, doc="x if x > 0 else alpha * x; independent scales."),
    # A constant alpha is stored like a weight: symmetric int8, one scale for the tensor (TFLite's
    # reference kernel takes a single alpha scale and zero point).
    OpSpec("PRELU", None, "activations.Prelu", _Q2, keep, {1: "1.8.0"}, newest=1, weight_inputs=(1,),
           doc="x if x >= 0 else alpha * x, alpha (input 1) broadcast against x. No int16 kernel."),
    OpSpec("ELU", None, "activations.Elu", ("float32", "int8"), keep, {1: "1.14.0"}, newest=1,
           doc="x if x >= 0 else exp(x) - 1. TFLite's quantized kernel is int8 only (a lookup table)."),
    OpSpec("HARD_SWISH", None, "activations.HardSwish", _Q2, keep, {1: "1.15.0"}, newest=1,
           doc="x * relu6(x + 3) / 6; int8/uint8 fixed-point kernel, independent scales, no int16."),
    OpSpec("LOGISTIC", None, "activations.Logistic", ALL, _logistic_tanh, {1: "1.14.0", 2: "1.14.0", 3: "2.3.0"},
           newest=3, fixed_output={"INT8": (1.0 / 256, -128), "UINT8": (1.0 / 256, 0), "INT16": (1.0 / 32768, 0)},
           doc="1 / (1 + exp(-x)); fixed output quantization (checked by TFLite's Prepare)."),
    OpSpec("TANH", None, "activations.Tanh", ALL, _logistic_tanh, {1: "1.14.0", 2: "1.14.0", 3: "2.3.0"},
           newest=3, fixed_output={"INT8": (1.0 / 128, 0), "UINT8": (1.0 / 128, 128), "INT16": (1.0 / 32768, 0)},
           doc="tanh; fixed output quantization [-1, 1) on 1/128 (8-bit) or 1/32768 (int16)."),
    OpSpec("SOFTMAX", "SoftmaxOptions", "activations.Softmax", ALL, _INT8_INT16,
           {1: "1.5.0", 2: "1.14.0", 3: "2.3.0"}, newest=3,
           fixed_output={"INT8": (1.0 / 256, -128), "UINT8": (1.0 / 256, 0), "INT16": (1.0 / 32768, 0)},
           doc="exp(beta * x) normalised over the last axis; fixed output quantization."),
    OpSpec("LOG_SOFTMAX", "LogSoftmaxOptions", "activations.LogSoftmax", _Q2, by_type({"INT8": 2}),
           {1: "1.14.0", 2: "1.14.0"}, newest=2, fixed_output={"INT8": (16.0 / 256, 127), "UINT8": (16.0 / 256, 255)},
           doc="log softmax over the last axis; fixed output quantization [-16, 0] on 1/16; no int16 kernel."),
    OpSpec("GELU", "GeluOptions", "gelu.Gelu", ALL, by_type({"INT8": 2, "UINT8": 2}), {1: "2.9.0", 2: "2.9.0"},
           newest=2, doc="Exact (erf) or tanh-approximate (GeluOptions.approximate) GELU; quantized: lookup tables."),
    OpSpec("L2_NORMALIZATION", "L2NormOptions", "l2norm.L2Normalization", _Q2,
           lambda s: 2 if s.o0 == "INT8" else 1, {1: "1.5.0", 2: "1.14.0"}, newest=2,
           fixed_output={"INT8": (1.0 / 128, 0), "UINT8": (1.0 / 128, 128)},
           doc="x / ||x|| over the last axis; fixed output quantization [-1, 1) on 1/128; no int16."),
)
