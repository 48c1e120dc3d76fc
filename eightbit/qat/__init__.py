"""Quantization-aware training for PyTorch models (needs the `torch` extra).

`fake_quant` / `FakeQuant` simulate TFLite's quantization in the forward pass with TensorFlow's
FakeQuantWithMinMaxVars semantics (eightbit.qat.fake_quant). `prepare` rewrites a float module
into a QAT training graph, `convert` exports the trained model to an integer .tflite (docs/qat.md).
Importing eightbit does not import torch; importing this package does.
"""

from eightbit.qat.convert import convert
from eightbit.qat.fake_quant import FakeQuant, fake_quant, nudge, quant_range
from eightbit.qat.modules import ActQuant, FusedLayer, SharedQuant
from eightbit.qat.prepare import QATConfig, prepare

__all__ = ["ActQuant", "FakeQuant", "FusedLayer", "QATConfig", "SharedQuant", "convert", "fake_quant", "nudge",
           "prepare", "quant_range"]
