"""PTQ stage "choose parameters": every activation tensor of a quantized operator gets its scale
and zero point, per the op table's constraints.

- `fixed_output`: the parameters the kernel requires (LOGISTIC, SOFTMAX, TANH, ...);
- `same_scale` / `same_scale_inputs`: tensors that must share parameters share the ones
  TensorFlow's converter would pick: ranges propagate forward through single-input operators and
  backward from the output of multi-input ones (its RemoveRedundantStatsOps); where two fixed
  choices meet, the rewrite stage inserts a requantizing QUANTIZE;
- every other tensor: asymmetric per-tensor parameters from its calibrated range.
"""

from __future__ import annotations

from eightbit.quantize import params as P
from eightbit.quantize.ptq_state import PtqState, QuantizationError


def choose_params(st: PtqState) -> None:
    """Fill st.act_tensors, st.params and st.op_ref."""
    has_stats = _activation_tensors(st)
    fixed = _fixed_outputs(st)
    redundant = _redundant_stats(st, has_stats, fixed)
    for t in sorted(has_stats - redundant):
        if t not in st.params:
            st.params[t] = P.activation_params(*st.ranges[t], st.act)
    _propagate_same_scale(st)
    st.op_ref = {k: _chosen(st, k) for k in st.plans if st.plans[k].same_scale}
    sg = st.sg
    for t in sorted(st.act_tensors):  # anything the rules did not reach keeps its own range
        if t not in st.params:
            tt = sg.tensors[t]
            st.params[t] = (P.constant_params(tt.data, st.act) if tt.is_constant
                            else P.activation_params(*st.ranges[t], st.act))


def _activation_tensors(st: PtqState) -> set:
    """Collect the activation tensors; return those with a calibrated range (non-constant)."""
    sg = st.sg
    for k, pl in st.plans.items():
        op = sg.operators[k]
        st.act_tensors.update(op.inputs[p] for p in pl.act_in)
        st.act_tensors.update(op.outputs[p] for p in pl.act_out)
    variable = [t for t in st.act_tensors if not sg.tensors[t].is_constant]
    missing = [t for t in variable if t not in st.ranges]
    if missing:
        raise QuantizationError("no calibrated range for tensor(s) "
                                + ", ".join(repr(sg.tensors[t].name) for t in missing[:5]))
    return set(variable)


def _fixed_outputs(st: PtqState) -> set:
    fixed = set()
    for k, pl in st.plans.items():
        fp = P.fixed_params(pl.spec.fixed_output, st.act)
        if fp is not None:
            for p in pl.act_out:
                st.params[st.sg.operators[k].outputs[p]] = fp
                fixed.add(st.sg.operators[k].outputs[p])
    return fixed


def _redundant_stats(st: PtqState, has_stats: set, fixed: set) -> set:
    """Ranges that do not count (TF's RemoveRedundantStatsOps): a same-scale operator's result
    range when one input decides (forward), its inputs' ranges when the result decides (backward)."""
    users: dict = {}
    for k in st.plans:
        for t in st.linked(k)[0]:
            users.setdefault(t, []).append(k)
    redundant = set(fixed & has_stats)
    work = sorted(has_stats | fixed)
    while work:
        t = work.pop()
        for k in users.get(t, []):
            if st.float_operands(k) > 1:
                continue  # multi-input: the result's range wins (backward pass)
            for r in st.linked(k)[1]:
                if r in has_stats and r not in redundant:
                    redundant.add(r)
                    work.append(r)
    prod = st.sg.producers()
    work = sorted(t for t in has_stats if t not in redundant)
    while work:
        t = work.pop()
        k = prod.get(t)
        if k is None or k not in st.plans or not st.plans[k].same_scale:
            continue
        for i in st.linked(k)[0]:
            if i in has_stats and i not in redundant:
                redundant.add(i)
                work.append(i)
    return redundant


def _chosen(st: PtqState, k: int):
    """The parameters a same-scale operator shares: its result's for multi-input operators, else
    its input's (TF's quantization driver), the first one already chosen."""
    ins, outs = st.linked(k)
    order = (outs + ins) if st.float_operands(k) > 1 else (ins + outs)
    return next((st.params[t] for t in order if t in st.params), None)


def _propagate_same_scale(st: PtqState) -> None:
    changed = True
    while changed:
        changed = False
        for k in st.plans:
            ins, outs = st.linked(k)
            if not ins and not outs:
                continue
            ref = _chosen(st, k)
            if ref is None:
                continue
            for t in ins + outs:
                if t not in st.params:
                    st.params[t] = ref
                    changed = True
