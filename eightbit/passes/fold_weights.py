"""Weights stored behind DEQUANTIZE (float16 or int8 constants) or DENSIFY (sparse constants)
become plain float32 constants, as TF's converter folds them before quantizing.

Published models often keep their weights as float16 (or sparse) constants expanded at run time.
To the quantizer those operators then have a non-constant weight input: int8 keeps CONV_2D and
DEPTHWISE_CONV_2D float, dynamic range sees no weight, float16 leaves the file as it was. After
this pass the weights are ordinary constants of the values the model computes with (the kernel
itself expands them, so they are bit for bit what the interpreter would produce).
"""

from __future__ import annotations

from eightbit.ir import Model, Subgraph
from eightbit.passes.constant_folding import evaluate
from eightbit.passes.graph import prune

FOLDED = frozenset({"DEQUANTIZE", "DENSIFY"})


def _stored_weight(sg: Subgraph, op) -> bool:
    if op.op_type not in FOLDED or len(op.inputs) != 1 or len(op.outputs) != 1:
        return False
    src, dst = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
    if not src.is_constant or op.outputs[0] in sg.outputs or dst.is_variable:
        return False
    if op.op_type == "DENSIFY":
        return src.sparsity is not None
    # DEQUANTIZE of an activation-typed constant only: float16, or an integer with parameters
    return dst.type == "FLOAT32" and (src.type == "FLOAT16" or src.quantized) and src.sparsity is None


def fold_stored_weights(model: Model) -> int:
    """Fold every DEQUANTIZE / DENSIFY of a constant in every subgraph; returns how many."""
    total = 0
    for s, sg in enumerate(model.subgraphs):
        keep, folded = [], 0
        for op in list(sg.operators):  # in order: DENSIFY then DEQUANTIZE of a sparse float16 weight
            if _stored_weight(sg, op):
                (value,) = evaluate(model, s, op)
                sg.tensors[op.outputs[0]].set_data(value, keep_type=True)
                folded += 1
            else:
                keep.append(op)
        if folded:
            sg.operators = keep
            prune(model, s)
        total += folded
    return total
