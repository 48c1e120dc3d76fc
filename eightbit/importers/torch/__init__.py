"""PyTorch import through torch.export: `import_torch(module, example_inputs, dynamic_shapes=None)`.

The exported core-ATen graph is lowered one node at a time by rules (rules.py) that restate each
ATen op in the vocabulary of the ONNX importer's lowering rules (eightbit/importers/onnx/rules):
those rules already emit TFLite builtins in NCHW for every Conv/pool/resize/normalization variant,
so both importers share one lowering and the same layout pass. No ONNX package is needed.
"""

from eightbit.importers.torch.importer import import_torch

__all__ = ["import_torch"]
