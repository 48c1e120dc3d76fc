"""IF: multi-subgraph / resource-variable op, run through the interpreter's session; kept float by PTQ."""

from eightbit.ops.base import OpSpec

SPEC = OpSpec("IF", options="IfOptions", quantizable=False, int16=False)
