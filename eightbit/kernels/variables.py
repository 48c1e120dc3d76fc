"""Resource variables: VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE (TFLite kernels/var_handle.cc,
read_variable.cc, assign_variable.cc, resource/resource_variable.cc).

A VAR_HANDLE names a variable by (container, shared_name); every handle with the same names, in
any subgraph, is the same variable, which lives as long as the interpreter (LiteRT's
reset_all_variables leaves it alone: it only zeroes `is_variable` tensors). The handle tensor
holds the variable's int32 id. ASSIGN_VARIABLE stores a copy of its value (the first assignment
fixes nothing: a later one may change the shape); READ_VARIABLE of a never-assigned variable is
an error, as in TFLite.

These kernels keep state, so they are bound to the interpreter's session (`bind(session)`), which
owns the variables (`session.variables`: id -> array) and the id of each name.
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.base import Kernel, OpContext


class SessionKernel(Kernel):
    """A kernel with state: the runner creates one instance per interpreter session."""

    stateful = True
    types = ("float32", "int8", "uint8", "int16")

    def __init__(self, session):
        self.session = session

    @classmethod
    def bind(cls, session):
        return cls(session)


class VarHandle(SessionKernel):
    def prepare(self, op: OpContext):
        o = op.options or {}
        return self.session.resource_id(o.get("container") or "", o.get("shared_name") or "")

    def eval(self, resource_id):
        return np.array(resource_id, np.int32)


class ReadVariable(SessionKernel):
    def prepare(self, op: OpContext):
        out = op.outputs[0]
        return {"where": op.where(), "dtype": out.dtype}

    def eval(self, params, handle):
        rid = int(np.asarray(handle).reshape(-1)[0])
        value = self.session.variables.get(rid)
        if value is None:
            raise RuntimeError(f"{params['where']}: the variable (resource {rid}) is read before any "
                               "ASSIGN_VARIABLE gave it a value")
        if value.dtype != params["dtype"]:
            raise RuntimeError(f"{params['where']}: the variable holds {value.dtype}, the output is {params['dtype']}")
        return value.copy()


class AssignVariable(SessionKernel):
    def prepare(self, op: OpContext):
        return op.where()

    def eval(self, where, handle, value):
        rid = int(np.asarray(handle).reshape(-1)[0])
        self.session.variables[rid] = np.array(value, copy=True)
        return ()
