"""Control flow: CALL_ONCE, IF, WHILE (TFLite kernels/call_once.cc, if.cc, while.cc).

Each runs other subgraphs of the model through the interpreter's session
(`session.run_subgraph(index, inputs) -> outputs`), which prepares them for the shapes they are
given, so a WHILE whose tensors grow from one iteration to the next works as in TFLite.

- CALL_ONCE runs its init subgraph (no inputs, no outputs) the first time it is invoked in the
  interpreter's life, never again (TFLite keeps that flag per interpreter; reset_all_variables
  does not clear it).
- IF runs then/else with inputs 1..n; the condition is input 0's single element (nonzero = then).
- WHILE: cond(values) -> bool tensor; while it is true, values = body(values); outputs = values.
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.base import OpContext
from eightbit.kernels.variables import SessionKernel


def _subgraph(op: OpContext, key: str) -> int:
    index = (op.options or {}).get(key, 0)
    return int(index or 0)


class CallOnce(SessionKernel):
    def prepare(self, op: OpContext):
        index = _subgraph(op, "init_subgraph_index")
        self.session.check_subgraph(op, index, n_inputs=0)
        return index

    def eval(self, index):
        self.session.call_once(index)
        return ()


class If(SessionKernel):
    def prepare(self, op: OpContext):
        then, other = _subgraph(op, "then_subgraph_index"), _subgraph(op, "else_subgraph_index")
        n = len(op.inputs) - 1
        for index in (then, other):
            self.session.check_subgraph(op, index, n_inputs=n, n_outputs=len(op.outputs))
        cond = op.inputs[0]
        if cond is None or int(np.prod(cond.shape, dtype=np.int64)) != 1:
            raise op.unsupported("the condition (input 0) must hold exactly one element")
        return then, other, [o.dtype for o in op.outputs]

    def eval(self, params, cond, *inputs):
        then, other, dtypes = params
        taken = then if bool(np.asarray(cond).reshape(-1)[0]) else other
        outs = self.session.run_subgraph(taken, list(inputs))
        return tuple(np.asarray(v, dtype=d) for v, d in zip(outs, dtypes))


class While(SessionKernel):
    def prepare(self, op: OpContext):
        cond, body = _subgraph(op, "cond_subgraph_index"), _subgraph(op, "body_subgraph_index")
        n = len(op.inputs)
        if len(op.outputs) != n:
            raise op.unsupported(f"WHILE needs as many outputs as inputs ({len(op.outputs)} != {n})")
        self.session.check_subgraph(op, cond, n_inputs=n, n_outputs=1)
        self.session.check_subgraph(op, body, n_inputs=n, n_outputs=n)
        return cond, body

    def eval(self, params, *inputs):
        cond, body = params
        values = [np.array(v, copy=True) for v in inputs]
        while bool(np.asarray(self.session.run_subgraph(cond, values)[0]).reshape(-1)[0]):
            values = [np.array(v, copy=True) for v in self.session.run_subgraph(body, values)]
        return tuple(values)
