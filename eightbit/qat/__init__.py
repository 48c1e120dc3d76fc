"""Quantization-aware training for PyTorch models (needs the `torch` extra).

`fake_quant` / `FakeQuant` simulate TFLite's quantization in the forward pass with TensorFlow's
FakeQuantWithMinMaxVars semantics (eightbit.qat.fake_quant). Importing eightbit does not import
torch; importing this package does.
"""

from eightbit.qat.fake_quant import FakeQuant, fake_quant, nudge, quant_range

__all__ = ["FakeQuant", "fake_quant", "nudge", "quant_range"]
