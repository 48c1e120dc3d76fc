"""What every importer returns (see docs/design/importers.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from eightbit.ir import Model


@dataclass
class ImportedGraph:
    model: Model  # one subgraph, TFLite builtins, shapes and axes in the source's layout
    layout: str = "NCHW"  # "NCHW" (ONNX, torch) or "NHWC" (Keras)
    notes: list = field(default_factory=list)  # lines for converter.report
    quantized: bool = False  # already carries integer quantization (QDQ / QOperator import)

    def __post_init__(self):
        if self.layout not in ("NCHW", "NHWC"):
            raise ValueError(f"layout must be 'NCHW' or 'NHWC', got {self.layout!r}")
