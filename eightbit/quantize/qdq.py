"""Fold an imported QDQ graph (DEQUANTIZE -> float op -> QUANTIZE) into integer TFLite ops.

Importers of already quantized models (ONNX QDQ and QOperator, later QAT export) emit float
builtins between DEQUANTIZE ops (inputs: activations, and constant weights / biases carrying
their integer data and QuantParams) and QUANTIZE ops (outputs, with the given parameters).
`fold_qdq` rewrites each such pattern into the integer op reading and writing the quantized
tensors directly, keeping exactly the given scales and zero points. The constraints come from
each op's spec (`kernels.registry.get_spec`): weight inputs (symmetric int8, per-channel axis),
bias (int32 / int64 at input_scale * weight_scale), fixed output parameters, shared parameters.
Where TFLite's rules force a different choice the tensor is requantized and one line per
changed tensor (old and new parameters) is returned; every operator left float is listed.
Nothing is ever dequantized to float silently.

The pass is layout-free (it runs after `passes.layout.to_nhwc`, on TFLite's layouts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eightbit.ir import Model, Subgraph, Tensor
from eightbit.kernels.registry import get_kernel, get_spec
from eightbit.passes.fuse_activation import fuse_activations
from eightbit.passes.graph import add_tensor, new_op, prune, replace_uses, sort_topologically
from eightbit.quantize import params as P
from eightbit.quantize.qdq_graph import (
    BIAS_TYPES,
    absorb_hybrid_scales,
    fmt_params,
    fold_constant_movement,
    hoist_quantize,
    keep_zero_floor,
    new_const,
    normalize_types,
    note_changed,
    propagate_integer_params,
    qparams,
    real_values,
    same_params,
)

ACT_TYPES = ("INT8", "INT16")
# TFLite's kernel_util GetQuantizedConvolutionMultipler accepts a bias scale within this
# relative distance of input_scale * filter_scale.
BIAS_SCALE_RTOL = 1e-6


def fold_qdq(model: Model, legacy_uint8: bool = False, keep_float_weights: bool = False) -> list[str]:
    """Rewrite subgraph 0 of `model` in place; return one line per tensor whose parameters were
    changed (old -> new) and per operator left float (with the reason).

    legacy_uint8: keep uint8 activations and asymmetric per-tensor uint8 weights as they are
    (TF1 / TOCO's legacy uint8 model) instead of moving them to int8 and symmetric weights.
    keep_float_weights: an op whose weights are float constants (no DEQUANTIZE) stays float
    between its DEQUANTIZE / QUANTIZE (a layer trained in float) instead of being quantized."""
    sg = model.main
    notes: list = []
    # An op quantized only after its RELU / RELU6 (QDQ around the pair, as torch's and TF's
    # fake quantization place it) is TFLite's op with a fused activation: fuse before folding.
    fuse_activations(model)
    propagate_integer_params(sg)
    floor_zero = normalize_types(sg, notes, keep_uint8=legacy_uint8)
    fold_constant_movement(sg)
    hoist_quantize(sg)
    st = _State.of(sg)
    st.floor_zero = floor_zero
    st.legacy_uint8, st.keep_float_weights = legacy_uint8, keep_float_weights
    reasons = {}
    for op in list(sg.operators):
        if op.op_type in ("QUANTIZE", "DEQUANTIZE"):
            continue
        why = _fold_op(sg, op, st, notes)
        if why is not None:
            reasons[id(op)] = why
    st.apply(sg)
    hybrids = [op for op in sg.operators if reasons.get(id(op)) == "hybrid"]
    absorb_hybrid_scales(sg, hybrids)
    _collapse_requantize(sg)
    keep_zero_floor(sg, st.floor_zero, notes)
    _dequantize_int32_constants(sg)
    sort_topologically(sg)
    prune(model)
    for op in hybrids:
        notes.append(f"hybrid {op.op_type} '{sg.tensors[op.outputs[0]].name}': int8 weights, float activations")
    if any(op.op_type == "QUANTIZE" for op in sg.operators) or not hybrids:
        notes.extend(_float_ops(sg, reasons))
    else:
        floats = sum(1 for op in sg.operators if op.op_type not in ("QUANTIZE", "DEQUANTIZE") and op not in hybrids)
        notes.append(f"dynamic-range model: {floats} other operator(s) run in float, as in the source")
    return notes


# ---- bookkeeping ------------------------------------------------------------------------------

@dataclass
class _State:
    dq_src: dict  # float tensor -> the quantized tensor a DEQUANTIZE reads
    q_readers: dict  # float tensor -> [QUANTIZE ops reading it]
    readers: dict  # tensor -> [operators reading it]
    before: dict = field(default_factory=dict)  # id(op) -> ops to run before it
    after: dict = field(default_factory=dict)  # id(op) -> ops to run after it
    dead: set = field(default_factory=set)  # id(op) of removed operators
    floor_zero: set = field(default_factory=set)  # int16 tensors whose source range started at 0
    legacy_uint8: bool = False  # uint8 activations and asymmetric uint8 weights are kept (fold_qdq)
    keep_float_weights: bool = False  # ops with float constant weights stay float (fold_qdq)

    @staticmethod
    def of(sg: Subgraph) -> _State:
        dq, qr, rd = {}, {}, {}
        for op in sg.operators:
            for t in op.inputs:
                if t >= 0:
                    rd.setdefault(t, []).append(op)
            if op.op_type == "DEQUANTIZE" and sg.tensors[op.inputs[0]].quantized:
                dq[op.outputs[0]] = op.inputs[0]
            if op.op_type == "QUANTIZE" and sg.tensors[op.inputs[0]].type == "FLOAT32":
                qr.setdefault(op.inputs[0], []).append(op)
        return _State(dq, qr, rd)

    def apply(self, sg: Subgraph) -> None:
        ops = []
        for op in sg.operators:
            ops.extend(self.before.get(id(op), []))
            if id(op) not in self.dead:
                ops.append(op)
            ops.extend(self.after.get(id(op), []))
        sg.operators = ops


# ---- one operator ------------------------------------------------------------------------

def _fold_op(sg: Subgraph, op, st: _State, notes: list) -> str | None:
    """Make `op` integer; None when done (or nothing float), else why it stays float."""
    spec = get_spec(op.op_type)
    non_float = set(spec.non_float_inputs) if spec is not None else set()
    float_in = [p for p, t in enumerate(op.inputs)
                if t >= 0 and p not in non_float and sg.tensors[t].type == "FLOAT32"]
    float_out = [p for p, t in enumerate(op.outputs) if t >= 0 and sg.tensors[t].type == "FLOAT32"]
    if not float_in and not float_out:
        return None
    if spec is None or get_kernel(op.op_type) is None:
        return "no eightbit kernel"
    if not spec.quantizable:
        return "TFLite has no integer kernel"
    weights = [p for p in float_in if p in spec.weight_inputs]
    if st.keep_float_weights and any(op.inputs[p] not in st.dq_src and sg.tensors[op.inputs[p]].is_constant
                                     for p in weights):
        return "float weights: kept float"
    srcs = {}
    for p in float_in:
        t = op.inputs[p]
        if t in st.dq_src:
            srcs[p] = st.dq_src[t]
        elif not sg.tensors[t].is_constant:
            if _hybrid(sg, op, spec, st, notes):
                return "hybrid"
            return f"input '{sg.tensors[t].name}' is not dequantized from integers"
    for p in float_out:
        if not st.q_readers.get(op.outputs[p]) and not _inherit_params(sg, op, spec, p, float_in, srcs, st):
            return f"output '{sg.tensors[op.outputs[p]].name}' is not quantized"
    acts = [p for p in float_in if p not in weights and p != spec.bias_input]
    dq_acts = [p for p in acts if p in srcs]
    first = sg.tensors[srcs[dq_acts[0]]] if dq_acts else sg.tensors[st.q_readers[op.outputs[float_out[0]]][0].outputs[0]]
    act = first.type
    if act not in ACT_TYPES and not (st.legacy_uint8 and act == "UINT8"):
        return f"{act} activations"
    if act == "INT16" and not spec.int16:
        return "TFLite has no int16x8 kernel"
    for p in float_out:
        _fold_output(sg, op, p, spec, act, st, notes)
    for p in float_in:
        if p in weights and sg.tensors[srcs.get(p, op.inputs[p])].is_constant:
            op.inputs[p] = _weight(sg, op, p, srcs.get(p), spec, notes, act)
        elif p != spec.bias_input:
            op.inputs[p] = srcs[p] if p in srcs else _float_constant(sg, op.inputs[p], act, notes)
    if spec.bias_input is not None and spec.bias_input in float_in:
        op.inputs[spec.bias_input] = _bias(sg, op, spec, srcs.get(spec.bias_input), acts, act, notes)
    _share_params(sg, op, spec, acts, st, notes)
    _int16_options(op, spec, act)
    return None


def _inherit_params(sg: Subgraph, op, spec, p: int, float_in: list, srcs: dict, st: _State) -> bool:
    """Parameters for an output the source left unquantized where TFLite's rules fix them: a
    one-input same-scale op (a TRANSPOSE the layout pass inserted, a RESHAPE, the SPLIT of a
    grouped convolution) takes its input's; an output read only by a CONCATENATION / PACK takes
    that op's quantized output's (e.g. each group's CONV_2D of a grouped convolution)."""
    y = sg.tensors[op.outputs[p]]
    ref = None
    acts = [q for q in float_in if q in srcs and not sg.tensors[srcs[q]].is_constant]
    if spec.same_scale and len(acts) == 1 and len(float_in) == 1 \
            and set(spec.same_scale_inputs) <= {acts[0]}:
        ref = sg.tensors[srcs[acts[0]]]
    else:
        users = st.readers.get(op.outputs[p], [])
        if users and op.outputs[p] not in sg.outputs and all(
                "all" in getattr(get_spec(u.op_type), "same_scale_inputs", ()) and st.q_readers.get(u.outputs[0])
                for u in users):
            ref = sg.tensors[st.q_readers[users[0].outputs[0]][0].outputs[0]]
    if ref is None:
        return False
    q = add_tensor(sg, y.name + "_q", y.shape, ref.type, qparams(ref.quantization.scale, ref.quantization.zero_point),
                   like=y)
    if sg.tensors.index(ref) in st.floor_zero:  # e.g. each group of a grouped conv followed by a ReLU
        st.floor_zero.add(q)
    st.q_readers[op.outputs[p]] = [new_op("QUANTIZE", [op.outputs[p]], [q])]  # stands for the missing one
    return True


def _fold_output(sg: Subgraph, op, p: int, spec, act: str, st: _State, notes: list) -> None:
    """The op writes the first QUANTIZE's output; its other QUANTIZE readers requantize from it,
    float readers get a DEQUANTIZE; fixed output parameters get a requantizing QUANTIZE."""
    y = op.outputs[p]
    readers = st.q_readers[y]
    q_out = readers[0].outputs[0]
    out_t = sg.tensors[q_out]
    fixed = P.fixed_params(spec.fixed_output, act)
    if fixed is not None and not (np.array_equal(out_t.quantization.scale, fixed.scale)
                                  and np.array_equal(out_t.quantization.zero_point, fixed.zero_point)):
        old = out_t.quantization
        out_t.quantization = qparams(fixed.scale, fixed.zero_point)
        note_changed(notes, out_t, old, act, f"output of {op.op_type}, whose parameters TFLite fixes")
    op.outputs[p] = q_out
    st.dead.add(id(readers[0]))
    for r in readers[1:]:
        r.inputs = [q_out]
    others = [o for o in st.readers.get(y, []) if o.op_type != "QUANTIZE"]
    if others or y in sg.outputs:
        st.after.setdefault(id(op), []).append(new_op("DEQUANTIZE", [q_out], [y]))
        st.dq_src[y] = q_out


def _weight(sg: Subgraph, op, p: int, src: int | None, spec, notes: list, act: str = "INT8") -> int:
    """The constant weight as TFLite's kernel takes it: int8, zero point 0 where the op has a
    bias (conv / fully connected), per channel only on the spec's axis; with (legacy) uint8
    activations uint8 per tensor, any zero point."""
    if act == "UINT8":
        return _uint8_weight(sg, op, p, src, notes)
    if src is None:  # a float weight without QDQ: quantized by the spec's rule
        w = sg.tensors[op.inputs[p]]
        return _requantize_weight(sg, w, w.data.astype(np.float32), spec, notes, "float weight without QDQ")
    w = sg.tensors[src]
    qp = w.quantization
    axis = spec.weight_channel_axis
    problems = []
    if w.type != "INT8":
        problems.append(f"{w.type} weights")
    if spec.bias_input is not None and np.any(qp.zero_point != 0):
        problems.append("zero point != 0")
    if qp.per_channel and (axis is None or qp.quantized_dimension != axis % len(w.shape)):
        problems.append(f"per-channel axis {qp.quantized_dimension} where {op.op_type} needs "
                        + ("per-tensor" if axis is None else f"axis {axis % len(w.shape)}"))
    if not problems:
        return src
    return _requantize_weight(sg, w, real_values(w), spec, notes, ", ".join(problems))


def _requantize_weight(sg: Subgraph, w: Tensor, real: np.ndarray, spec, notes: list, why: str) -> int:
    axis = spec.weight_channel_axis
    axis = None if axis is None or real.ndim == 0 else axis % real.ndim
    per_channel = axis is not None and (w.quantization is None or w.quantization.per_channel)
    axis = axis if per_channel else None
    ws = P.weight_scales(real, axis)
    q = P.quantize_weights(real, ws, axis)
    i = new_const(sg, w, q, "INT8", qparams(ws, np.zeros(ws.size), axis or 0))
    old = w.quantization if w.quantized else None
    note_changed(notes, sg.tensors[i], old, w.type, f"{why}: requantized to symmetric int8")
    return i


def _uint8_weight(sg: Subgraph, op, p: int, src: int | None, notes: list) -> int:
    """A legacy uint8 kernel's weight: uint8, one scale and zero point for the tensor (kept as
    given when it already is; otherwise requantized over its range including 0, and listed)."""
    w = sg.tensors[src if src is not None else op.inputs[p]]
    if src is not None and w.type == "UINT8" and not w.quantization.per_channel:
        return src
    real = real_values(w) if src is not None else w.data.astype(np.float32)
    params = P.activation_params(float(min(real.min(), 0.0)), float(max(real.max(), 0.0)), "UINT8")
    i = new_const(sg, w, P.quantize_values(real, params), "UINT8", qparams(params.scale, params.zero_point))
    note_changed(notes, sg.tensors[i], w.quantization if src is not None else None, w.type,
                 "legacy uint8 kernels take per-tensor uint8 weights: requantized")
    return i


def _float_constant(sg: Subgraph, t: int, act: str, notes: list) -> int:
    """A float constant operand without QDQ (an ADD / CONCAT operand): quantized by its range."""
    c = sg.tensors[t]
    p = P.constant_params(c.data, act)
    i = new_const(sg, c, P.quantize_values(c.data, p), act, qparams(p.scale, p.zero_point))
    note_changed(notes, sg.tensors[i], None, "FLOAT32", "float constant without QDQ, quantized by its range")
    return i


def _bias(sg: Subgraph, op, spec, src: int | None, acts: list, act: str, notes: list) -> int:
    """The bias at input_scale * weight_scale (int32; int64 with int16 activations): the given
    integers when their scale already is that product, else requantized (and listed)."""
    b_in = sg.tensors[op.inputs[spec.bias_input]]
    in_scale = float(sg.tensors[op.inputs[acts[0]]].quantization.scale[0])
    w_scales = sg.tensors[op.inputs[spec.weight_inputs[0]]].quantization.scale
    want = np.float64(in_scale) * w_scales.astype(np.float64)
    bias_type = "INT64" if act == "INT16" else "INT32"
    if src is not None:
        b = sg.tensors[src]
        qp = b.quantization
        if b.type in BIAS_TYPES and not np.any(qp.zero_point != 0):
            have = np.broadcast_to(qp.scale.astype(np.float64), want.shape) if qp.scale.size == 1 else qp.scale
            if have.shape == want.shape and np.all(np.abs(have - want) <= BIAS_SCALE_RTOL * np.minimum(have, want)):
                if b.type == bias_type:
                    return src
                return new_const(sg, b, b.data.astype(np.dtype(bias_type.lower())), bias_type, qp)
        real, old, old_type = real_values(b), qp, b.type
    else:
        real, old, old_type = b_in.data.astype(np.float32), None, "FLOAT32"
    scales = want.astype(np.float32)
    values = real.reshape(-1)
    per = np.resize(scales, values.size) if scales.size not in (1, values.size) else scales
    qb, over = P.quantize_bias(values, per, bias_type)
    i = new_const(sg, b_in if src is None else sg.tensors[src], qb.reshape(real.shape), bias_type,
                   qparams(scales, np.zeros(scales.size), 0))
    if src is not None:
        note_changed(notes, sg.tensors[i], old, old_type, "bias scale must be input_scale * weight_scale")
    if over.any():
        notes.append(f"clamped '{sg.tensors[i].name}': bias channel(s) {np.flatnonzero(over).tolist()} overflow {bias_type}")
    return i


def _linked_inputs(spec, acts: list) -> list:
    linked = [acts[0]] if spec.same_scale and acts else []
    if "all" in spec.same_scale_inputs:
        return list(acts)
    return linked + [p for p in spec.same_scale_inputs if p in acts and p not in linked]


def _share_params(sg: Subgraph, op, spec, acts: list, st: _State, notes: list) -> None:
    """Ops whose integer kernel copies values (pooling, concatenation, reshape, ...) need their
    inputs and outputs to share parameters: differing inputs are requantized to the output's
    (for several outputs, differing outputs are requantized from the input's)."""
    if not (spec.same_scale or spec.same_scale_inputs):
        return
    linked = _linked_inputs(spec, acts)
    outs = [j for j, t in enumerate(op.outputs) if t >= 0 and sg.tensors[t].quantized]
    if not linked or not outs:
        return
    why = f"{op.op_type} needs its inputs and output to share parameters"
    if len(outs) == 1:
        ref = sg.tensors[op.outputs[outs[0]]]
        for p in linked:
            t = sg.tensors[op.inputs[p]]
            if same_params(t, ref):
                continue
            if t.is_constant:
                params = P.Params.of(ref.quantization.scale, ref.quantization.zero_point, ref.type)
                op.inputs[p] = new_const(sg, t, P.quantize_values(real_values(t), params), ref.type, qparams(params.scale, params.zero_point))
            else:
                r = add_tensor(sg, t.name + "_requantized", t.shape, ref.type,
                               qparams(ref.quantization.scale, ref.quantization.zero_point), like=t)
                st.before.setdefault(id(op), []).append(new_op("QUANTIZE", [op.inputs[p]], [r]))
                op.inputs[p] = r
            notes.append(f"requantized '{t.name}' for {op.op_type}: {fmt_params(t.quantization, t.type)} -> "
                         f"{fmt_params(ref.quantization, ref.type)} ({why})")
        return
    ref = sg.tensors[op.inputs[linked[0]]]
    for j in outs:
        o = sg.tensors[op.outputs[j]]
        if same_params(o, ref):
            continue
        f = add_tensor(sg, o.name + "_shared", o.shape, ref.type, qparams(ref.quantization.scale, ref.quantization.zero_point), like=o)
        st.after.setdefault(id(op), []).insert(0, new_op("QUANTIZE", [f], [op.outputs[j]]))
        op.outputs[j] = f
        notes.append(f"requantized '{o.name}' from {op.op_type}'s shared parameters: {fmt_params(ref.quantization, ref.type)} "
                     f"-> {fmt_params(o.quantization, o.type)} ({why})")


def _int16_options(op, spec, act: str) -> None:
    if act != "INT16":
        return
    if op.op_type in ("ADD", "SUB"):
        op.options["pot_scale_int16"] = False
        op.options_type = op.options_type or spec.options
    if op.op_type in ("CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV") and spec.bias_input is not None \
            and len(op.inputs) > spec.bias_input and op.inputs[spec.bias_input] >= 0:
        op.options["quantized_bias_type"] = 4  # TensorType INT64
        op.options_type = op.options_type or spec.options


def _hybrid(sg: Subgraph, op, spec, st: _State, notes: list) -> bool:
    """An op with float activations and constant int8 weights (a dynamic-quantized import,
    directly or through a DEQUANTIZE) is TFLite's hybrid form: only its weights are made what
    the hybrid kernel takes."""
    if not spec.hybrid:
        return False
    found = {}
    for p in spec.weight_inputs:
        t = op.inputs[p] if p < len(op.inputs) else -1
        src = st.dq_src.get(t, t) if t >= 0 else -1
        if src >= 0 and sg.tensors[src].is_constant and sg.tensors[src].type == "INT8" and sg.tensors[src].quantized:
            found[p] = src
    if not found:
        return False
    for p, src in found.items():
        op.inputs[p] = _weight(sg, op, p, src, spec, notes)
        w = sg.tensors[op.inputs[p]]
        if op.op_type == "DEPTHWISE_CONV_2D" and not w.quantization.per_channel:
            # TFLite's hybrid depthwise kernel takes one scale per channel: the same one repeated
            channels = w.shape[spec.weight_channel_axis]
            qp = w.quantization
            i = new_const(sg, w, w.data, "INT8", qparams(np.repeat(qp.scale, channels), np.zeros(channels),
                                                        spec.weight_channel_axis))
            op.inputs[p] = i
    if op.op_type in ("FULLY_CONNECTED", "BATCH_MATMUL"):
        op.options["asymmetric_quantize_inputs"] = True  # per-row zero points, as onnxruntime's uint8 inputs
        op.options_type = op.options_type or spec.options
    return True


# ---- cleanup and the list of what stays float ---------------------------------------------

def _collapse_requantize(sg: Subgraph) -> None:
    """DEQUANTIZE(a) -> QUANTIZE -> b becomes QUANTIZE(a) -> b (an integer requantize), and a
    requantize to identical parameters disappears (b is replaced by a)."""
    prod = {t: op for op in sg.operators for t in op.outputs if t >= 0}
    keep = []
    for op in sg.operators:
        if op.op_type == "QUANTIZE":
            d = prod.get(op.inputs[0])
            if d is not None and d.op_type == "DEQUANTIZE" and sg.tensors[d.inputs[0]].quantized:
                op.inputs = [d.inputs[0]]
            a, b = op.inputs[0], op.outputs[0]
            if sg.tensors[a].quantized and same_params(sg.tensors[a], sg.tensors[b]) and b not in sg.outputs:
                replace_uses(sg, b, a, graph_outputs=False)
                continue
        keep.append(op)
    sg.operators = keep


def _dequantize_int32_constants(sg: Subgraph) -> None:
    """A bias left behind a DEQUANTIZE (its op stayed float, and is listed) becomes a float
    constant: TFLite's DEQUANTIZE takes no int32 input."""
    keep = []
    for op in sg.operators:
        src = sg.tensors[op.inputs[0]] if op.op_type == "DEQUANTIZE" else None
        if src is not None and src.is_constant and src.type in BIAS_TYPES and src.quantized:
            sg.tensors[op.outputs[0]].set_data(real_values(src))
            continue
        keep.append(op)
    sg.operators = keep


def _float_ops(sg: Subgraph, reasons: dict) -> list:
    groups: dict = {}
    for op in sg.operators:
        if op.op_type in ("QUANTIZE", "DEQUANTIZE") or reasons.get(id(op)) == "hybrid":
            continue
        spec = get_spec(op.op_type)
        non_float = set(spec.non_float_inputs) if spec is not None else set()
        floats = [t for p, t in enumerate(op.inputs) if t >= 0 and p not in non_float
                  and sg.tensors[t].type == "FLOAT32" and not sg.tensors[t].is_constant]
        floats += [t for t in op.outputs if t >= 0 and sg.tensors[t].type == "FLOAT32"]
        if not floats:
            continue
        key = (op.name, reasons.get(id(op), "not quantized"))
        groups.setdefault(key, []).append(sg.tensors[op.outputs[0]].name if op.outputs else "?")
    lines = []
    for (name, why), outs in groups.items():
        shown = ", ".join(repr(o) for o in outs[:3]) + (", ..." if len(outs) > 3 else "")
        lines.append(f"left float: {len(outs)} x {name} ({why}): {shown}")
    return lines
