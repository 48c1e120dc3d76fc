"""Several subgraphs in one interpreter: the session that CALL_ONCE, IF, WHILE and the resource
variable ops share, and the run-time preparation that graphs with them need.

A `Session` belongs to one Interpreter. It owns
- the resource variables (id -> array) and the id of each (container, shared_name), shared by
  every subgraph, persisting across invoke() as LiteRT's do;
- which CALL_ONCE init subgraphs have run;
- one runner per called subgraph, created on first use.

A subgraph holding one of those stateful ops runs "lazily": each operator is prepared when it
is reached, for the shapes its inputs have then, and prepared again only when they change. That
is how WHILE loops whose tensors grow, and IF branches with different output shapes, work; and
it never evaluates the graph on made-up inputs (which would assign variables), as shape
propagation after resize_tensor_input does for ordinary graphs.
"""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError


class Session:
    def __init__(self, model, kernels: str = "fast"):
        self.model = model
        self.kernels = kernels  # the interpreter's kernel choice, for the subgraphs it calls
        self.variables: dict = {}
        self._ids: dict = {}
        self._called_once: set = set()
        self._runners: dict = {}
        self._depth = 0
        # calibration (quantize/calibration.py): called as observe(index, values) after each run of
        # a called subgraph, with every tensor it computed kept
        self.observe = None

    # ---- resource variables -------------------------------------------------------------
    def resource_id(self, container: str, shared_name: str) -> int:
        return self._ids.setdefault((container, shared_name), len(self._ids))

    # ---- subgraphs ----------------------------------------------------------------------
    def check_subgraph(self, op, index: int, n_inputs: int | None = None, n_outputs: int | None = None) -> None:
        n = len(self.model.subgraphs)
        if not 0 < index < n:
            raise ModelError(f"{op.where()}: refers to subgraph {index}; the model has subgraphs 0..{n - 1} "
                             "(and 0, the main graph, cannot be called)")
        sg = self.model.subgraphs[index]
        if n_inputs is not None and len(sg.inputs) != n_inputs:
            raise ModelError(f"{op.where()}: subgraph {index} takes {len(sg.inputs)} inputs, the operator gives {n_inputs}")
        if n_outputs is not None and len(sg.outputs) != n_outputs:
            raise ModelError(f"{op.where()}: subgraph {index} gives {len(sg.outputs)} outputs, the operator has {n_outputs}")

    def runner(self, index: int):
        from eightbit.interpreter.runner import SubgraphRunner  # runner imports this module

        r = self._runners.get(index)
        if r is None:
            r = SubgraphRunner(self.model, index, session=self, lazy=True, kernels=self.kernels)
            self._runners[index] = r
        return r

    def run_subgraph(self, index: int, inputs: list) -> list:
        if self._depth > 64:
            raise RuntimeError(f"subgraph {index}: calls nested more than 64 deep (a recursive model?)")
        r = self.runner(index)
        sg = r.sg
        saved = r.values
        r.values = {}
        for i, v in zip(sg.inputs, inputs):
            r.values[i] = v
        self._depth += 1
        try:
            run_lazily(r, keep_all=self.observe is not None)
            if self.observe is not None:
                self.observe(index, r.values)
            return [np.array(r._value(i, len(sg.operators)), copy=True) for i in sg.outputs]
        finally:
            self._depth -= 1
            r.values = saved if self._depth else {}

    def call_once(self, index: int) -> None:
        if index in self._called_once:
            return
        self._called_once.add(index)  # before running: a failure is not retried, as in TFLite
        self.run_subgraph(index, [])


def variable_default(t, shape) -> np.ndarray:
    """A variable tensor's value after allocation and reset_all_variables (TFLite's
    ResetVariableTensor): its zero point for int8, else 0 (uint8 too: TFLite memsets only int8
    to the zero point)."""
    fill = 0
    if t.type == "INT8" and t.quantized and t.quantization.zero_point.size:
        fill = int(t.quantization.zero_point[0])
    return np.full(shape, fill, t.dtype)


def reset_variable_tensors(runner) -> None:
    """Interpreter.reset_all_variables: every subgraph's `is_variable` tensors back to their
    default (TFLite's Interpreter::ResetVariableTensors walks all subgraphs). Resource variables
    and CALL_ONCE's flag are not variable tensors and keep their state, as in LiteRT: a new
    Interpreter starts a stream over."""
    for r in [runner, *runner.session._runners.values()]:
        for i, t in enumerate(r.sg.tensors):
            if t.is_variable and i not in r.constants:
                r.values[i] = variable_default(t, r.shapes[i])


def is_stateful(kernel) -> bool:
    return bool(getattr(kernel, "stateful", False))


def bind_kernel(kernel, session):
    """The kernel to run: stateful kernel classes get an instance bound to the session."""
    if kernel is not None and is_stateful(kernel) and hasattr(kernel, "bind"):
        return kernel.bind(session)
    return kernel


def allocate_lazily(r) -> None:
    """allocate() of a lazily prepared graph: the ordinary operators are prepared at invoke;
    the stateful ones are checked now (a subgraph index out of range fails here, as in LiteRT)."""
    for k, (op, kernel) in enumerate(zip(r.sg.operators, r.kernels)):
        if is_stateful(kernel):
            r._prepare_one(k, op, kernel)
    r.params = [None] * len(r.sg.operators)
    r.shapes_dirty = False
    r.deferred_shapes = False
    r.lazy_params = {}
    for i, t in enumerate(r.sg.tensors):
        if t.is_variable and i not in r.constants and r.values.get(i) is None:
            r.values[i] = variable_default(t, r.shapes[i])


def run_lazily(r, keep_all: bool) -> None:
    """Run every operator, preparing it for its inputs' current shapes (cached while they hold)."""
    if r.params is None:
        allocate_lazily(r)
    r._check_inputs_set()
    sg = r.sg
    for i in sg.inputs:
        if i in r.values:
            r.shapes[i] = tuple(r.values[i].shape)
    keep = set(sg.outputs) | set(sg.inputs)
    cache = r.lazy_params
    for k, (op, kernel) in enumerate(zip(sg.operators, r.kernels)):
        args = [r._value(i, k) for i in op.inputs]
        key = tuple(None if a is None else (a.shape, a.dtype.str) for a in args)
        hit = cache.get(k)
        if hit is None or hit[0] != key:
            for i, a in zip(op.inputs, args):
                if i >= 0 and i not in r.constants:
                    r.shapes[i] = tuple(a.shape)
            hit = cache[k] = (key, r._prepare_one(k, op, kernel))
        for i, v in zip(op.outputs, r._eval_one(k, op, kernel, hit[1], args)):
            if i >= 0:
                r.values[i] = v
                r.shapes[i] = tuple(v.shape)
        if not keep_all:
            for i in op.inputs:
                if i >= 0 and r._last_use.get(i) == k and i not in keep and i not in r.constants \
                        and not sg.tensors[i].is_variable:
                    r.values.pop(i, None)
