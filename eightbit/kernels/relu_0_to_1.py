"""RELU_0_TO_1 (TFLite kernels/activations.cc): min(max(x, 0), 1). float32, and int8 / uint8
requantized like RELU (the input - zero point rescaled to the output scale, then clamped to the
quantized 0 and 1); LiteRT 2.3.0 runs no int16."""

from __future__ import annotations

from eightbit.kernels.activations import _ReluX


class Relu0To1(_ReluX):
    act_min = 0.0
    act_max = 1.0
    quantized_types = ("INT8", "UINT8")
