"""Several subgraphs and resource variables (TFLite kernels/call_once.cc, if.cc, while.cc,
var_handle.cc, read_variable.cc, assign_variable.cc). The kernels run through the interpreter's
session (eightbit/interpreter/subgraphs.py); they move values of any type without arithmetic, and
full-integer PTQ keeps them (and the subgraphs they call) as they are."""

from __future__ import annotations

from eightbit.ops.base import OpSpec

_ANY = ("float32", "int8", "uint8", "int16")

ENTRIES = (
    OpSpec("CALL_ONCE", "CallOnceOptions", "control_flow.CallOnce", _ANY, runtime={1: "2.5.0"}, newest=1, ptq=(),
           doc="Runs `init_subgraph_index` once per interpreter (variable initialisation); no inputs or outputs."),
    OpSpec("IF", "IfOptions", "control_flow.If", _ANY, runtime={1: "1.15.0"}, newest=1, ptq=(),
           doc="Runs the then- or else-subgraph on inputs 1.. according to the boolean input 0."),
    OpSpec("WHILE", "WhileOptions", "control_flow.While", _ANY, runtime={1: "1.15.0"}, newest=1, ptq=(),
           doc="Runs the body subgraph while the cond subgraph returns true; shapes may change per iteration."),
    OpSpec("VAR_HANDLE", "VarHandleOptions", "variables.VarHandle", _ANY, runtime={1: "2.6.0"}, newest=1, ptq=(),
           doc="A resource handle to the variable named by (container, shared_name), kept in the session."),
    OpSpec("READ_VARIABLE", "ReadVariableOptions", "variables.ReadVariable", _ANY, runtime={1: "2.6.0"}, newest=1, ptq=(),
           doc="The current value of a resource variable."),
    OpSpec("ASSIGN_VARIABLE", "AssignVariableOptions", "variables.AssignVariable", _ANY, runtime={1: "2.6.0"}, newest=1, ptq=(),
           doc="Stores input 1 into the resource variable of input 0; it persists across invoke()."),
)
