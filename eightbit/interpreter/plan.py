"""The execution plan of a prepared subgraph: what invoke() does per operator, worked out once.

After allocate_tensors() nothing about an operator changes until the next resize or forced
prepare: its kernel, its params, which of its inputs are constants (bound into the argument
template here), which tensors it reads from the run's values, and which tensors die after it
(their last reader). `build_plan` records that per operator (a `Step`); `run_plan` is the loop
invoke() runs, the fast kernels' big outputs made in the runner's arena, laid out by lifetime
(kernels/fast/workspace.py: a steady invoke allocates nothing big). No dictionary look-up of
constants, no per-operator error-state context, no per-run `keep` set. Operators that only give
their input a new shape (RESHAPE, SQUEEZE, EXPAND_DIMS with constant shape arguments) become a
bound reshape to the shape the first run produced: their output depends on nothing but the
input's shape, fixed until the next allocation.

The first invoke after each allocation runs the same loop with each kernel's output count and
dtypes checked (run_plan's `check`, without reshapes bound to shapes not seen yet); those checks
cannot fail later for the same params and input types, so the plan's loop skips them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from eightbit.interpreter.memory_plan import ALIGN, greedy_offsets
from eightbit.kernels.fast import workspace


@dataclass(frozen=True)
class Step:
    k: int  # operator index
    name: str  # "OP vN", for error messages
    eval: object  # the kernel's eval
    params: object
    args: tuple  # argument template: constants (and None for omitted inputs) bound in place
    fills: tuple  # (argument position, tensor index) read from the run's values
    outs: tuple  # output tensor indices (-1: an omitted output)
    frees: tuple  # tensors whose last reader this operator is (dropped unless all are kept)
    slot: int | None = None  # the output the kernel makes in the runner's arena, if any


SHAPE_ONLY = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")


def _reshape_to(shape):
    def reshape(params, x, *shape_args):
        return x.reshape(shape)

    return reshape


def _eval_of(runner, op, kernel, seen_shapes: dict):
    """The kernel's eval, or a bound reshape for a shape-only operator whose result shape is known."""
    from eightbit.interpreter.runner import kernel_for  # runner imports this module

    if op.op_type in SHAPE_ONLY and len(op.outputs) == 1 and op.outputs[0] in seen_shapes \
            and kernel is kernel_for(op) and all(i < 0 or i in runner.constants for i in op.inputs[1:]):
        return _reshape_to(seen_shapes[op.outputs[0]])
    return kernel.eval


def build_plan(runner, seen_shapes: dict) -> list:
    """One Step per operator of a prepared (non-lazy) runner; seen_shapes: {tensor: shape} of
    the outputs of the checked run ({} before it: the shapes allocate worked out)."""

    sg = runner.sg
    constants = runner.constants
    keep = set(sg.outputs) | set(sg.inputs) | {i for i, t in enumerate(sg.tensors) if t.is_variable}
    last_use = runner._last_use
    slots = runner.use_arena(*arena_slots(runner, {**dict(enumerate(runner.shapes)), **seen_shapes}, keep))
    steps = []
    for k, (op, kernel, params) in enumerate(zip(sg.operators, runner.kernels, runner.params)):
        args, fills = [], []
        for pos, i in enumerate(op.inputs):
            if i >= 0 and i not in constants:
                fills.append((pos, i))
            args.append(None if i < 0 else constants.get(i))
        frees = tuple(dict.fromkeys(i for i in op.inputs if i >= 0 and last_use.get(i) == k
                                    and i not in keep and i not in constants))
        slot = op.outputs[0] if op.outputs and op.outputs[0] in slots else None
        steps.append(Step(k, f"{op.name} v{op.version}", _eval_of(runner, op, kernel, seen_shapes), params, tuple(args), tuple(fills),
                          tuple(op.outputs), frees, slot))
    return steps


def arena_slots(runner, shapes: dict, keep: set) -> tuple[dict, dict]:
    """The arena of the intermediates of workspace.MIN_BYTES or more: ({tensor: (offset,
    nbytes)}, {tensor: tensors sharing bytes with it}), laid out by lifetime (memory_plan). The
    output of a shape-only operator lives in its input's bytes: their lifetimes are one."""
    sg = runner.sg
    owner, life, nbytes = {}, {}, {}
    for k, op in enumerate(sg.operators):
        for i in op.inputs:
            root = owner.get(i, i)
            if root in life:
                life[root][1] = k
        if op.op_type in SHAPE_ONLY and op.inputs and op.inputs[0] >= 0 and op.outputs and op.outputs[0] >= 0:
            owner[op.outputs[0]] = owner.get(op.inputs[0], op.inputs[0])
            continue
        out = op.outputs[0] if op.outputs else -1
        if out < 0 or out in keep or out in runner.constants:
            continue
        size = math.prod(shapes[out]) * sg.tensors[out].dtype.itemsize
        if size >= workspace.MIN_BYTES:
            life[out], nbytes[out] = [k, k], size
    for alias, root in owner.items():
        if alias in keep and root in life:  # a model output that is a view of it
            life[root][1] = len(sg.operators)
    offsets = greedy_offsets({t: (-(-nbytes[t] // ALIGN) * ALIGN, a, b) for t, (a, b) in life.items()})
    spans = {t: (offsets[t], offsets[t] + nbytes[t]) for t in offsets}
    overlaps = {t: tuple(u for u, (c, d) in spans.items() if c < b and a < d) for t, (a, b) in spans.items()}
    return {t: (offsets[t], nbytes[t]) for t in offsets}, overlaps


def run_plan(runner, steps: list, keep_all: bool, observe=None, check=None) -> None:
    """Evaluate every step on runner.values (read at call time: calibration swaps the dict);
    observe(i, value), when given, sees every tensor as it is produced; check(k, result), when
    given, returns operator k's result as a checked tuple (the runner's first run)."""
    values = runner.values
    arena = runner.arena
    # Float overflow to inf and NaN are results, as in TFLite, not something to warn about.
    with np.errstate(over="ignore", invalid="ignore"), workspace.active(arena):
        for step in steps:
            args = list(step.args)
            try:
                for pos, i in step.fills:
                    args[pos] = values[i]
            except KeyError as e:
                i = e.args[0]
                raise RuntimeError(f"tensor {i} ({runner.sg.tensors[i].name!r}) has no value when "
                                   f"operator {step.k} needs it") from None
            if arena is not None:
                arena.next = step.slot
            try:
                result = step.eval(step.params, *args)
            except Exception as e:
                raise RuntimeError(f"operator {step.k} ({step.name}) failed: {type(e).__name__}: {e}") from e
            if check is not None:
                result = check(step.k, result)
            if isinstance(result, (tuple, list)):
                for i, v in zip(step.outs, result):
                    if i >= 0:
                        values[i] = v
                        if observe is not None:
                            observe(i, v)
            elif step.outs[0] >= 0:
                values[step.outs[0]] = result
                if observe is not None:
                    observe(step.outs[0], result)
            if not keep_all:
                for i in step.frees:
                    values.pop(i, None)
