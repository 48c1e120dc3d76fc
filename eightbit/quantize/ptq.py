"""Full-integer post-training quantization (int8, or int16 activations with int8 weights).

Given a float model and calibrated ranges (the converter's "collect statistics" stage,
quantize/calibration.py), every operator with an integer kernel is quantized, driven only by its
op table entry (eightbit/ops/), in named stages, each a function with its own test
(tests/quantize/test_stages.py):

1. `plan_operators`: which operators are quantized, and the role of each input (activation,
   weight, bias, shared parameters); the others stay float, with the reason in the report;
2. `choose_params` (ptq_choose.py): scale and zero point of every activation tensor, per the
   table's constraints (fixed outputs, shared scales as TF's converter propagates them);
3. `quantize_constants` (ptq_constants.py): weights symmetric int8 (per channel on
   `weight_channel_axis`), bias int32 / int64 at input_scale * weight_scale;
4. `rewrite_types` and `requantize_shared` (ptq_rewrite.py): tensor types, QUANTIZE /
   DEQUANTIZE at the float / integer boundaries (float or integer graph I/O), requantizing
   QUANTIZE where two fixed choices of shared parameters meet;
5. `finish` (ptq_rewrite.py): integer kernels' options and the new operator list.
The converter then sets the versions (quantize/versions.py: `update_versions`,
`set_min_runtime_version`).
"""

from __future__ import annotations

import fnmatch

from eightbit.ir import Model, Subgraph
from eightbit.kernels.registry import OP_NAMES, get_kernel, get_spec
from eightbit.passes.graph import unique_name
from eightbit.quantize.ptq_boundaries import quantize_variables, share_boundary_parameters
from eightbit.quantize.ptq_choose import choose_params
from eightbit.quantize.ptq_constants import quantize_constants
from eightbit.quantize.ptq_rewrite import finish, requantize_shared, rewrite_types
from eightbit.quantize.ptq_state import OpPlan, PtqState, QuantizationError, Report

# Operators that move values of any type without arithmetic (control flow, resource variables):
# never "kept in float" (their float operands follow what feeds them), allowed in int8-only mode.
TYPE_AGNOSTIC = frozenset({"CALL_ONCE", "IF", "WHILE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"})

DENYLIST_HELP = "op types (e.g. SOFTMAX) or tensor-name patterns (fnmatch, e.g. '*dense_2*')"


def _denied(op, sg: Subgraph, denylist) -> bool:
    for entry in denylist or ():
        e = str(entry)
        if e.upper() in OP_NAMES or e.upper() == "CUSTOM":
            if op.name.upper() == e.upper() or op.op_type == e.upper():
                return True
            continue
        for t in op.outputs:
            if t >= 0 and fnmatch.fnmatchcase(sg.tensors[t].name, e):
                return True
    return False


def _plan(sg: Subgraph, k: int, op, act_type: str, denylist) -> tuple[OpPlan | None, str | None]:
    """(plan, None) to quantize the operator, (None, reason) to keep it float, (None, None) when
    it has no float tensor at all (integer shape arithmetic and the like: untouched)."""
    float_in = [p for p, t in enumerate(op.inputs) if t >= 0 and sg.tensors[t].type == "FLOAT32"]
    float_out = [p for p, t in enumerate(op.outputs) if t >= 0 and sg.tensors[t].type == "FLOAT32"]
    if not float_in and not float_out:
        return None, None
    if op.op_type in ("QUANTIZE", "DEQUANTIZE"):
        return None, "already a (de)quantization operator"
    if op.op_type in TYPE_AGNOSTIC:
        return None, None
    spec = get_spec(op.op_type)
    if spec is None or op.op_type == "CUSTOM":
        return None, "not a builtin eightbit knows"
    if get_kernel(op.op_type) is None:
        return None, "no eightbit kernel"
    if not spec.quantizable:
        return None, "no integer kernel in TFLite"
    if act_type == "INT16" and not spec.int16:
        return None, "no int16 kernel in TFLite"
    if _denied(op, sg, denylist):
        return None, "denylisted"
    non_float = set(spec.non_float_inputs)
    weights, act_in, bias = [], [], None
    for p in float_in:
        if p in non_float:
            continue
        t = sg.tensors[op.inputs[p]]
        if p in spec.weight_inputs:
            if not t.is_constant:
                if not spec.variable_weights_ok:
                    return None, f"weight input {p} is not constant"
                act_in.append(p)
                continue
            weights.append(p)
        elif spec.bias_input is not None and p == spec.bias_input:
            if not t.is_constant:
                return None, f"bias input {p} is not constant"
            bias = p
        else:
            act_in.append(p)
    if bias is not None and not weights:
        return None, "bias without constant weights"
    main_in = act_in[0] if act_in else None
    linked = []
    if spec.same_scale or spec.same_scale_inputs:
        if spec.same_scale and main_in is not None:
            linked.append(main_in)
        if "all" in spec.same_scale_inputs:
            linked = list(act_in)
        else:
            linked += [p for p in spec.same_scale_inputs if p in act_in and p not in linked]
    return OpPlan(k, spec, act_in, weights, bias, float_out, linked, main_in), None


def plan_operators(sg: Subgraph, act_type: str, denylist=(), allow_float: bool = True,
                   report: Report | None = None) -> dict:
    """Stage 1: {op index: OpPlan} of the operators to quantize; the others go to
    report.float_ops with the reason (an error without float fallback)."""
    report = report if report is not None else Report()
    plans: dict = {}
    for k, op in enumerate(sg.operators):
        plan, reason = _plan(sg, k, op, act_type, denylist)
        if plan is not None:
            plans[k] = plan
        elif reason is not None:
            report.float_ops.append((k, op.name, reason))
    names = sorted({f"{name} ({why})" for _, name, why in report.float_ops
                    if why != "already a (de)quantization operator"})
    if names and not allow_float:
        raise QuantizationError(
            "full integer quantization was requested without float fallback (TFLITE_BUILTINS_INT8 / int16x8 "
            "only), but these operators cannot be quantized: " + ", ".join(names))
    if names:
        report.warn("kept in float (DEQUANTIZE / QUANTIZE inserted around them): " + ", ".join(names))
    return plans


def quantize_full_integer(model: Model, ranges: dict, *, activation_type: str = "INT8", per_channel: bool = True,
                          input_type: str = "FLOAT32", output_type: str = "FLOAT32", allow_float: bool = True,
                          denylist=(), bias_overflow: str = "widen_weight_scale", report: Report | None = None,
                          variables: bool = False) -> Model:
    """Quantize `model` in place (pass a copy) from calibrated ranges: {tensor index: (min, max)}
    for subgraph 0, {(subgraph, tensor index): (min, max)} for the subgraphs IF / WHILE /
    CALL_ONCE run (quantize/calibration.py, called_subgraphs=True). A called subgraph is quantized
    like the main one, its inputs and outputs kept float (QUANTIZE / DEQUANTIZE at its edges), so
    the operators calling it and the caller's tensors are unchanged; a subgraph never run during
    calibration stays float. Then values crossing IF / WHILE as integers get one set of
    parameters on both sides, and with `variables` resource variables hold integers
    (ptq_boundaries.py)."""
    report = report if report is not None else Report()
    if bias_overflow not in ("widen_weight_scale", "clamp", "error"):
        raise ValueError("bias_overflow must be 'widen_weight_scale', 'clamp' or 'error'")
    main_ranges = {t: r for t, r in ranges.items() if not isinstance(t, tuple)}
    _quantize_subgraph(model.main, main_ranges, activation_type, per_channel, input_type, output_type, allow_float,
                       denylist, bias_overflow, report)
    for s in range(1, len(model.subgraphs)):
        sub_ranges = {key[1]: r for key, r in ranges.items() if isinstance(key, tuple) and key[0] == s}
        if not sub_ranges:
            if _has_float_compute(model.subgraphs[s]):
                where = f"subgraph {s} ({model.subgraphs[s].name!r}) never ran during calibration"
                if not allow_float:
                    raise QuantizationError(f"{where}, so its operators have no ranges and would stay float, but "
                                            "full integer quantization without float fallback was requested: give "
                                            "representative samples that reach it")
                report.warn(f"{where}: kept in float")
            continue
        _quantize_subgraph(model.subgraphs[s], sub_ranges, activation_type, per_channel, "FLOAT32", "FLOAT32",
                           allow_float, denylist, bias_overflow, report, subgraph=s)
    if len(model.subgraphs) > 1:
        share_boundary_parameters(model, activation_type, report)
    if variables:
        quantize_variables(model, activation_type, report)
    return model


def _has_float_compute(sg: Subgraph) -> bool:
    return any(op.op_type not in TYPE_AGNOSTIC and any(t >= 0 and sg.tensors[t].type == "FLOAT32" for t in op.outputs)
               for op in sg.operators)


def _quantize_subgraph(sg: Subgraph, ranges: dict, act: str, per_channel: bool, input_type: str, output_type: str,
                       allow_float: bool, denylist, bias_overflow: str, report: Report, subgraph: int = 0) -> None:
    st = PtqState(sg, act, ranges, len(sg.tensors))
    # a called subgraph keeps its own report, merged with its warnings and operators naming it
    local = Report() if subgraph else report
    try:
        st.plans = plan_operators(sg, act, denylist, allow_float, local)
    except QuantizationError as e:
        raise QuantizationError(f"subgraph {subgraph} ({sg.name!r}): {e}" if subgraph else str(e)) from None
    choose_params(st)
    quantize_constants(st, per_channel, bias_overflow, local)
    rewrite_types(st, input_type, output_type)
    requantize_shared(st, local)
    finish(st, local)
    if subgraph:
        _merge(report, local, subgraph, sg.name)


def _merge(report: Report, local: Report, subgraph: int, name: str) -> None:
    tag = f"subgraph {subgraph}"
    report.float_ops.extend((k, f"{op} ({tag})", why) for k, op, why in local.float_ops)
    report.warnings.extend(f"{tag} ({name!r}): {w}" for w in local.warnings)
    report.widened_bias.extend((k, f"{op} ({tag})", chans) for k, op, chans in local.widened_bias)
    report.requantize_ops += local.requantize_ops
    for op, n in local.quantized_ops.items():
        report.quantized_ops[op] = report.quantized_ops.get(op, 0) + n


__all__ = ["QuantizationError", "Report", "quantize_full_integer", "plan_operators", "DENYLIST_HELP", "unique_name"]
