"""Small graph-editing helpers shared by the passes and the quantizer.

Tensors are referenced by index inside a subgraph, so every edit that removes tensors goes
through `prune`, which renumbers operators, subgraph inputs/outputs and signature defs together.
"""

from __future__ import annotations

import copy

import numpy as np

from eightbit.ir import Buffer, Model, Operator, Subgraph, Tensor
from eightbit.kernels.registry import OP_NAMES

PURE_OPS = frozenset(OP_NAMES)  # builtins eightbit runs: no side effects, removable when unused


def copy_model(model: Model) -> Model:
    """A deep copy whose edits never touch the original (buffer bytes are shared, immutable)."""
    return copy.deepcopy(model)


def consumers(sg: Subgraph) -> dict:
    """tensor index -> [(operator index, input position)]."""
    out: dict = {}
    for k, op in enumerate(sg.operators):
        for pos, t in enumerate(op.inputs):
            if t >= 0:
                out.setdefault(t, []).append((k, pos))
    return out


def replace_uses(sg: Subgraph, old: int, new: int, only_ops=None, graph_outputs: bool = True) -> None:
    """Make operators (all, or those in only_ops) read `new` where they read `old`."""
    for k, op in enumerate(sg.operators):
        if only_ops is not None and k not in only_ops:
            continue
        op.inputs = [new if t == old else t for t in op.inputs]
    if graph_outputs:
        sg.outputs = [new if t == old else t for t in sg.outputs]


def unique_name(sg: Subgraph, base: str) -> str:
    names = {t.name for t in sg.tensors}
    if base not in names:
        return base
    i = 1
    while f"{base}{i}" in names:
        i += 1
    return f"{base}{i}"


def add_tensor(sg: Subgraph, name: str, shape, type_: str = "FLOAT32", quantization=None, like: Tensor | None = None) -> int:
    t = Tensor(name=unique_name(sg, name), shape=tuple(int(d) for d in shape), type=type_, quantization=quantization)
    if like is not None and like.shape_signature is not None:
        t.shape_signature = tuple(like.shape_signature)
    return sg.add_tensor(t)


def add_constant(sg: Subgraph, name: str, value: np.ndarray, quantization=None) -> int:
    t = Tensor(name=unique_name(sg, name), shape=tuple(value.shape), quantization=quantization)
    t.set_data(np.ascontiguousarray(value))
    return sg.add_tensor(t)


def is_float_activation(sg: Subgraph, i: int) -> bool:
    return i >= 0 and sg.tensors[i].type == "FLOAT32" and not sg.tensors[i].is_constant


def prune(model: Model, subgraph_index: int = 0) -> dict:
    """Remove unused operators, tensors and buffers; returns {old tensor index: new index}.

    An operator is dead when it is a pure builtin and none of its outputs is read by another
    operator or is a subgraph output. Tensors nobody references any more are dropped and the
    remaining ones renumbered everywhere (operators, inputs/outputs, signature defs).
    """
    sg = model.subgraphs[subgraph_index]
    changed = True
    while changed:
        changed = False
        used = set(sg.outputs)
        for op in sg.operators:
            used.update(t for t in op.inputs if t >= 0)
        keep = []
        for op in sg.operators:
            outs = [t for t in op.outputs if t >= 0]
            if op.op_type in PURE_OPS and outs and not any(t in used for t in outs):
                changed = True
                continue
            keep.append(op)
        sg.operators = keep
    referenced = set(sg.inputs) | set(sg.outputs)
    for op in sg.operators:
        referenced.update(t for t in op.inputs if t >= 0)
        referenced.update(t for t in op.outputs if t >= 0)
        referenced.update(t for t in op.intermediates if t >= 0)
    for sd in model.signature_defs:
        if sd["subgraph_index"] == subgraph_index:
            referenced.update(e["tensor_index"] for e in sd["inputs"] + sd["outputs"])
    order = sorted(referenced)
    remap = {old: new for new, old in enumerate(order)}
    sg.tensors = [sg.tensors[i] for i in order]

    def m(lst):
        return [remap[t] if t >= 0 else t for t in lst]

    for op in sg.operators:
        op.inputs, op.outputs, op.intermediates = m(op.inputs), m(op.outputs), m(op.intermediates)
    sg.inputs, sg.outputs = m(sg.inputs), m(sg.outputs)
    for sd in model.signature_defs:
        if sd["subgraph_index"] == subgraph_index:
            for e in sd["inputs"] + sd["outputs"]:
                e["tensor_index"] = remap[e["tensor_index"]]
    prune_buffers(model)
    return remap


def prune_buffers(model: Model) -> None:
    """Drop buffers no tensor or metadata uses (buffer 0, the empty sentinel, stays first).
    The legacy `metadata_buffer` list (MediaPipe's models carry it) counts as a use."""
    used = {id(t.buffer) for sg in model.subgraphs for t in sg.tensors if t.buffer is not None}
    used.update(id(md.buffer) for md in model.metadata)
    used.update(id(b) for b in model.extra.get("metadata_buffer") or ())
    head = model.buffers[0] if model.buffers else Buffer()
    model.buffers = [head] + [b for b in model.buffers[1:] if id(b) in used]


def sort_topologically(sg: Subgraph) -> None:
    """Reorder operators so each runs after the producers of its inputs (stable otherwise)."""
    prod = {t: k for k, op in enumerate(sg.operators) for t in op.outputs if t >= 0}
    n = len(sg.operators)
    deps = [{prod[t] for t in op.inputs if t >= 0 and t in prod and prod[t] != k} for k, op in enumerate(sg.operators)]
    done, order = [False] * n, []
    remaining = list(range(n))
    while remaining:
        progressed = False
        nxt = []
        for k in remaining:
            if all(done[d] for d in deps[k]):
                done[k] = True
                order.append(k)
                progressed = True
            else:
                nxt.append(k)
        if not progressed:  # a cycle: leave the rest as it was
            order.extend(nxt)
            break
        remaining = nxt
    sg.operators = [sg.operators[k] for k in order]


def new_op(op_type: str, inputs, outputs, options=None, options_type=None, version: int = 1) -> Operator:
    return Operator(op_type=op_type, inputs=list(inputs), outputs=list(outputs), options=dict(options or {}),
                    version=version, options_type=options_type)
