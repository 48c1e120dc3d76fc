"""CALL_ONCE: multi-subgraph / resource-variable op, run through the interpreter's session; kept float by PTQ."""

from eightbit.ops.base import OpSpec

SPEC = OpSpec("CALL_ONCE", options="CallOnceOptions", quantizable=False, int16=False)
