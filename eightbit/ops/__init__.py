"""The op table: per builtin its options table, kernel, types, quantization constraints and
version rules (ops/base.py OpSpec; entries in the family modules listed in ops/table.py)."""

from eightbit.ops.base import OpSpec, Sig

__all__ = ["OpSpec", "Sig"]
