"""Graph patterns `convert` restores before folding QDQ: torch.export decomposes hardswish into
x * min(relu(x + 3), 6) / 6, which would stay float between the quantization points; TFLite has
one HARD_SWISH operator with its own output parameters, which is what the simulation quantizes."""

from __future__ import annotations

import numpy as np

from eightbit.ir import Model
from eightbit.passes.graph import consumers, new_op, prune


def _scalar(sg, t: int):
    v = sg.tensors[t].data if t >= 0 else None
    if v is None or np.size(v) != 1:
        return None
    return float(np.asarray(v).reshape(()))


def _other(sg, op, x: int, value: float) -> bool:
    """op has inputs (x, constant `value`) in either order."""
    ins = list(op.inputs[:2])
    if x not in ins:
        return False
    rest = ins[1 - ins.index(x)]
    c = _scalar(sg, rest)
    return c is not None and abs(c - value) < 1e-6


def _sole_reader(sg, cons, t: int):
    readers = cons.get(t, [])
    return sg.operators[readers[0][0]] if len(readers) == 1 and t not in sg.outputs else None


def _match(sg, cons, add):
    """add -> [RELU] -> MINIMUM 6 -> MUL x -> DIV 6 (or MUL 1/6): the ops and the output, or None."""
    x = next((t for t in add.inputs[:2] if _other(sg, add, t, 3.0)), None)
    if x is None or add.options.get("fused_activation_function", 0) not in (0, 1):
        return None
    chain, t = [add], add.outputs[0]
    nxt = _sole_reader(sg, cons, t)
    if nxt is not None and nxt.op_type in ("RELU", "MAXIMUM") and (nxt.op_type == "RELU" or _other(sg, nxt, t, 0.0)):
        chain.append(nxt)
        t = nxt.outputs[0]
    elif add.options.get("fused_activation_function", 0) != 1:
        return None
    mn = _sole_reader(sg, cons, t)
    if mn is None or mn.op_type != "MINIMUM" or not _other(sg, mn, t, 6.0):
        return None
    mul = _sole_reader(sg, cons, mn.outputs[0])
    if mul is None or mul.op_type != "MUL" or sorted(mul.inputs[:2]) != sorted([x, mn.outputs[0]]):
        return None
    div = _sole_reader(sg, cons, mul.outputs[0])
    if div is None or not ((div.op_type == "DIV" and _other(sg, div, mul.outputs[0], 6.0))
                           or (div.op_type == "MUL" and _other(sg, div, mul.outputs[0], 1 / 6))):
        return None
    return x, chain + [mn, mul, div], div.outputs[0]


def restore_hard_swish(model: Model) -> int:
    """Replace each decomposed hardswish in subgraph 0 by one HARD_SWISH; returns how many."""
    sg = model.main
    found = 0
    while True:
        cons = consumers(sg)
        hit = next((m for op in sg.operators if op.op_type == "ADD" for m in [_match(sg, cons, op)] if m), None)
        if hit is None:
            break
        x, ops, out = hit
        at = sg.operators.index(ops[0])
        sg.operators = [op for op in sg.operators if all(op is not o for o in ops)]
        sg.operators.insert(at, new_op("HARD_SWISH", [x], [out]))
        found += 1
    if found:
        prune(model)
    return found
