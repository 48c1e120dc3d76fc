"""The whole-graph runner: a small model's operators compiled into one program, run in one call.

Per operator, invoke() through the plan (plan.py) costs ~10 us of Python (argument lists, numpy
allocations, a compiled call per kernel): for a model of a few thousand multiply-adds per
operator that is nearly all of its time. At allocate_tensors, when every operator of the subgraph
is one the runner covers (OPS below, their types and options as the reference kernels accept
them) and the model is small (MAX_MACS), `build` lays it out as a program for
eightbit/kernels/fast/graph.py's `run_graph` (the same compiled function for every model):
- the records take their numbers from the reference kernels' own prepare (multipliers, shifts,
  zero points, clamps, tables: no float math on scales here);
- the activations live at the offsets of interpreter/memory_plan.py's lifetime plan in one arena;
  the model's inputs, and constants an operator reads as an activation (ADD's second operand),
  get regions of their own after it, so the inputs survive the invoke (get_tensor on an input);
- the model's input arrays in `runner.values` ARE views of the arena (set_tensor copies into
  them), the outputs become views of it after each invoke (get_tensor copies them out).
Anything else (an operator or type not covered, variables, a big model, EIGHTBIT_GRAPH_RUNNER=0)
keeps the operator-by-operator plan; so do calibration (observe) and preserve_all_tensors runs.
"""

from __future__ import annotations

import math
import os

import numpy as np

from eightbit.interpreter import graph_records as rec
from eightbit.interpreter.memory_plan import ALIGN, plan_memory

MAX_MACS = 4_000_000  # above this the BLAS and threaded kernels of the plan win


def enabled() -> bool:
    return os.environ.get("EIGHTBIT_GRAPH_RUNNER", "1") not in ("0", "")


class GraphProgram:
    """A compiled-once program for one allocation of a runner (its params and shapes)."""

    def __init__(self, params, fn, prog, fpar, arena, consts, inputs, outputs):
        self.params = params  # the runner's params it was built for: stale after a re-allocation
        self.fn, self.prog, self.fpar, self.arena, self.consts = fn, prog, fpar, arena, consts
        self.inputs = inputs  # [(tensor index, arena view)]
        self.outputs = outputs

    def input_buffer(self, i):
        """The arena view of model input i (None for other tensors)."""
        for j, view in self.inputs:
            if j == i:
                return view
        return None

    def run(self, values: dict) -> bool:
        """One invoke; False when an input is not set or an operator met an input the reference
        rejects (the caller then runs the plan, which raises the reference's error)."""
        for i, view in self.inputs:
            v = values.get(i)
            if v is not view:
                if v is None:
                    return False
                np.copyto(view, v)
        if self.fn(self.prog, self.fpar, self.arena, self.consts) >= 0:
            return False
        for i, view in self.outputs:
            values[i] = view
        return True


def build(runner) -> GraphProgram | None:
    """The program of a prepared runner, or None when the graph is not one the runner covers."""
    if not _eligible(runner) or _macs_at_least(runner) > MAX_MACS \
            or not all(rec.covers(runner, op) for op in runner.sg.operators):
        return None  # decided before numba is imported: a model it cannot run never loads it
    run_graph = _compiled()
    if run_graph is None:
        return None
    folded = _fold_constants(runner)
    if folded is None:
        return None
    layout = _Layout(runner, folded)
    if layout.failed:
        return None
    records, macs = [], 0
    for k, op in enumerate(runner.sg.operators):
        if op.outputs and all(i in folded for i in op.outputs if i >= 0):
            continue  # its outputs are constants of the program
        made = rec.record_for(runner, k, op, layout)
        if made is None:
            return None
        records.append(made[0])
        macs += made[1]
        if macs > MAX_MACS:
            return None
    prog = np.concatenate([np.array([len(records)], np.int64)] + [np.asarray(r, np.int64) for r in records])
    inputs = [(i, layout.view(i)) for i in runner.sg.inputs]
    for i, view in inputs:
        old = runner.values.get(i)
        if old is not None and old.shape == view.shape and old.dtype == view.dtype:
            view[...] = old
            runner.values[i] = view  # set_tensor writes into the arena from now on
    outputs = [(i, layout.view(i)) for i in runner.sg.outputs]
    return GraphProgram(runner.params, run_graph, prog, np.asarray(layout.fpar, np.float32),
                        layout.arena, layout.consts.buffer(), inputs, outputs)


_COMPILED: list = []


def _compiled():
    """eightbit.kernels.fast.graph with run_graph compiled (or loaded from the disk cache), or None
    when that fails here (numba or LLVM missing a feature): tried once per process."""
    if not _COMPILED:
        try:
            from eightbit.kernels.fast import graph_api

            run_graph = graph_api.run_graph_kernel()
            empty = np.zeros(1, np.int64)
            run_graph(empty, np.zeros(1, np.float32), np.zeros(64, np.uint8), np.zeros(8, np.uint8))
            _COMPILED.append(run_graph)
        except Exception:  # noqa: BLE001 - whatever broke, the plan runs every model as before
            _COMPILED.append(None)
    return _COMPILED[0]


def _fold_constants(runner) -> dict | None:
    """{tensor: value} of the operators whose inputs are all constants (DEQUANTIZE of float16
    weights, a shape computed from constants): their reference eval, once, at build. None when
    one of them is a model output or its eval fails (the plan then runs the model)."""
    from eightbit.kernels.registry import get_kernel

    constants = dict(runner.constants)
    folded = {}
    for k, op in enumerate(runner.sg.operators):
        ins = [i for i in op.inputs if i >= 0]
        if not ins or any(i not in constants for i in ins):
            continue
        if any(i in runner.sg.outputs for i in op.outputs) or runner.lazy:
            return None
        kernel = get_kernel(op.op_type) if op.op_type != "CUSTOM" else None
        if kernel is None:
            return None
        try:
            with np.errstate(all="ignore"):
                params = kernel.prepare(runner.op_context(k))
                out = kernel.eval(params, *[None if i < 0 else constants[i] for i in op.inputs])
        except Exception:  # noqa: BLE001 - the plan raises the reference's error at invoke
            return None
        out = out if isinstance(out, (tuple, list)) else (out,)
        for i, v in zip(op.outputs, out):
            if i >= 0:
                v = np.asarray(v)
                if v.dtype != runner.dtypes[i] or tuple(v.shape) != tuple(runner.shapes[i]):
                    return None
                constants[i] = folded[i] = v
    return folded


_FILTER_DIMS = {"CONV_2D": slice(1, None), "FULLY_CONNECTED": slice(1, None), "DEPTHWISE_CONV_2D": slice(1, 3)}


def _macs_at_least(runner) -> int:
    """The multiply-adds record_for will count, from the shapes alone (outputs x the filter's
    taps per output), so that a big model is turned down before its layout is built; operators on
    constant inputs (possibly folded away) are not counted."""
    total = 0
    for op in runner.sg.operators:
        dims = _FILTER_DIMS.get(op.op_type)
        if dims is None or len(op.inputs) < 2 or op.inputs[0] in runner.constants or op.inputs[1] < 0 \
                or not op.outputs or op.outputs[0] < 0:
            continue
        total += math.prod(runner.shapes[op.outputs[0]]) * math.prod(runner.shapes[op.inputs[1]][dims])
    return total


def _eligible(runner) -> bool:
    sg = runner.sg
    if not enabled() or runner.kernel_mode != "fast" or runner.preserve_all or runner.lazy \
            or runner.deferred_shapes or not sg.operators:
        return False
    from eightbit.kernels.fast.jit import HAVE_NUMBA

    if not HAVE_NUMBA:
        return False
    if any(t.is_variable for t in sg.tensors) or set(sg.inputs) & set(sg.outputs):
        return False
    if any(i in runner.constants for i in list(sg.inputs) + list(sg.outputs)):
        return False
    return all(0 not in runner.shapes[i] for op in sg.operators for i in list(op.inputs) + list(op.outputs) if i >= 0)


class Consts:
    """Constants packed into one byte buffer, each at an 8-byte aligned offset."""

    def __init__(self):
        self.parts, self.size = [], 0

    def add(self, array) -> int:
        a = np.ascontiguousarray(array)
        off = -(-self.size // 8) * 8
        self.parts.append((off, a))
        self.size = off + a.nbytes
        return off

    def buffer(self) -> np.ndarray:
        buf = np.zeros(self.size // 8 + 1, np.int64).view(np.uint8)
        for off, a in self.parts:
            buf[off:off + a.nbytes] = a.reshape(-1).view(np.uint8)
        return buf


class _Layout:
    """Where each tensor lives: arena offsets (memory plan; inputs and activation-read constants
    after it), the float scalars and the packed constants of the records."""

    def __init__(self, runner, folded: dict):
        self.runner = runner
        self.constants = {**runner.constants, **folded}
        sg = runner.sg
        plan = plan_memory(sg, runner.shapes)
        self.offsets = dict(plan.offsets)
        end = plan.arena_bytes
        self.failed = False
        live = [op for op in sg.operators if not (op.outputs and all(i in folded for i in op.outputs if i >= 0))]
        reads = [[i for i in (op.inputs if op.op_type in rec.CONST_AS_ACTIVATION else op.inputs[:1]) if i >= 0]
                 for op in live]
        # Constants an operator reads as an activation (folded ones too) get regions of their own
        # after the plan's, written once here: the plan may give their bytes to a later tensor.
        extra = list(sg.inputs) + sorted({i for r in reads for i in r if i in self.constants})
        for i in extra:
            self.offsets[i] = end
            end += -(-self.nbytes(i) // ALIGN) * ALIGN
        for op, r in zip(live, reads):
            if any(i not in self.offsets for i in r + [o for o in op.outputs if o >= 0]):
                self.failed = True  # a tensor the plan does not know (omitted from its lifetimes)
        self.arena = np.zeros(max(end, ALIGN), np.uint8)
        for i in extra[len(sg.inputs):]:
            self.view(i)[...] = self.constants[i]
        self.fpar: list = []
        self.consts = Consts()

    def nbytes(self, i) -> int:
        return int(np.prod(self.runner.shapes[i], dtype=np.int64)) * np.dtype(self.runner.dtypes[i]).itemsize

    def view(self, i) -> np.ndarray:
        off = self.offsets[i]
        return self.arena[off:off + self.nbytes(i)].view(self.runner.dtypes[i]).reshape(self.runner.shapes[i])

    def floats(self, *values) -> int:
        """Index of float32 scalars appended to fpar."""
        self.fpar.extend(float(np.float32(v)) for v in values)
        return len(self.fpar) - len(values)
