"""Constant folding: an operator whose inputs are all constants becomes a constant.

The operator is evaluated once with its own kernel (so the folded value is exactly what the
interpreter would compute at run time) and its outputs get the values as buffers. QUANTIZE and
DEQUANTIZE are kept (a float16 or int8 weight expanded at run time is the point of those
models), and so are operators writing a subgraph output or a variable.
"""

from __future__ import annotations

import logging

from eightbit.interpreter.runner import SubgraphRunner
from eightbit.ir import Model, Subgraph
from eightbit.kernels.registry import get_kernel
from eightbit.passes.graph import prune

log = logging.getLogger(__name__)

KEEP = frozenset({"QUANTIZE", "DEQUANTIZE", "DENSIFY"})


def _foldable(sg: Subgraph, op) -> bool:
    if op.op_type in KEEP or get_kernel(op.op_type) is None:
        return False
    ins = [t for t in op.inputs if t >= 0]
    outs = [t for t in op.outputs if t >= 0]
    if not ins or not outs:
        return False
    if any(not sg.tensors[t].is_constant or sg.tensors[t].sparsity is not None for t in ins):
        return False
    if any(t in sg.outputs or sg.tensors[t].is_variable or sg.tensors[t].type == "STRING" for t in outs):
        return False
    return True


def evaluate(model: Model, subgraph_index: int, op) -> list:
    """Run one operator of a subgraph on its constant inputs; returns its output arrays."""
    sg = model.subgraphs[subgraph_index]
    one = Subgraph(tensors=sg.tensors, operators=[op], inputs=[], outputs=[t for t in op.outputs if t >= 0])
    runner = SubgraphRunner(Model(subgraphs=[one], buffers=model.buffers), 0)
    runner.allocate()
    runner.run()
    return [runner.values[t] for t in op.outputs if t >= 0]


def fold_constants(model: Model, subgraph_index: int = 0) -> int:
    """Fold every operator with only constant inputs (in order, so chains fold); returns how many."""
    sg = model.subgraphs[subgraph_index]
    folded = 0
    keep = []
    for op in list(sg.operators):
        if _foldable(sg, op):
            try:
                values = evaluate(model, subgraph_index, op)
            except Exception as e:  # noqa: BLE001 - any kernel failure only leaves the operator in place
                log.warning("constant folding: operator %d (%s) left in place: its kernel failed on the "
                            "constant inputs: %s: %s", sg.operators.index(op), op.name, type(e).__name__, e)
                keep.append(op)
                continue
            for t, v in zip([t for t in op.outputs if t >= 0], values):
                sg.tensors[t].set_data(v, keep_type=True)
            folded += 1
        else:
            keep.append(op)
    sg.operators = keep
    if folded:
        prune(model, subgraph_index)
    return folded
