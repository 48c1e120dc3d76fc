"""PTQ stage "quantize weights and biases": new tensors for every constant a quantized operator
reads: weights symmetric int8 (per channel on the op table's axis), bias int32 (int64 with int16
activations) at input_scale * weight_scale, other constants with their activation parameters."""

from __future__ import annotations

import numpy as np

from eightbit.ir import QuantParams
from eightbit.passes.graph import add_tensor
from eightbit.quantize import params as P
from eightbit.quantize.ptq_state import PtqState, QuantizationError, Report


def quantize_constants(st: PtqState, per_channel: bool, bias_overflow: str, report: Report) -> None:
    """Fill st.new_inputs: (op index, input position) -> the quantized constant's tensor."""
    cache: dict = {}
    sg = st.sg
    for k, pl in st.plans.items():
        op = sg.operators[k]
        for p in pl.act_in:
            t = op.inputs[p]
            if sg.tensors[t].is_constant:
                st.new_inputs[(k, p)] = _quantized_const(st, cache, t, st.params[t])
        if not pl.weights:
            continue
        in_scale = float(st.params[op.inputs[pl.main_in]].scale[0]) if pl.main_in is not None else 1.0
        for wp in pl.weights:
            w = sg.tensors[op.inputs[wp]].data.astype(np.float32)
            axis = pl.spec.weight_channel_axis if per_channel else None
            if axis is not None:
                axis %= max(w.ndim, 1)
            ws = P.weight_scales(w, axis)
            if pl.bias is not None and wp == pl.weights[0]:
                ws = _bias(st, k, in_scale, ws, bias_overflow, report)
            st.new_inputs[(k, wp)] = _weight(st, op.inputs[wp], w, ws, axis)


def _quantized_const(st: PtqState, cache: dict, t: int, p: P.Params) -> int:
    """One quantized copy per (constant, parameters), shared by every reader."""
    key = (t, p.type, p.scale.tobytes(), p.zero_point.tobytes())
    if key not in cache:
        src = st.sg.tensors[t]
        i = add_tensor(st.sg, src.name, src.shape, p.type, QuantParams(p.scale, p.zero_point, 0), like=src)
        st.sg.tensors[i].set_data(P.quantize_values(src.data, p), keep_type=True)
        st.sg.tensors[i].name = src.name
        cache[key] = i
    return cache[key]


def _weight(st: PtqState, t: int, w: np.ndarray, ws: np.ndarray, axis) -> int:
    w_t = st.sg.tensors[t]
    qw = P.quantize_weights(w, ws, axis)
    wi = add_tensor(st.sg, w_t.name, w_t.shape, "INT8",
                    QuantParams(ws, np.zeros(ws.size, np.int64), axis if axis is not None else 0), like=w_t)
    st.sg.tensors[wi].set_data(qw, keep_type=True)
    st.sg.tensors[wi].name = w_t.name
    return wi


def _bias_scales(in_scale: float, ws: np.ndarray, n: int) -> np.ndarray:
    bs = P.bias_scales(in_scale, ws)
    return bs if bs.size == n or bs.size == 1 else np.resize(bs, n)


def _bias(st: PtqState, k: int, in_scale: float, ws: np.ndarray, bias_overflow: str, report: Report) -> np.ndarray:
    """Quantize operator k's bias (st.new_inputs); return the weight scales, widened where the
    bias would overflow and bias_overflow asks for it."""
    op, pl, bias_type = st.sg.operators[k], st.plans[k], st.bias_type
    b_t = st.sg.tensors[op.inputs[pl.bias]]
    b = b_t.data.astype(np.float32).reshape(-1)
    bs = P.bias_scales(in_scale, ws)
    qb, over = P.quantize_bias(b, _bias_scales(in_scale, ws, b.size), bias_type)
    if over.any():
        where = f"operator {k} ({op.op_type})"
        if bias_overflow == "error":
            raise QuantizationError(f"{where}: bias of channel(s) {np.flatnonzero(over).tolist()} "
                                    f"overflows {bias_type} at input_scale * weight_scale")
        if bias_overflow == "widen_weight_scale":
            ws, widened = P.widen_for_bias(b, in_scale, ws, bias_type)
            bs = P.bias_scales(in_scale, ws)
            qb, over = P.quantize_bias(b, _bias_scales(in_scale, ws, b.size), bias_type)
            chans = np.flatnonzero(widened).tolist()
            report.widened_bias.append((k, op.op_type, chans))
            report.warn(f"{where}: bias would overflow {bias_type}; widened the weight scale of channel(s) {chans}")
        else:
            report.warn(f"{where}: bias clamped to {bias_type} in channel(s) {np.flatnonzero(over).tolist()}")
    b_new = add_tensor(st.sg, b_t.name, b_t.shape, bias_type, QuantParams(bs, np.zeros(bs.size, np.int64), 0),
                       like=b_t)
    st.sg.tensors[b_new].set_data(qb.reshape(b_t.shape), keep_type=True)
    st.sg.tensors[b_new].name = b_t.name
    st.new_inputs[(k, pl.bias)] = b_new
    return ws
