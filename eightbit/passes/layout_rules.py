"""Per-operator rules of the layout pass (see layout.py for placements).

A rule rewrites one operator for the placements its inputs have and returns True, or returns
False (before touching anything) to let the operator run in the source layout: every input
brought back to the source placement, outputs in the source placement. Rules act only when an
input is placed other than as the source has it, so a graph without channel-first operators
comes out unchanged.
"""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError
from eightbit.ir.model import Operator
from eightbit.passes.layout import SENSITIVE, channels_last, identity, inserting, inverse, removing, same_memory

UNARY = frozenset({
    "ABS", "CEIL", "COS", "ELU", "EXP", "FLOOR", "GELU", "HARD_SWISH", "LEAKY_RELU", "LOG", "LOGISTIC",
    "LOGICAL_NOT", "NEG", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "ROUND", "RSQRT", "SIGN", "SIN",
    "SQRT", "SQUARE", "TANH", "CAST", "QUANTIZE", "DEQUANTIZE", "ZEROS_LIKE", "ONES_LIKE",
})
BROADCAST = frozenset({
    "ADD", "SUB", "MUL", "DIV", "POW", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "FLOOR_DIV", "FLOOR_MOD",
    "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "LOGICAL_AND", "LOGICAL_OR",
    "SELECT_V2", "PRELU", "ADD_N", "ATAN2", "SELECT",
})
LAST_AXIS = frozenset({"SOFTMAX", "LOG_SOFTMAX", "L2_NORMALIZATION"})
REDUCE = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY", "REDUCE_ALL"})
# filter placement (physical axis i = source axis perm[i]) for the source layouts of the contract
WEIGHT_PERMS = {
    "CONV_2D": (0, 2, 3, 1),  # OIHW -> OHWI
    "DEPTHWISE_CONV_2D": (1, 2, 3, 0),  # [C*m, 1, kh, kw] -> [1, kh, kw, C*m]
    "TRANSPOSE_CONV": (1, 2, 3, 0),  # [C, O, kh, kw] -> [O, kh, kw, C]
}
CL4 = channels_last(4)


def rewrite(lp, op: Operator) -> None:
    if op.op_type in SENSITIVE and op.extra.get("layout") == "NCHW":
        _sensitive(lp, op)
        return
    rule = RULES.get(op.op_type)
    if rule is None or not rule(lp, op):
        _source_layout(lp, op)


def _source_layout(lp, op: Operator) -> None:
    op.inputs = [lp.get(t, identity(lp.rank(t))) if t >= 0 else t for t in op.inputs]
    lp.emit(op, [identity(lp.rank(t)) if t >= 0 else () for t in op.outputs])


def _placed_activation(lp, inputs, rank):
    """The first placement other than the source's among activation inputs of this rank."""
    for t in inputs:
        if t >= 0 and not lp.is_const(t) and lp.rank(t) == rank and lp.perm(t) != identity(rank):
            return lp.perm(t)
    return None


def _const_values(lp, t):
    if t < 0 or not lp.is_const(t):
        return None
    return lp.sg.tensors[lp.placed(t)[0]].data


def _new_const(lp, old: int, values) -> int:
    """A constant like input `old` (same dtype and shape) holding new values."""
    like = lp.sg.tensors[old]
    arr = np.asarray(values).astype(like.dtype).reshape(like.shape)
    return lp.const(like.name + "/nhwc", arr)


def _sensitive(lp, op: Operator) -> None:
    act = 2 if op.op_type == "TRANSPOSE_CONV" else 0
    if lp.rank(op.inputs[act]) != 4:
        raise ModelError(f"{op.op_type} marked NCHW has a rank-{lp.rank(op.inputs[act])} input "
                         f"{lp.sg.tensors[op.inputs[act]].name!r}; expected [N, C, H, W]")
    op.inputs[act] = lp.get(op.inputs[act], CL4)
    if op.op_type in WEIGHT_PERMS:
        op.inputs[1] = lp.get(op.inputs[1], WEIGHT_PERMS[op.op_type])
    if op.op_type == "TRANSPOSE_CONV":
        shape = _const_values(lp, op.inputs[0])
        if shape is None or shape.size != 4:
            raise ModelError(f"TRANSPOSE_CONV {lp.sg.tensors[op.outputs[0]].name!r}: output_shape must be a constant "
                             "[N, C, H, W]")
        op.inputs[0] = _new_const(lp, op.inputs[0], shape.reshape(-1)[list(CL4)])
    lp.emit(op, [CL4 for _ in op.outputs])


def _unary(lp, op: Operator) -> bool:
    idx, perm = lp.placed(op.inputs[0])
    if perm == identity(len(perm)):
        return False
    op.inputs[0] = idx
    lp.emit(op, [perm])
    return True


def _last_axis(lp, op: Operator) -> bool:
    perm = lp.perm(op.inputs[0])
    return bool(perm) and perm[-1] == len(perm) - 1 and _unary(lp, op)


def _expand_rank(lp, t: int, rank: int) -> int:
    """Source tensor t with leading 1s up to `rank` (numpy broadcasting), as a new source tensor."""
    shape = (1,) * (rank - lp.rank(t)) + lp.src[t]
    tensor = lp.sg.tensors[lp.placed(t)[0]]
    if lp.is_const(t):
        data = _const_values(lp, t)
        new = lp.const(tensor.name + "/expanded", np.transpose(data, inverse(lp.perm(t))).reshape(shape))
        lp.sg.tensors[new].type = tensor.type
        lp.sg.tensors[new].quantization = _shift_quant(tensor.quantization, rank - lp.rank(t))
        return new
    src = lp.get(t, identity(lp.rank(t)))
    new = lp._new_activation(tensor, shape, tensor.name + "/expanded", _shift_quant(tensor.quantization, rank - lp.rank(t)))
    shape_c = lp.const(tensor.name + "/expanded_shape", np.asarray(shape, np.int32))
    lp._emit(Operator("RESHAPE", [src, shape_c], [new], {"new_shape": list(shape)}, options_type="ReshapeOptions"))
    return new


def _shift_quant(qp, by: int):
    if qp is None or not qp.per_channel:
        return qp
    from eightbit.ir import QuantParams

    return QuantParams(qp.scale.copy(), qp.zero_point.copy(), qp.quantized_dimension + by, qp.min, qp.max, qp.details)


def _broadcast(lp, op: Operator) -> bool:
    rank = lp.rank(op.outputs[0])
    perm = _placed_activation(lp, op.inputs, rank)
    if perm is None:
        return False
    if op.op_type == "SELECT" and any(t >= 0 and lp.rank(t) != rank for t in op.inputs):
        return False
    new = []
    for t in op.inputs:
        if t < 0:
            new.append(t)
        elif lp.rank(t) == rank:
            new.append(lp.get(t, perm))
        elif int(np.prod(lp.src[t], dtype=np.int64)) == 1:
            new.append(lp.get(t, identity(lp.rank(t))))  # a scalar broadcasts in any placement
        else:
            new.append(lp.get(_expand_rank(lp, t, rank), perm))
    op.inputs = new
    lp.emit(op, [perm for _ in op.outputs])
    return True


def _concatenation(lp, op: Operator) -> bool:
    rank = lp.rank(op.outputs[0])
    perm = _placed_activation(lp, op.inputs, rank)
    if perm is None:
        return False
    axis = int(op.options.get("axis", 0)) % rank
    op.inputs = [lp.get(t, perm) for t in op.inputs]
    op.options["axis"] = inverse(perm)[axis]
    lp.emit(op, [perm])
    return True


def _axes(lp, op: Operator, pos: int, rank: int):
    """Normalized source axes held by constant input `pos`, or None."""
    values = _const_values(lp, op.inputs[pos]) if len(op.inputs) > pos else None
    if values is None or rank == 0:
        return None
    return [int(a) % rank for a in values.reshape(-1)]


def _remap_axes_input(lp, op: Operator, pos: int, axes, perm) -> None:
    inv = inverse(perm)
    op.inputs[pos] = _new_const(lp, op.inputs[pos], [inv[a] for a in axes])


def _reduce(lp, op: Operator) -> bool:
    x = op.inputs[0]
    idx, perm = lp.placed(x)
    axes = _axes(lp, op, 1, lp.rank(x))
    if perm == identity(len(perm)) or axes is None:
        return False
    op.inputs[0] = idx
    _remap_axes_input(lp, op, 1, axes, perm)
    keep = bool(op.options.get("keep_dims", False))
    lp.emit(op, [perm if keep else removing(perm, set(axes))])
    return True


def _arg_min_max(lp, op: Operator) -> bool:
    x = op.inputs[0]
    idx, perm = lp.placed(x)
    axes = _axes(lp, op, 1, lp.rank(x))
    if perm == identity(len(perm)) or axes is None or len(axes) != 1:
        return False
    op.inputs[0] = idx
    _remap_axes_input(lp, op, 1, axes, perm)
    lp.emit(op, [removing(perm, set(axes))])
    return True


def _same_axes(lp, op: Operator) -> bool:
    """CUMSUM, REVERSE_V2: axis constant at input 1, output placed like the input."""
    x = op.inputs[0]
    idx, perm = lp.placed(x)
    axes = _axes(lp, op, 1, lp.rank(x))
    if perm == identity(len(perm)) or axes is None:
        return False
    op.inputs[0] = idx
    _remap_axes_input(lp, op, 1, axes, perm)
    lp.emit(op, [perm])
    return True


def _per_axis_rows(lp, op: Operator, positions, removed=()) -> bool:
    """PAD, PADV2, MIRROR_PAD, TILE, SLICE, STRIDED_SLICE: constant inputs with one row per source
    axis; the output drops source axes `removed` (STRIDED_SLICE's shrink_axis_mask)."""
    x = op.inputs[0]
    idx, perm = lp.placed(x)
    if perm == identity(len(perm)):
        return False
    values = [_const_values(lp, op.inputs[p]) if len(op.inputs) > p else None for p in positions]
    if any(v is None or v.ndim == 0 or v.shape[0] != len(perm) for v in values):
        return False
    op.inputs[0] = idx
    for p, v in zip(positions, values):
        op.inputs[p] = _new_const(lp, op.inputs[p], v[list(perm)])
    lp.emit(op, [removing(perm, set(removed)) if removed else perm])
    return True


def _pad(lp, op):
    return _per_axis_rows(lp, op, (1,))


def _slice(lp, op):
    return _per_axis_rows(lp, op, (1, 2))


def _permute_bits(mask: int, perm) -> int:
    return sum(1 << i for i, a in enumerate(perm) if mask >> a & 1)


def _strided_slice(lp, op: Operator) -> bool:
    o = op.options
    perm = lp.perm(op.inputs[0])
    if perm == identity(len(perm)) or o.get("ellipsis_mask", 0) or o.get("new_axis_mask", 0):
        return False
    shrink = {a for a in range(len(perm)) if int(o.get("shrink_axis_mask", 0)) >> a & 1}
    masks = {key: _permute_bits(int(o.get(key, 0)), perm) for key in ("begin_mask", "end_mask", "shrink_axis_mask")}
    if not _per_axis_rows(lp, op, (1, 2, 3), removed=shrink):
        return False
    o.update(masks)
    return True


def _gather(lp, op: Operator) -> bool:
    x, ind = op.inputs[0], op.inputs[1]
    idx, perm = lp.placed(x)
    if perm == identity(len(perm)) or op.options.get("batch_dims", 0) or lp.rank(ind) > 1:
        return False
    axis = int(op.options.get("axis", 0)) % len(perm)
    op.inputs = [idx, lp.get(ind, identity(lp.rank(ind)))]
    op.options["axis"] = inverse(perm)[axis]
    lp.emit(op, [perm if lp.rank(ind) == 1 else removing(perm, {axis})])
    return True


def _split(lp, op: Operator) -> bool:
    data_pos, axis_pos = (1, 0) if op.op_type == "SPLIT" else (0, 2)
    x = op.inputs[data_pos]
    idx, perm = lp.placed(x)
    axes = _axes(lp, op, axis_pos, lp.rank(x))
    if perm == identity(len(perm)) or axes is None:
        return False
    op.inputs[data_pos] = idx
    _remap_axes_input(lp, op, axis_pos, axes, perm)
    lp.emit(op, [perm for _ in op.outputs])
    return True


def _pack(lp, op: Operator) -> bool:
    rank = lp.rank(op.inputs[0])
    perm = _placed_activation(lp, op.inputs, rank)
    if perm is None:
        return False
    axis = int(op.options.get("axis", 0)) % (rank + 1)
    out_perm, pos = inserting(perm, axis)
    op.inputs = [lp.get(t, perm) for t in op.inputs]
    op.options["axis"] = pos
    lp.emit(op, [out_perm])
    return True


def _unpack(lp, op: Operator) -> bool:
    idx, perm = lp.placed(op.inputs[0])
    if perm == identity(len(perm)):
        return False
    axis = int(op.options.get("axis", 0)) % len(perm)
    op.inputs[0] = idx
    op.options["axis"] = inverse(perm)[axis]
    lp.emit(op, [removing(perm, {axis}) for _ in op.outputs])
    return True


def _squeeze(lp, op: Operator) -> bool:
    x = op.inputs[0]
    idx, perm = lp.placed(x)
    if perm == identity(len(perm)):
        return False
    dims = op.options.get("squeeze_dims") or [a for a, d in enumerate(lp.src[x]) if d == 1]
    dims = sorted({int(a) % len(perm) for a in dims})
    op.inputs[0] = idx
    op.options["squeeze_dims"] = sorted(inverse(perm)[a] for a in dims)
    lp.emit(op, [removing(perm, set(dims))])
    return True


def _expand_dims(lp, op: Operator) -> bool:
    x = op.inputs[0]
    idx, perm = lp.placed(x)
    axes = _axes(lp, op, 1, len(perm) + 1)
    if perm == identity(len(perm)) or axes is None or len(axes) != 1:
        return False
    out_perm, pos = inserting(perm, axes[0])
    op.inputs[0] = idx
    op.inputs[1] = _new_const(lp, op.inputs[1], [pos])
    lp.emit(op, [out_perm])
    return True


def _broadcast_to(lp, op: Operator) -> bool:
    if lp.rank(op.inputs[0]) != lp.rank(op.outputs[0]):
        return False
    return _per_axis_rows(lp, op, (1,))


def _transpose(lp, op: Operator) -> bool:
    """Absorbed: the output is the input's data under another placement (no operator left)."""
    x = op.inputs[0]
    values = _const_values(lp, op.inputs[1])
    if values is None:
        return False
    source_perm = [int(a) % lp.rank(x) for a in values.reshape(-1)]
    inv = inverse(source_perm)
    lp.alias(op.outputs[0], x, tuple(inv[a] for a in lp.perm(x)))
    return True


def _reshape(lp, op: Operator) -> bool:
    x = op.inputs[0]
    idx, have = lp.placed(x)
    if not same_memory(lp.src[x], have, identity(len(have))):
        return _reshape_in_place(lp, op) or _flatten_into_fully_connected(lp, op)
    op.inputs = [idx] + [lp.get(t, identity(lp.rank(t))) if t >= 0 else t for t in op.inputs[1:]]
    lp.emit(op, [identity(lp.rank(op.outputs[0]))])
    return True


def _reshape_groups(in_shape, out_shape):
    """[(input axes, output axes)] whose sizes multiply to the same number, size-1 axes left out;
    None when the shapes do not split into such groups."""
    ins = [a for a, d in enumerate(in_shape) if d != 1]
    outs = [a for a, d in enumerate(out_shape) if d != 1]
    groups, i, j = [], 0, 0
    while i < len(ins) and j < len(outs):
        gi, go = [ins[i]], [outs[j]]
        pi, po = in_shape[ins[i]], out_shape[outs[j]]
        i, j = i + 1, j + 1
        while pi != po:
            if pi < po and i < len(ins):
                gi.append(ins[i])
                pi *= in_shape[ins[i]]
                i += 1
            elif po < pi and j < len(outs):
                go.append(outs[j])
                po *= out_shape[outs[j]]
                j += 1
            else:
                return None
        groups.append((gi, go))
    return groups if i == len(ins) and j == len(outs) else None


def _reshape_in_place(lp, op: Operator) -> bool:
    """A RESHAPE that only merges or splits axes that lie together, in order, in the input's
    placement (conv -> flatten(2): [N, C, H, W] -> [N, C, H*W]) runs on the placed data; the output
    is placed accordingly and nothing is transposed."""
    x, out = op.inputs[0], op.outputs[0]
    idx, have = lp.placed(x)
    in_shape, out_shape = lp.src[x], lp.src[out]
    groups = _reshape_groups(in_shape, out_shape)
    if groups is None or any(d < 0 for d in out_shape):
        return False
    placed = [a for a in have if in_shape[a] != 1]  # non-unit input axes in placed order
    pos = {a: k for k, a in enumerate(placed)}
    for gi, _ in groups:
        if [pos[a] for a in gi] != list(range(pos[gi[0]], pos[gi[0]] + len(gi))):
            return False
    order = [a for gi, go in sorted(groups, key=lambda g: pos[g[0][0]]) for a in go]
    for a in (a for a, d in enumerate(out_shape) if d == 1):  # unit axes: before the next axis in source order
        nxt = next((k for k, b in enumerate(order) if b > a), len(order))
        order.insert(nxt, a)
    out_perm = tuple(order)
    shape = [out_shape[a] for a in out_perm]
    shape_c = lp.const(lp.sg.tensors[out].name + "/shape", np.asarray(shape, np.int32))
    op.inputs = [idx, shape_c]
    if "new_shape" in op.options:
        op.options["new_shape"] = shape
    lp.emit(op, [out_perm])
    return True


def _flatten_into_fully_connected(lp, op: Operator) -> bool:
    """RESHAPE [N, ...] -> [N, K] read only as the input of FULLY_CONNECTED operators with constant
    weights (a classifier's flatten): flatten the data as it is placed and reorder the weights'
    columns to match, instead of transposing the activation back."""
    x, out = op.inputs[0], op.outputs[0]
    idx, have = lp.placed(x)
    src = lp.src[x]
    if have[0] != 0 or len(lp.src[out]) != 2 or lp.src[out][0] != src[0] or out in lp.sg.outputs:
        return False
    readers = _fc_readers(lp, out)
    if not readers or any(_fc_weight(lp, r) is None for r in readers):
        return False
    order = [0, *have[1:]]  # source axes of the weights' columns, in the order the data is placed
    for r in readers:
        holder, pos, w_idx = _fc_weight(lp, r)
        w = lp.sg.tensors[w_idx]
        data = w.data
        cols = data.reshape(data.shape[0], *src[1:]).transpose(order).reshape(data.shape)
        new = lp.const(w.name + "/nhwc", cols)
        lp.sg.tensors[new].type, lp.sg.tensors[new].quantization = w.type, w.quantization  # axis 0 stays
        holder.inputs[pos] = new
    op.inputs = [idx] + [lp.get(t, identity(lp.rank(t))) if t >= 0 else t for t in op.inputs[1:]]
    lp.emit(op, [identity(2)])
    return True


def _fc_readers(lp, t: int, depth: int = 0):
    """The FULLY_CONNECTED operators reading t as their input, directly or through QUANTIZE /
    DEQUANTIZE (a QDQ graph); None when anything else reads it or it is a graph output."""
    readers = lp.readers.get(t, [])
    if not readers or t in lp.sg.outputs or depth > 4:
        return None
    found = []
    for r in readers:
        if r.op_type == "FULLY_CONNECTED" and r.inputs[0] == t and t not in r.inputs[1:]:
            found.append(r)
        elif r.op_type in ("QUANTIZE", "DEQUANTIZE") and len(r.outputs) == 1:
            more = _fc_readers(lp, r.outputs[0], depth + 1)
            if more is None:
                return None
            found.extend(more)
        else:
            return None
    return found


def _fc_weight(lp, fc: Operator):
    """(operator, input position, constant) holding a FULLY_CONNECTED's 2-D weights: the FC itself,
    or the DEQUANTIZE of a constant that only this FC reads (a QDQ weight); None otherwise."""
    w = fc.inputs[1] if len(fc.inputs) > 1 else -1
    if w < 0 or lp.rank(w) != 2:
        return None
    if lp.is_const(w):
        return (fc, 1, w) if lp.perm(w) == (0, 1) else None
    dq = next((op for op in lp.sg.operators if w in op.outputs), None)
    if (dq is None or dq.op_type != "DEQUANTIZE" or not lp.is_const(dq.inputs[0]) or lp.uses.get(w, 0) != 1
            or lp.uses.get(dq.inputs[0], 0) != 1 or lp.perm(w) != (0, 1)):
        return None
    return dq, 0, dq.inputs[0]


RULES = {
    **{k: _unary for k in UNARY},
    **{k: _broadcast for k in BROADCAST},
    **{k: _last_axis for k in LAST_AXIS},
    **{k: _reduce for k in REDUCE},
    "ARG_MAX": _arg_min_max, "ARG_MIN": _arg_min_max,
    "CUMSUM": _same_axes, "REVERSE_V2": _same_axes,
    "CONCATENATION": _concatenation,
    "PAD": _pad, "PADV2": _pad, "MIRROR_PAD": _pad, "TILE": _pad,
    "SLICE": _slice, "STRIDED_SLICE": _strided_slice,
    "GATHER": _gather, "SPLIT": _split, "SPLIT_V": _split,
    "PACK": _pack, "UNPACK": _unpack, "SQUEEZE": _squeeze, "EXPAND_DIMS": _expand_dims,
    "BROADCAST_TO": _broadcast_to, "TRANSPOSE": _transpose, "RESHAPE": _reshape,
}
# operators through which an input's channel-first layout reaches a layout-sensitive operator
_PASS_THROUGH = frozenset(RULES) - {"RESHAPE", "TRANSPOSE", "SQUEEZE", "EXPAND_DIMS", "GATHER", "UNPACK", "PACK"}


def channel_first_inputs(sg) -> list:
    """Rank-4 graph inputs that reach an NCHW layout-sensitive operator through layout-agnostic ones."""
    readers: dict = {}
    for op in sg.operators:
        for t in op.inputs:
            if t >= 0:
                readers.setdefault(t, []).append(op)
    found = []
    for t in sg.inputs:
        if len(sg.tensors[t].shape) != 4:
            continue
        todo, seen = [t], {t}
        while todo:
            cur = todo.pop()
            hit = False
            for op in readers.get(cur, []):
                if op.op_type in SENSITIVE and op.extra.get("layout") == "NCHW":
                    hit = cur == op.inputs[2 if op.op_type == "TRANSPOSE_CONV" else 0]
                elif op.op_type in _PASS_THROUGH:
                    nxt = [o for o in op.outputs if o >= 0 and o not in seen and len(sg.tensors[o].shape) == 4]
                    seen.update(nxt)
                    todo.extend(nxt)
                if hit:
                    break
            if hit:
                found.append(t)
                break
    return found
