"""Full-integer PTQ across subgraph boundaries (after every subgraph was quantized on its own,
quantize/ptq.py, with float inputs and outputs).

IF, WHILE and the resource variables move raw bytes between subgraphs: LiteRT's kernels copy a
tensor into another subgraph's tensor without looking at quantization parameters. So when a value
crosses as an integer, every tensor it lands in must carry the same parameters:

- WHILE: loop value j is one set of parameters in the caller's operand and result, the cond's
  and body's input j and the body's output j: parameters covering the body input's range
  (calibrated over every iteration), the body output's and the caller's result's;
- IF: operand j and input j of both branches share the parameters of the caller's quantized
  operand (else those the branches' quantized readers use); result j and output j of both
  branches those of the caller's quantized reader of the result (else parameters covering both
  branches' outputs);
- resource variables (TF's `_experimental_variable_quantization`, its QuantizeVariablesPass): the
  variable takes the parameters of the first QUANTIZE reading a READ_VARIABLE result (else those
  of the first value assigned through a DEQUANTIZE); every ASSIGN_VARIABLE stores a value
  (re)quantized to them, constants (CALL_ONCE initialisers) quantized directly.

A value that no quantized operator reads on the far side keeps crossing in float. The float edges
the per-subgraph pass left (QUANTIZE after an input, DEQUANTIZE before an output) fold away where
the parameters agree and become requantizing QUANTIZE where they do not.
"""

from __future__ import annotations

from eightbit.ir import Model, Subgraph
from eightbit.passes.graph import add_tensor, consumers, new_op, replace_uses
from eightbit.quantize import params as P
from eightbit.quantize.ptq_state import Report, params_of, qparams


def _producer(sg: Subgraph, t: int):
    return next((k for k, op in enumerate(sg.operators) if t in op.outputs), None)


def _act_params(sg: Subgraph, t: int, act: str):
    p = params_of(sg.tensors[t])
    return p if p is not None and p.type == act and p.scale.size == 1 else None


def _quantize_reader_params(sg: Subgraph, t: int, act: str):
    """Parameters of the first QUANTIZE reading float tensor t (what the quantized readers use)."""
    for k, _pos in consumers(sg).get(t, []):
        op = sg.operators[k]
        if op.op_type == "QUANTIZE":
            p = _act_params(sg, op.outputs[0], act)
            if p is not None:
                return p
    return None


def _union(params: list):
    """Parameters covering every real range the given parameters represent (None if none)."""
    params = [p for p in params if p is not None]
    if len(params) <= 1 or all(p.same(params[0]) for p in params):
        return params[0] if params else None
    lo, hi = [], []
    for p in params:
        qmin, qmax = P.QRANGE[p.type]
        s, z = float(p.scale[0]), int(p.zero_point[0])
        lo.append(s * (qmin - z))
        hi.append(s * (qmax - z))
    return P.activation_params(min(lo), max(hi), params[0].type)


def _output_params(sg: Subgraph, t: int, act: str):
    """The parameters a subgraph output had before its DEQUANTIZE (None if computed in float)."""
    src = _dequantized_source(sg, t)
    return _act_params(sg, src, act) if src is not None else None


def _dequantized_source(sg: Subgraph, t: int):
    """The quantized tensor a DEQUANTIZE turned into float tensor t, or None."""
    k = _producer(sg, t)
    if k is not None and sg.operators[k].op_type == "DEQUANTIZE":
        return sg.operators[k].inputs[0]
    return None


def retype_to_quantized(sg: Subgraph, t: int, p: P.Params) -> None:
    """Float tensor t (a subgraph input, or the result of IF / WHILE / READ_VARIABLE) now arrives
    quantized with p: QUANTIZE readers with p read the quantized tensor itself, other QUANTIZE
    readers requantize it, float readers (and a subgraph output) read a DEQUANTIZE of it. A
    subgraph output keeps its float tensor (its name and signature entry): the producer then
    writes a new quantized tensor."""
    tt = sg.tensors[t]
    if tt.type != "FLOAT32":
        return
    prod = _producer(sg, t)
    keep_float = prod is not None and t in sg.outputs
    if keep_float:
        q = add_tensor(sg, tt.name + "_quantized", tt.shape, p.type, qparams(p), like=tt)
        sg.operators[prod].outputs = [q if o == t else o for o in sg.operators[prod].outputs]
    else:
        q = t
    drop, float_readers = [], []
    for k, pos in consumers(sg).get(t, []):
        op = sg.operators[k]
        if op.op_type == "QUANTIZE" and pos == 0:
            out = op.outputs[0]
            if out not in sg.outputs and p.same(params_of(sg.tensors[out])):
                replace_uses(sg, out, q, graph_outputs=False)
                drop.append(op)
                continue
            op.inputs[0] = q  # requantizes
            continue
        float_readers.append((op, pos))
    deq = None
    if keep_float:
        deq = new_op("DEQUANTIZE", [q], [t])
    else:
        tt.type, tt.quantization = p.type, qparams(p)
        if float_readers or t in sg.outputs:
            f = add_tensor(sg, tt.name + "_dequantized", tt.shape, "FLOAT32", like=tt)
            for op, pos in float_readers:
                op.inputs[pos] = f
            sg.outputs = [f if o == t else o for o in sg.outputs]
            deq = new_op("DEQUANTIZE", [t], [f])
    sg.operators = [op for op in sg.operators if not any(op is d for d in drop)]
    if deq is not None:
        k = _producer(sg, q)
        sg.operators.insert(0 if k is None else k + 1, deq)


def quantized_source(sg: Subgraph, t: int, p: P.Params, before: int) -> int:
    """A tensor holding t quantized with p, for a use by operator `before` (len(operators) for a
    subgraph output): t's own quantized source when a DEQUANTIZE made it and the parameters
    agree, a quantized constant for a constant, else a (re)quantizing QUANTIZE inserted there."""
    src = _dequantized_source(sg, t)
    if src is not None:
        t = src
    tt = sg.tensors[t]
    if tt.type != "FLOAT32" and p.same(params_of(tt)):
        return t
    for op in sg.operators[:before]:  # an earlier QUANTIZE of t to p already
        if op.op_type == "QUANTIZE" and op.inputs[0] == t and p.same(params_of(sg.tensors[op.outputs[0]])):
            return op.outputs[0]
    name = tt.name + ("_requantized" if tt.type != "FLOAT32" else "_quantized")
    q = add_tensor(sg, name, tt.shape, p.type, qparams(p), like=tt)
    if tt.type == "FLOAT32" and tt.is_constant:
        sg.tensors[q].set_data(P.quantize_values(tt.data, p), keep_type=True)
        return q
    sg.operators.insert(before, new_op("QUANTIZE", [t], [q]))
    return q


def _callers(model: Model) -> dict:
    """subgraph index -> how many operators call it."""
    count: dict = {}
    for sg in model.subgraphs:
        for op in sg.operators:
            for key in ("then_subgraph_index", "else_subgraph_index", "cond_subgraph_index", "body_subgraph_index",
                        "init_subgraph_index"):
                if op.options and key in op.options:
                    count[int(op.options[key])] = count.get(int(op.options[key]), 0) + 1
    return count


def _share_while(model: Model, sg: Subgraph, op, act: str) -> int:
    cond, body = (model.subgraphs[int(op.options[k])] for k in ("cond_subgraph_index", "body_subgraph_index"))
    shared = 0
    for j in range(len(op.inputs)):
        b_in = body.inputs[j]
        if body.tensors[b_in].type != "FLOAT32":
            continue
        p_in = _quantize_reader_params(body, b_in, act) or _quantize_reader_params(cond, cond.inputs[j], act)
        if p_in is None:
            continue
        # every value the loop carries: the inputs of all iterations and the last result
        p = _union([p_in, _output_params(body, body.outputs[j], act), _quantize_reader_params(sg, op.outputs[j], act)])
        if p is None:
            continue
        retype_to_quantized(body, b_in, p)
        body.outputs[j] = quantized_source(body, body.outputs[j], p, len(body.operators))
        retype_to_quantized(cond, cond.inputs[j], p)
        op.inputs[j] = quantized_source(sg, op.inputs[j], p, sg.operators.index(op))
        retype_to_quantized(sg, op.outputs[j], p)
        shared += 1
    return shared


def _share_if(model: Model, sg: Subgraph, op, act: str) -> int:
    branches = [model.subgraphs[int(op.options[k])] for k in ("then_subgraph_index", "else_subgraph_index")]
    shared = 0
    for j, x in enumerate(op.inputs[1:]):
        if sg.tensors[x].type != "FLOAT32" or any(b.tensors[b.inputs[j]].type != "FLOAT32" for b in branches):
            continue
        src = _dequantized_source(sg, x)
        p = (_act_params(sg, src, act) if src is not None else None) or next(
            filter(None, (_quantize_reader_params(b, b.inputs[j], act) for b in branches)), None)
        if p is None:
            continue
        op.inputs[j + 1] = quantized_source(sg, x, p, sg.operators.index(op))
        for b in branches:
            retype_to_quantized(b, b.inputs[j], p)
        shared += 1
    for j, y in enumerate(op.outputs):
        if sg.tensors[y].type != "FLOAT32":
            continue
        reader = _quantize_reader_params(sg, y, act)
        p = reader or _union([_output_params(b, b.outputs[j], act) for b in branches])
        if p is None:
            continue
        for b in branches:
            b.outputs[j] = quantized_source(b, b.outputs[j], p, len(b.operators))
        retype_to_quantized(sg, y, p)
        shared += 1
    return shared


def share_boundary_parameters(model: Model, act: str, report: Report) -> None:
    """IF and WHILE pass quantized values with one set of parameters on both sides."""
    callers = _callers(model)
    shared, crossing_float = 0, []
    for sg in model.subgraphs:
        for op in list(sg.operators):
            if op.op_type not in ("IF", "WHILE"):
                continue
            keys = ("cond_subgraph_index", "body_subgraph_index") if op.op_type == "WHILE" else \
                ("then_subgraph_index", "else_subgraph_index")
            indices = [int(op.options[k]) for k in keys]
            if any(callers.get(i, 0) != 1 for i in indices) or len(set(indices)) != 2:
                crossing_float.append(f"{op.op_type} in subgraph {model.subgraphs.index(sg)}")
                continue
            shared += (_share_while if op.op_type == "WHILE" else _share_if)(model, sg, op, act)
    if crossing_float:
        report.warn(f"{', '.join(crossing_float)}: their subgraphs are called from elsewhere too: values cross "
                    "them in float")
    if shared:
        report.passes["shared_boundary_parameters"] = shared


def quantize_variables(model: Model, act: str, report: Report) -> None:
    """Resource variables hold integers (TF's QuantizeVariablesPass), see the module doc."""
    groups: dict = {}
    for sg in model.subgraphs:
        handles = {op.outputs[0]: (op.options or {}) for op in sg.operators if op.op_type == "VAR_HANDLE"}
        for op in sg.operators:
            if op.op_type in ("READ_VARIABLE", "ASSIGN_VARIABLE") and op.inputs[0] in handles:
                o = handles[op.inputs[0]]
                groups.setdefault((o.get("container") or "", o.get("shared_name") or ""), []).append((sg, op))
    done = 0
    for uses in groups.values():
        p = None
        for sg, op in uses:
            if op.op_type == "READ_VARIABLE" and sg.tensors[op.outputs[0]].type == "FLOAT32":
                p = p or _quantize_reader_params(sg, op.outputs[0], act)
        for sg, op in uses if p is None else ():
            src = _dequantized_source(sg, op.inputs[1]) if op.op_type == "ASSIGN_VARIABLE" else None
            p = p or (_act_params(sg, src, act) if src is not None else None)
        if p is None:
            continue
        for sg, op in uses:
            if op.op_type == "READ_VARIABLE":
                retype_to_quantized(sg, op.outputs[0], p)
            else:
                op.inputs[1] = quantized_source(sg, op.inputs[1], p, sg.operators.index(op))
        done += 1
    if done:
        report.passes["quantized_variables"] = done
    elif groups:
        report.warn("no resource variable is read or written by a quantized operator: they stay float")
