"""WHILE: multi-subgraph / resource-variable op, run through the interpreter's session; kept float by PTQ."""

from eightbit.ops.base import OpSpec

SPEC = OpSpec("WHILE", options="WhileOptions", quantizable=False, int16=False)
