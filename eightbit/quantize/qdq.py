"""Fold DEQUANTIZE -> op -> QUANTIZE patterns of an imported QDQ graph into integer TFLite ops.

First version: a no-op placeholder so the converter can call it; the fold lands next.
"""

from __future__ import annotations

from eightbit.ir import Model


def fold_qdq(model: Model) -> list[str]:
    """Rewrite `model` in place; return one line per tensor whose parameters changed or stayed float."""
    return []
