"""One-op recurrent models for the kernel tests and the fuzzer (tests/fuzz/gen_recurrent.py):
the integer UNIDIRECTIONAL_SEQUENCE_LSTM with its intermediates, SVDF, RNN; and a runner that
invokes a model several times (state carried in its variable tensors) in LiteRT and eightbit."""

from __future__ import annotations

import numpy as np

import eightbit
from eightbit.ir.builder import ModelBuilder
from tests.fuzz.harness import compare
from tests.kernels.newops_oracle import symmetric_int8_tensor


def run_steps(interp, feeds):
    """Invoke once per feed (list of input arrays; state carries over); the outputs of each invoke."""
    interp.allocate_tensors()
    dets = interp.get_input_details()
    outs = []
    for feed in feeds:
        for det, x in zip(dets, feed):
            if tuple(det["shape"]) != x.shape:
                interp.resize_tensor_input(det["index"], list(x.shape))
                interp.allocate_tensors()
        for det, x in zip(interp.get_input_details(), feed):
            interp.set_tensor(det["index"], x)
        interp.invoke()
        outs.append([interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()])
    return outs


def litert_steps(model: bytes, feeds):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    return run_steps(Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF), feeds)


def check_steps(model: bytes, feeds, rtol=1e-5, exact=False):
    """Every invoke's outputs equal LiteRT's (integers exactly); returns eightbit's."""
    want = litert_steps(model, feeds)
    got = run_steps(eightbit.Interpreter(model_content=model), feeds)
    for step, (g, w) in enumerate(zip(got, want)):
        why = compare(g, w, float_rtol=rtol, exact=exact)
        assert why is None, f"invoke {step}: {why}"
    return got


def _variable(b: ModelBuilder, name, shape, dtype, scale=None, zp=0) -> int:
    i = b.tensor(name, shape, dtype, scale=scale, zero_point=zp if scale is not None else None)
    b.sg.tensors[i].is_variable = True
    return i


# ---- integer LSTM ------------------------------------------------------------------------------
def integer_lstm_model(n_batch=2, n_time=3, n_input=3, n_cell=4, n_output=None, cifg=False, peephole=False,
                       projection=False, proj_bias=True, layer_norm=False, time_major=True, cell_clip=0.0,
                       proj_clip=0.0, seed=0, input_q=(0.05, 3), state_q=(1 / 128, -2), hidden_q=(1 / 128, 0),
                       cell_log2=-11, output_q=None, weight_spread=1.0) -> bytes:
    """A one-op int8 UNIDIRECTIONAL_SEQUENCE_LSTM (the 8x8_16 kernel) with its five intermediates:
    int8 weights with a scale each, int32 biases, int16 peephole / layer-norm weights, an int8
    output state and an int16 cell state (variables), random values from `seed`."""
    rng = np.random.default_rng(seed)
    n_output = n_output or n_cell
    b = ModelBuilder()
    in_scale, in_zp = input_q
    st_scale, st_zp = state_q

    def weight(name, shape, fan_in, in_s):
        q = rng.integers(-127, 128, shape).astype(np.int8)
        s = float(np.float32(weight_spread * rng.uniform(0.5, 2.0) / (127 * np.sqrt(fan_in)) / max(in_s * 40, 1e-3)))
        return b.tensor(name, shape, np.int8, data=q, scale=s, zero_point=0), s

    def bias(name, n, unit):
        return b.tensor(name, (n,), np.int32, data=np.round(rng.normal(0, 0.5, n) / unit).astype(np.int32))

    shape_in = (n_time, n_batch, n_input) if time_major else (n_batch, n_time, n_input)
    x = b.tensor("x", shape_in, np.int8, scale=in_scale, zero_point=in_zp)
    gates = [g for g in "ifco" if not (cifg and g == "i")]
    w, r, wscale = {}, {}, {}
    for g in gates:
        w[g], wscale[g] = weight(f"w_{g}", (n_cell, n_input), n_input, in_scale)
    for g in gates:
        r[g], _ = weight(f"r_{g}", (n_cell, n_output), n_output, st_scale)
    ins = [x] + [w.get(g, -1) for g in "ifco"] + [r.get(g, -1) for g in "ifco"]
    for g in "ifo":
        if peephole and g in gates:
            ins.append(b.tensor(f"p_{g}", (n_cell,), np.int16, data=rng.integers(-32767, 32768, n_cell).astype(np.int16),
                                scale=float(np.float32(rng.uniform(0.2, 1.0) / 32768)), zero_point=0))
        else:
            ins.append(-1)
    for g in "ifco":
        unit = 2.0 ** -12 if layer_norm else wscale.get(g, 1.0) * in_scale
        ins.append(bias(f"b_{g}", n_cell, unit) if g in gates else -1)
    if projection:
        pw, pscale = weight("proj_w", (n_output, n_cell), n_cell, hidden_q[0])
        ins += [pw, bias("proj_b", n_output, pscale * hidden_q[0]) if proj_bias else -1]
    else:
        ins += [-1, -1]
    ins += [_variable(b, "h_state", (n_batch, n_output), np.int8, st_scale, st_zp),
            _variable(b, "c_state", (n_batch, n_cell), np.int16, 2.0 ** cell_log2, 0)]
    if layer_norm:
        for g in "ifco":
            ins.append(b.tensor(f"ln_{g}", (n_cell,), np.int16, data=rng.integers(1000, 32767, n_cell).astype(np.int16),
                                scale=float(np.float32(rng.uniform(0.5, 2.0) / 16384)), zero_point=0)
                       if g in gates else -1)
    inter = [b.tensor(f"inter_{k}", (0,), np.int16, scale=float(np.float32(2.0 ** -12 * rng.uniform(0.5, 2.0))),
                      zero_point=0) for k in range(4)]
    inter.append(b.tensor("inter_hidden", (0,), np.int8, scale=hidden_q[0], zero_point=hidden_q[1]))
    out_shape = (n_time, n_batch, n_output) if time_major else (n_batch, n_time, n_output)
    oq = output_q or state_q
    y = b.tensor("y", out_shape, np.int8, scale=oq[0], zero_point=oq[1])
    opts = {"fused_activation_function": 4, "cell_clip": cell_clip, "proj_clip": proj_clip, "time_major": time_major}
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], opts, options_type="UnidirectionalSequenceLSTMOptions",
         version=1, intermediates=inter)
    b.inputs(x).outputs(y)
    return b.build().to_bytes()


# ---- SVDF ---------------------------------------------------------------------------------------
def svdf_model(kind="float32", n_batch=2, n_input=3, num_units=4, rank=1, memory=3, bias=True, activation=1,
               asymmetric=False, seed=0, input_q=(0.05, 3), state_scale=1 / 4096, output_q=(0.1, -5),
               time_scale=1 / 16384, feature_spread=1.0) -> bytes:
    """A one-op SVDF: float32, hybrid (int8 weights) or int8 (int16 time weights and state)."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    n_filters = num_units * rank
    wf_f = rng.normal(0, 0.5, (n_filters, n_input)).astype(np.float32)
    wt_f = rng.normal(0, 0.5, (n_filters, memory)).astype(np.float32)
    bias_f = rng.normal(0, 0.3, num_units).astype(np.float32)
    if kind == "int8":
        x = b.tensor("x", (n_batch, n_input), np.int8, scale=input_q[0], zero_point=input_q[1])
        wf_s = float(np.float32(feature_spread * state_scale * 2000 / (input_q[0] * 127 * np.sqrt(n_input))))
        wf = b.tensor("w_feature", wf_f.shape, np.int8, data=rng.integers(-127, 128, wf_f.shape).astype(np.int8),
                      scale=wf_s, zero_point=0)
        wt = b.tensor("w_time", wt_f.shape, np.int16, data=rng.integers(-32767, 32768, wt_f.shape).astype(np.int16),
                      scale=time_scale, zero_point=0)
        bias_unit = state_scale * time_scale
        bs = b.tensor("bias", (num_units,), np.int32, data=np.round(rng.normal(0, 0.3, num_units) * 0.05 / bias_unit)
                      .astype(np.int32)) if bias else -1
        state = _variable(b, "state", (n_batch, memory * n_filters), np.int16, state_scale, 0)
        y = b.tensor("y", (n_batch, num_units), np.int8, scale=output_q[0], zero_point=output_q[1])
    else:
        x = b.tensor("x", (n_batch, n_input), np.float32)
        if kind == "hybrid":
            wf, wt = symmetric_int8_tensor(b, "w_feature", wf_f), symmetric_int8_tensor(b, "w_time", wt_f)
        else:
            wf = b.tensor("w_feature", wf_f.shape, np.float32, data=wf_f)
            wt = b.tensor("w_time", wt_f.shape, np.float32, data=wt_f)
        bs = b.tensor("bias", (num_units,), np.float32, data=bias_f) if bias else -1
        state = _variable(b, "state", (n_batch, memory * n_filters), np.float32)
        y = b.tensor("y", (n_batch, num_units), np.float32)
    version = {"float32": 1, "int8": 3, "hybrid": 4 if asymmetric else 2}[kind]
    b.op("SVDF", [x, wf, wt, bs, state], [y], {"rank": rank, "fused_activation_function": activation,
                                               "asymmetric_quantize_inputs": asymmetric},
         options_type="SVDFOptions", version=version)
    b.inputs(x).outputs(y)
    return b.build().to_bytes()


# ---- RNN -----------------------------------------------------------------------------------------
def _rnn_cell(b: ModelBuilder, rng, prefix, n_input, units, hybrid, n_batch, scale=0.5):
    """Weights, recurrent weights, bias and a hidden-state variable of one RNN cell: their indices."""
    def w(name, shape):
        v = rng.normal(0, scale, shape).astype(np.float32)
        if not hybrid:
            return b.tensor(name, shape, np.float32, data=v)
        return symmetric_int8_tensor(b, name, v)
    return [w(f"{prefix}w", (units, n_input)), w(f"{prefix}r", (units, units)),
            b.tensor(f"{prefix}b", (units,), np.float32, data=rng.normal(0, 0.2, units).astype(np.float32)),
            _variable(b, f"{prefix}h", (n_batch, units), np.float32)]


def rnn_model(sequence=False, n_batch=2, n_time=3, n_input=3, units=4, activation=4, time_major=True, hybrid=False,
              asymmetric=False, seed=0) -> bytes:
    """A one-op RNN (sequence=False, input [batch, input]) or UNIDIRECTIONAL_SEQUENCE_RNN."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    if sequence:
        shape_in = (n_time, n_batch, n_input) if time_major else (n_batch, n_time, n_input)
        shape_out = shape_in[:2] + (units,)
    else:
        shape_in, shape_out = (n_batch, n_input), (n_batch, units)
    x = b.tensor("x", shape_in, np.float32)
    ins = [x] + _rnn_cell(b, rng, "", n_input, units, hybrid, n_batch)
    y = b.tensor("y", shape_out, np.float32)
    version = (3 if asymmetric else 2) if hybrid else 1
    opts = {"fused_activation_function": activation, "asymmetric_quantize_inputs": asymmetric}
    if sequence:
        opts["time_major"] = time_major
        b.op("UNIDIRECTIONAL_SEQUENCE_RNN", ins, [y], opts, options_type="SequenceRNNOptions", version=version)
    else:
        b.op("RNN", ins, [y], opts, options_type="RNNOptions", version=version)
    b.inputs(x).outputs(y)
    return b.build().to_bytes()


def bidirectional_rnn_model(n_batch=2, n_time=3, n_input=3, fw_units=4, bw_units=3, activation=4, time_major=True,
                            merge_outputs=False, hybrid=False, asymmetric=False, seed=0) -> bytes:
    """A one-op BIDIRECTIONAL_SEQUENCE_RNN (no auxiliary input)."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    shape_in = (n_time, n_batch, n_input) if time_major else (n_batch, n_time, n_input)
    x = b.tensor("x", shape_in, np.float32)
    ins = [x] + _rnn_cell(b, rng, "fw_", n_input, fw_units, hybrid, n_batch) + \
        _rnn_cell(b, rng, "bw_", n_input, bw_units, hybrid, n_batch) + [-1, -1, -1]  # no auxiliary input
    if merge_outputs:
        outs = [b.tensor("y", shape_in[:2] + (fw_units + bw_units,), np.float32)]
    else:
        outs = [b.tensor("y_fw", shape_in[:2] + (fw_units,), np.float32),
                b.tensor("y_bw", shape_in[:2] + (bw_units,), np.float32)]
    version = (3 if asymmetric else 2) if hybrid else 1
    b.op("BIDIRECTIONAL_SEQUENCE_RNN", ins, outs, {"time_major": time_major, "fused_activation_function": activation,
                                                   "merge_outputs": merge_outputs,
                                                   "asymmetric_quantize_inputs": asymmetric},
         options_type="BidirectionalSequenceRNNOptions", version=version)
    b.inputs(x).outputs(*outs)
    return b.build().to_bytes()


def as_lstm(sequence_model: bytes, version: int = 1) -> bytes:
    """The one-step LSTM builtin made from a time-major UNIDIRECTIONAL_SEQUENCE_LSTM model of one
    time step: same inputs, the input [batch, input_size], the output [batch, n_output]."""
    m = eightbit.load(sequence_model)
    sg = m.subgraphs[0]
    op = sg.operators[0]
    assert op.op_type == "UNIDIRECTIONAL_SEQUENCE_LSTM" and op.options.get("time_major")
    for i in (op.inputs[0], op.outputs[0]):
        t = sg.tensors[i]
        assert t.shape[0] == 1
        t.shape = tuple(t.shape[1:])
    o = op.options
    op.op_type, op.options_type, op.version = "LSTM", "LSTMOptions", version
    op.options = {"fused_activation_function": o["fused_activation_function"], "cell_clip": o["cell_clip"],
                  "proj_clip": o["proj_clip"], "kernel_type": 0,
                  "asymmetric_quantize_inputs": o.get("asymmetric_quantize_inputs", False)}
    return m.to_bytes()


# ---- BIDIRECTIONAL_SEQUENCE_LSTM -------------------------------------------------------------------
def bidirectional_lstm_model(n_batch=2, n_time=3, n_input=3, n_cell=4, n_output=None, cifg=False, peephole=False,
                             projection=False, proj_bias=True, time_major=True, merge_outputs=False, activation=4,
                             cell_clip=0.0, proj_clip=0.0, hybrid=False, asymmetric=False, seed=0) -> bytes:
    """A one-op BIDIRECTIONAL_SEQUENCE_LSTM (48 inputs, no auxiliary input), both directions of one
    shape, float32 or hybrid (int8 weight matrices and peepholes)."""
    rng = np.random.default_rng(seed)
    n_output = n_output or n_cell
    b = ModelBuilder()

    def w(name, shape, scale=0.5, weight=True):
        v = rng.normal(0, scale, shape).astype(np.float32)
        if not (hybrid and weight):
            return b.tensor(name, shape, np.float32, data=v)
        return symmetric_int8_tensor(b, name, v)

    def cell(p):
        ins = [-1 if (cifg and g == "i") else w(f"{p}w_{g}", (n_cell, n_input)) for g in "ifco"]
        ins += [-1 if (cifg and g == "i") else w(f"{p}r_{g}", (n_cell, n_output)) for g in "ifco"]
        ins += [w(f"{p}p_{g}", (n_cell,)) if peephole and not (cifg and g == "i") else -1 for g in "ifo"]
        ins += [-1 if (cifg and g == "i") else w(f"{p}b_{g}", (n_cell,), 0.2, weight=False) for g in "ifco"]
        ins += [w(f"{p}proj_w", (n_output, n_cell)) if projection else -1,
                w(f"{p}proj_b", (n_output,), 0.2, weight=False) if projection and proj_bias else -1]
        return ins

    shape_in = (n_time, n_batch, n_input) if time_major else (n_batch, n_time, n_input)
    x = b.tensor("x", shape_in, np.float32)
    ins = [x] + cell("fw_") + cell("bw_")
    for p in ("fw_", "bw_"):
        ins += [_variable(b, f"{p}h", (n_batch, n_output), np.float32), _variable(b, f"{p}c", (n_batch, n_cell), np.float32)]
    ins += [-1] * 9
    if merge_outputs:
        outs = [b.tensor("y", shape_in[:2] + (2 * n_output,), np.float32)]
    else:
        outs = [b.tensor("y_fw", shape_in[:2] + (n_output,), np.float32),
                b.tensor("y_bw", shape_in[:2] + (n_output,), np.float32)]
    version = (3 if asymmetric else 2) if hybrid else 1
    b.op("BIDIRECTIONAL_SEQUENCE_LSTM", ins, outs, {"fused_activation_function": activation, "cell_clip": cell_clip,
                                                    "proj_clip": proj_clip, "merge_outputs": merge_outputs,
                                                    "time_major": time_major, "asymmetric_quantize_inputs": asymmetric},
         options_type="BidirectionalSequenceLSTMOptions", version=version)
    b.inputs(x).outputs(*outs)
    return b.build().to_bytes()
