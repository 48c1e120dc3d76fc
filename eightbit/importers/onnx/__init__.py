"""ONNX importer: `import_onnx(model, input_shapes=None) -> ImportedGraph` (NCHW source layout)."""

from eightbit.importers.onnx.importer import import_onnx

__all__ = ["import_onnx"]
