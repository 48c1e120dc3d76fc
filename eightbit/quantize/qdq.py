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

from eightbit.ir import Model, QuantParams, Subgraph, Tensor
from eightbit.kernels.registry import get_kernel, get_spec
from eightbit.passes.graph import add_tensor, new_op, prune, replace_uses, sort_topologically
from eightbit.quantize import params as P

ACT_TYPES = ("INT8", "INT16")
BIAS_TYPES = ("INT32", "INT64")
# TFLite's kernel_util GetQuantizedConvolutionMultipler accepts a bias scale within this
# relative distance of input_scale * filter_scale.
BIAS_SCALE_RTOL = 1e-6
_MOVEMENT = ("TRANSPOSE", "RESHAPE", "SQUEEZE", "EXPAND_DIMS")


def fold_qdq(model: Model) -> list[str]:
    """Rewrite subgraph 0 of `model` in place; return one line per tensor whose parameters were
    changed (old -> new) and per operator left float (with the reason)."""
    sg = model.main
    notes: list = []
    _propagate_integer_params(sg)
    floor_zero = _normalize_types(sg, notes)
    _fold_constant_movement(sg)
    _hoist_quantize(sg)
    st = _State.of(sg)
    reasons = {}
    for op in list(sg.operators):
        if op.op_type in ("QUANTIZE", "DEQUANTIZE"):
            continue
        why = _fold_op(sg, op, st, notes)
        if why is not None:
            reasons[id(op)] = why
    st.apply(sg)
    hybrids = [op for op in sg.operators if reasons.get(id(op)) == "hybrid"]
    _absorb_hybrid_scales(sg, hybrids)
    _collapse_requantize(sg)
    _keep_zero_floor(sg, floor_zero, notes)
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


def _fmt(qp: QuantParams | None, type_: str = "") -> str:
    if qp is None or not qp.is_quantized:
        return f"{type_} (no parameters)".strip()
    n = qp.scale.size
    s = [float(f"{v:.6g}") for v in qp.scale[:3]]
    z = qp.zero_point[:3].tolist()
    more = "..." if n > 3 else ""
    axis = f" axis={qp.quantized_dimension}" if n > 1 else ""
    return f"{type_} scale={s if n > 1 else s[0]}{more} zp={z if n > 1 else z[0]}{more}{axis}".strip()


def _changed(notes: list, t: Tensor, old: QuantParams | None, old_type: str, why: str) -> None:
    notes.append(f"changed '{t.name}': {_fmt(old, old_type)} -> {_fmt(t.quantization, t.type)} ({why})")


def _qp(scale, zp, axis: int = 0) -> QuantParams:
    return QuantParams(np.asarray(scale, np.float32), np.asarray(zp, np.int64), axis)


def _same(a: Tensor, b: Tensor) -> bool:
    return a.type == b.type and a.quantization == b.quantization


def _real(t: Tensor) -> np.ndarray:
    """The real values of a quantized constant: (q - zp) * scale, per channel where given."""
    qp = t.quantization
    q = t.data.astype(np.float64)
    shape = [1] * q.ndim
    if qp.scale.size > 1:
        shape[qp.quantized_dimension] = -1
    s = qp.scale.astype(np.float64).reshape(shape if q.ndim else ())
    z = qp.zero_point.astype(np.float64).reshape(shape if q.ndim else ())
    return ((q - z) * s).astype(np.float32)


def _new_const(sg: Subgraph, like: Tensor, data: np.ndarray, type_: str, qp: QuantParams | None) -> int:
    i = add_tensor(sg, like.name, data.shape, type_, qp, like=like)
    sg.tensors[i].set_data(np.asarray(data), keep_type=True)
    sg.tensors[i].name = like.name  # the replaced constant is pruned; the name stays the source's
    return i


# ---- 1. types TFLite's integer kernels take -------------------------------------------------

def _normalize_types(sg: Subgraph, notes: list) -> set:
    """uint8 -> int8 and uint16 -> int16 with the same real values (zero point shifted); int16
    with a zero point != 0 -> symmetric int16 (TFLite's int16x8 kernels need zero point 0).
    Returns the activations whose old range started at exactly 0: quantizing clamped them at 0
    (onnxruntime drops a ReLU there), which the symmetric range no longer does."""
    edge = set(sg.inputs) | set(sg.outputs)
    shifted = 0
    floor_zero = set()
    for i, t in enumerate(sg.tensors):
        if not t.quantized or i in edge:
            continue
        if t.type in ("UINT8", "UINT16"):
            signed, offset = ("INT8", 128) if t.type == "UINT8" else ("INT16", 32768)
            if t.is_constant:
                t.set_data((t.data.astype(np.int64) - offset).astype(np.dtype(signed.lower())), keep_type=False)
            t.type = signed
            t.quantization = _qp(t.quantization.scale, t.quantization.zero_point - offset,
                                 t.quantization.quantized_dimension)
            shifted += 1
        if t.type == "INT16" and np.any(t.quantization.zero_point != 0):
            old = t.quantization
            real = _real(t) if t.is_constant else None
            if real is None and old.scale.size == 1 and int(old.zero_point[0]) == -32768:
                floor_zero.add(i)
            lo = (-32768 - old.zero_point.astype(np.float64)) * old.scale
            hi = (32767 - old.zero_point.astype(np.float64)) * old.scale
            scale = (np.maximum(np.abs(lo), np.abs(hi)) / 32767).astype(np.float32)
            t.quantization = _qp(scale, np.zeros(scale.size), old.quantized_dimension)
            if real is not None:
                t.set_data(np.clip(np.round(real / _bcast(scale, real.ndim, old)), -32767, 32767).astype(np.int16),
                           keep_type=True)
            _changed(notes, t, old, "INT16", "TFLite's int16 kernels need zero point 0")
    if shifted:
        notes.append(f"{shifted} uint8/uint16 tensor(s) stored as int8/int16 (zero point shifted, same real values)")
    return floor_zero


def _keep_zero_floor(sg: Subgraph, floor_zero: set, notes: list) -> None:
    """The clamp at 0 that an int16 range starting at 0 made (see _normalize_types) as a fused
    RELU of the producing op, or a RELU op after it."""
    prod = {t: op for op in sg.operators for t in op.outputs if t >= 0}
    for t in sorted(floor_zero):
        op = prod.get(t)
        if op is None or op.op_type == "RELU":
            continue
        name = sg.tensors[t].name
        if op.options.get("fused_activation_function", None) == 0:
            op.options["fused_activation_function"] = 1  # RELU
            notes.append(f"kept the clamp at 0 of '{name}' (int16 zero point -32768) as a fused RELU")
            continue
        y = sg.tensors[t]
        r = add_tensor(sg, y.name + "_unclamped", y.shape, y.type, _qp(y.quantization.scale, y.quantization.zero_point),
                       like=y)
        op.outputs = [r if o == t else o for o in op.outputs]
        sg.operators.insert(sg.operators.index(op) + 1, new_op("RELU", [r], [t]))
        notes.append(f"kept the clamp at 0 of '{name}' (int16 zero point -32768) as a RELU")


def _bcast(scale: np.ndarray, ndim: int, qp: QuantParams) -> np.ndarray:
    if scale.size == 1 or ndim == 0:
        return scale.reshape(())
    shape = [1] * ndim
    shape[qp.quantized_dimension] = -1
    return scale.reshape(shape)


# ---- 2. constant weights moved by TRANSPOSE / RESHAPE after their DEQUANTIZE ----------------

def _fold_constant_movement(sg: Subgraph) -> None:
    """DEQUANTIZE(constant) -> TRANSPOSE/RESHAPE/... becomes DEQUANTIZE(moved constant), so the
    weight reaches its op as a constant (e.g. a MatMul weight [K, N] made [N, K])."""
    prod = {t: op for op in sg.operators for t in op.outputs if t >= 0}
    for op in sg.operators:
        if op.op_type not in _MOVEMENT:
            continue
        dq = prod.get(op.inputs[0])
        if dq is None or dq.op_type != "DEQUANTIZE" or not sg.tensors[dq.inputs[0]].is_constant:
            continue
        if any(t >= 0 and not sg.tensors[t].is_constant for t in op.inputs[1:]):
            continue
        src = sg.tensors[dq.inputs[0]]
        out = sg.tensors[op.outputs[0]]
        moved = _moved(src, op, sg, tuple(out.shape))
        if moved is None:
            continue
        data, axis = moved
        qp = _qp(src.quantization.scale, src.quantization.zero_point, axis)
        c = _new_const(sg, src, data, src.type, qp)
        op.op_type, op.inputs, op.options, op.options_type = "DEQUANTIZE", [c], {}, None
        prod = {t: o for o in sg.operators for t in o.outputs if t >= 0}


def _moved(src: Tensor, op, sg: Subgraph, out_shape: tuple):
    data, qp = src.data, src.quantization
    axis = qp.quantized_dimension
    if op.op_type == "TRANSPOSE":
        perm = [int(v) for v in sg.tensors[op.inputs[1]].data.reshape(-1)]
        return np.transpose(data, perm), (perm.index(axis) if qp.per_channel else 0)
    new = data.reshape(out_shape)
    if not qp.per_channel:
        return new, 0
    before = int(np.prod(data.shape[:axis]))
    for j in range(len(out_shape)):
        if int(np.prod(out_shape[:j])) == before and out_shape[j] == data.shape[axis]:
            return new, j
    return None


def _hoist_quantize(sg: Subgraph) -> None:
    """float x -> RESHAPE / TRANSPOSE / ... -> QUANTIZE becomes QUANTIZE -> the same op on
    integers (quantizing is elementwise, so this is exact): onnxruntime's QOperator models
    flatten a float input before quantizing it."""
    changed = True
    while changed:
        changed = False
        readers: dict = {}
        for op in sg.operators:
            for t in op.inputs:
                if t >= 0:
                    readers.setdefault(t, []).append(op)
        dequantized = {op.outputs[0] for op in sg.operators if op.op_type == "DEQUANTIZE"}
        for op in sg.operators:
            if op.op_type not in _MOVEMENT or op.outputs[0] in sg.outputs or op.inputs[0] in dequantized:
                continue
            x, y = sg.tensors[op.inputs[0]], op.outputs[0]
            users = readers.get(y, [])
            if x.type != "FLOAT32" or x.is_constant or len(users) != 1 or users[0].op_type != "QUANTIZE":
                continue
            quant = users[0]
            q_out = sg.tensors[quant.outputs[0]]
            q_in = add_tensor(sg, x.name + "_quantized", x.shape, q_out.type,
                              _qp(q_out.quantization.scale, q_out.quantization.zero_point), like=x)
            quant.inputs, quant.outputs = [op.inputs[0]], [q_in]
            op.inputs[0], op.outputs[0] = q_in, sg.tensors.index(q_out)
            k = sg.operators.index(op)
            sg.operators.remove(quant)
            sg.operators.insert(k, quant)
            changed = True
            break


# ---- 3. one operator ------------------------------------------------------------------------

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
    if act not in ACT_TYPES:
        return f"{act} activations"
    if act == "INT16" and not spec.int16:
        return "TFLite has no int16x8 kernel"
    for p in float_out:
        _fold_output(sg, op, p, spec, act, st, notes)
    for p in float_in:
        if p in weights and sg.tensors[srcs.get(p, op.inputs[p])].is_constant:
            op.inputs[p] = _weight(sg, op, p, srcs.get(p), spec, notes)
        elif p != spec.bias_input:
            op.inputs[p] = srcs[p] if p in srcs else _float_constant(sg, op.inputs[p], act, notes)
    if spec.bias_input is not None and spec.bias_input in float_in:
        op.inputs[spec.bias_input] = _bias(sg, op, spec, srcs.get(spec.bias_input), acts, act, notes)
    _share_params(sg, op, spec, acts, st, notes)
    _int16_options(op, spec, act)
    return None


def _inherit_params(sg: Subgraph, op, spec, p: int, float_in: list, srcs: dict, st: _State) -> bool:
    """An unquantized output of a one-input same-scale op (a TRANSPOSE the layout pass inserted
    between a DEQUANTIZE and its op, a RESHAPE ...) takes its input's parameters, as TFLite needs."""
    acts = [q for q in float_in if q in srcs and not sg.tensors[srcs[q]].is_constant]
    if not spec.same_scale or spec.same_scale_inputs or len(acts) != 1 or len(float_in) != 1:
        return False
    src = sg.tensors[srcs[acts[0]]]
    y = sg.tensors[op.outputs[p]]
    q = add_tensor(sg, y.name + "_q", y.shape, src.type,
                   _qp(src.quantization.scale, src.quantization.zero_point), like=y)
    st.q_readers[op.outputs[p]] = [new_op("QUANTIZE", [op.outputs[p]], [q])]  # stands for the missing one
    return True


def _propagate_integer_params(sg: Subgraph) -> None:
    """Same-scale ops run directly on integer tensors (onnxruntime's QOperator MaxPool, Reshape,
    Transpose ...) give their unquantized outputs the input's parameters."""
    for op in sg.operators:
        spec = get_spec(op.op_type)
        if spec is None or not spec.same_scale or not op.inputs or op.inputs[0] < 0:
            continue
        first = next((t for p, t in enumerate(op.inputs) if t >= 0 and p not in spec.non_float_inputs), -1)
        src = sg.tensors[first] if first >= 0 else None
        if src is None or not src.quantized or src.type not in ("INT8", "UINT8", "INT16"):
            continue
        for t in op.outputs:
            out = sg.tensors[t] if t >= 0 else None
            if out is not None and out.type == src.type and not out.quantized:
                out.quantization = _qp(src.quantization.scale, src.quantization.zero_point)


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
        out_t.quantization = _qp(fixed.scale, fixed.zero_point)
        _changed(notes, out_t, old, act, f"output of {op.op_type}, whose parameters TFLite fixes")
    op.outputs[p] = q_out
    st.dead.add(id(readers[0]))
    for r in readers[1:]:
        r.inputs = [q_out]
    others = [o for o in st.readers.get(y, []) if o.op_type != "QUANTIZE"]
    if others or y in sg.outputs:
        st.after.setdefault(id(op), []).append(new_op("DEQUANTIZE", [q_out], [y]))
        st.dq_src[y] = q_out


def _weight(sg: Subgraph, op, p: int, src: int | None, spec, notes: list) -> int:
    """The constant weight as TFLite's kernel takes it: int8, zero point 0 where the op has a
    bias (conv / fully connected), per channel only on the spec's axis."""
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
    return _requantize_weight(sg, w, _real(w), spec, notes, ", ".join(problems))


def _requantize_weight(sg: Subgraph, w: Tensor, real: np.ndarray, spec, notes: list, why: str) -> int:
    axis = spec.weight_channel_axis
    axis = None if axis is None or real.ndim == 0 else axis % real.ndim
    per_channel = axis is not None and (w.quantization is None or w.quantization.per_channel)
    axis = axis if per_channel else None
    ws = P.weight_scales(real, axis)
    q = P.quantize_weights(real, ws, axis)
    i = _new_const(sg, w, q, "INT8", _qp(ws, np.zeros(ws.size), axis or 0))
    old = w.quantization if w.quantized else None
    _changed(notes, sg.tensors[i], old, w.type, f"{why}: requantized to symmetric int8")
    return i


def _float_constant(sg: Subgraph, t: int, act: str, notes: list) -> int:
    """A float constant operand without QDQ (an ADD / CONCAT operand): quantized by its range."""
    c = sg.tensors[t]
    p = P.constant_params(c.data, act)
    i = _new_const(sg, c, P.quantize_values(c.data, p), act, _qp(p.scale, p.zero_point))
    _changed(notes, sg.tensors[i], None, "FLOAT32", "float constant without QDQ, quantized by its range")
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
                return _new_const(sg, b, b.data.astype(np.dtype(bias_type.lower())), bias_type, qp)
        real, old, old_type = _real(b), qp, b.type
    else:
        real, old, old_type = b_in.data.astype(np.float32), None, "FLOAT32"
    scales = want.astype(np.float32)
    values = real.reshape(-1)
    per = np.resize(scales, values.size) if scales.size not in (1, values.size) else scales
    qb, over = P.quantize_bias(values, per, bias_type)
    i = _new_const(sg, b_in if src is None else sg.tensors[src], qb.reshape(real.shape), bias_type,
                   _qp(scales, np.zeros(scales.size), 0))
    if src is not None:
        _changed(notes, sg.tensors[i], old, old_type, "bias scale must be input_scale * weight_scale")
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
            if _same(t, ref):
                continue
            if t.is_constant:
                params = P.Params.of(ref.quantization.scale, ref.quantization.zero_point, ref.type)
                op.inputs[p] = _new_const(sg, t, P.quantize_values(_real(t), params), ref.type, _qp(params.scale, params.zero_point))
            else:
                r = add_tensor(sg, t.name + "_requantized", t.shape, ref.type,
                               _qp(ref.quantization.scale, ref.quantization.zero_point), like=t)
                st.before.setdefault(id(op), []).append(new_op("QUANTIZE", [op.inputs[p]], [r]))
                op.inputs[p] = r
            notes.append(f"requantized '{t.name}' for {op.op_type}: {_fmt(t.quantization, t.type)} -> "
                         f"{_fmt(ref.quantization, ref.type)} ({why})")
        return
    ref = sg.tensors[op.inputs[linked[0]]]
    for j in outs:
        o = sg.tensors[op.outputs[j]]
        if _same(o, ref):
            continue
        f = add_tensor(sg, o.name + "_shared", o.shape, ref.type, _qp(ref.quantization.scale, ref.quantization.zero_point), like=o)
        st.after.setdefault(id(op), []).insert(0, new_op("QUANTIZE", [f], [op.outputs[j]]))
        op.outputs[j] = f
        notes.append(f"requantized '{o.name}' from {op.op_type}'s shared parameters: {_fmt(ref.quantization, ref.type)} "
                     f"-> {_fmt(o.quantization, o.type)} ({why})")


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
            i = _new_const(sg, w, w.data, "INT8", _qp(np.repeat(qp.scale, channels), np.zeros(channels),
                                                        spec.weight_channel_axis))
            op.inputs[p] = i
    if op.op_type in ("FULLY_CONNECTED", "BATCH_MATMUL"):
        op.options["asymmetric_quantize_inputs"] = True  # per-row zero points, as onnxruntime's uint8 inputs
        op.options_type = op.options_type or spec.options
    return True


def _absorb_hybrid_scales(sg: Subgraph, hybrids: list) -> None:
    """hybrid op (weights at scale s) -> MUL by a positive constant m -> ADD of a constant c
    (onnxruntime's dynamic MatMulInteger / ConvInteger pattern) becomes the hybrid op alone, with
    weight scales s * m and bias (bias * m + c): TFLite's hybrid kernels do that arithmetic."""
    for op in hybrids:
        spec = get_spec(op.op_type)
        if spec.bias_input is None or op.options.get("fused_activation_function", 0) != 0:
            continue
        w = sg.tensors[op.inputs[spec.weight_inputs[0]]]
        channels = w.shape[spec.weight_channel_axis or 0]
        nxt = _sole_reader(sg, op.outputs[0])
        m = _channel_constant(sg, nxt, "MUL", op.outputs[0], channels)
        if m is None or np.any(m <= 0):
            continue
        scales = (np.broadcast_to(w.quantization.scale, (channels,)) * m).astype(np.float32)
        if w.quantization.scale.size == 1 and np.all(scales == scales[0]):
            scales = scales[:1]
        axis = spec.weight_channel_axis if spec.weight_channel_axis is not None else 0
        w.quantization = _qp(scales, np.zeros(scales.size), axis % len(w.shape) if scales.size > 1 else 0)
        bias = _bias_values(sg, op, spec, channels) * m
        op.outputs = [nxt.outputs[0]]
        sg.operators.remove(nxt)
        add = _sole_reader(sg, op.outputs[0])
        c = _channel_constant(sg, add, "ADD", op.outputs[0], channels)
        if c is not None:
            bias = bias + c
            op.outputs = [add.outputs[0]]
            sg.operators.remove(add)
        b = add_tensor(sg, sg.tensors[op.outputs[0]].name + "_bias", (channels,))
        sg.tensors[b].set_data(bias.astype(np.float32))
        while len(op.inputs) <= spec.bias_input:
            op.inputs.append(-1)
        op.inputs[spec.bias_input] = b


def _sole_reader(sg: Subgraph, t: int):
    if t in sg.outputs:
        return None
    users = [op for op in sg.operators if t in op.inputs]
    return users[0] if len(users) == 1 else None


def _channel_constant(sg: Subgraph, op, op_type: str, x: int, channels: int) -> np.ndarray | None:
    """The per-channel values of `op` = op_type(x, constant) when the constant only varies along
    the last axis (or is a scalar), else None."""
    if op is None or op.op_type != op_type or len(op.inputs) != 2 or op.options.get("fused_activation_function", 0):
        return None
    other = op.inputs[1] if op.inputs[0] == x else op.inputs[0]
    c = sg.tensors[other]
    if not c.is_constant or c.type != "FLOAT32" or c.data.size not in (1, channels):
        return None
    if c.data.size == channels and c.data.ndim and c.data.shape[-1] != channels:
        return None
    return np.broadcast_to(c.data.reshape(-1).astype(np.float64), (channels,))


def _bias_values(sg: Subgraph, op, spec, channels: int) -> np.ndarray:
    b = op.inputs[spec.bias_input] if len(op.inputs) > spec.bias_input else -1
    if b < 0 or not sg.tensors[b].is_constant:
        return np.zeros(channels)
    return sg.tensors[b].data.astype(np.float64).reshape(-1)


# ---- 4. cleanup and the list of what stays float ---------------------------------------------

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
            if sg.tensors[a].quantized and _same(sg.tensors[a], sg.tensors[b]) and b not in sg.outputs:
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
            sg.tensors[op.outputs[0]].set_data(_real(src))
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
