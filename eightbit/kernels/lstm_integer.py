"""The integer LSTM of TFLite (lstm_eval.cc EvalInteger8x8_16, prepared by
unidirectional_sequence_lstm.cc PopulateQuantizedLstmParams8x8_16 and
PopulatePrecomputedZPTimesWeightsWithBias): int8 input, output and output state, int16 cell
state with a power-of-two scale, int8 weights, int16 peephole and layer-norm weights, int32 biases.

The scales the gates are computed at come from the operator's five intermediate tensors: with
layer normalization, intermediates 0-3 give each gate's matmul-output scale; without, every gate
is Q3.12 (2^-12). Intermediate 4 gives the hidden state's (o * tanh(c)) scale and zero point.

Per step, per gate (portable_tensor_utils.cc):
- gate = sat16(MBQM(eff_bias_x + W x, ...)) then += MBQM(eff_bias_h + R h, ...) (saturating),
  where eff_bias_x = bias - input_zp * rowsum(W) (the bias only without layer norm) and
  eff_bias_h = -output_state_zp * rowsum(R); sums wrap as int32;
- peephole: += MBQM(w_c * c) elementwise (saturating), see PEEPHOLE below;
- layer norm (ApplyLayerNorm) in integers with the gate bias;
- sigmoid (F3 -> Q0.15) or, for the cell gate, tanh (F3 -> Q0.15): gemmlowp on int16.
c = (f * c) >> 15 + (i * g) >> (30 + cell_scale) (CIFG: i = 32767 - f), each product rounded
and cast to int16, the sum saturating, then clipped. The hidden state MBQM(o * tanh(c)) takes
the hidden zero point with a sign that depends on the projection (measured on LiteRT 2.3.0):
- with a projection, hidden = sat8(h - hidden_zp) and the output state is
  sat8(MBQM(eff_proj_bias + P hidden) + output_state_zp), eff_proj_bias = proj_bias +
  hidden_zp * rowsum(P) (the two cancel unless hidden saturates), clipped to +-proj_clip;
- without, the output state is sat8(h + hidden_zp).

The int8 state tensors start at their zero point (LiteRT's ResetVariableTensor), not at 0.

PEEPHOLE: LiteRT passes n_output, not n_cell, as the peephole vector's length, and walks the
[batch, n_cell] gate and cell buffers as one flat run; with n_output == n_cell (no projection)
that is the ordinary per-cell product. With a projection to fewer outputs only the first
batch * n_output flat elements get a peephole term (weight index = position % n_output); we do
the same, and refuse n_output > n_cell (LiteRT reads past the weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import gemmlowp16 as g16
from eightbit.kernels.base import OpContext

F32 = np.float32
INPUT, OUTPUT_STATE, CELL_STATE = 0, 18, 19
W = {"i": 1, "f": 2, "c": 3, "o": 4}
R = {"i": 5, "f": 6, "c": 7, "o": 8}
P = {"i": 9, "f": 10, "o": 11}
B = {"i": 12, "f": 13, "c": 14, "o": 15}
LN = {"i": 20, "f": 21, "c": 22, "o": 23}
PROJ_W, PROJ_B = 16, 17
GATE_INDEX = {"i": 0, "f": 1, "c": 2, "o": 3}
INT8_INPUTS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 18)
INT16_INPUTS = (9, 10, 11, 19, 20, 21, 22, 23)
INT32_INPUTS = (12, 13, 14, 15, 17)


@dataclass(frozen=True)
class GateQ:
    """One gate's integer parameters (IntegerLstmParameter's fields for it)."""
    x_mult: tuple  # (multiplier, shift) of W x
    h_mult: tuple  # of R h
    c_mult: tuple | None  # of the peephole product, None without peephole
    x_bias: np.ndarray  # int64 [n_cell]: effective bias of W x
    h_bias: np.ndarray  # of R h
    ln: tuple | None  # (multiplier, shift, variance guard) with layer norm, else None


@dataclass(frozen=True)
class IntegerLstmParams:
    present: frozenset
    time_major: bool
    gates: dict  # "i"/"f"/"c"/"o" -> GateQ ("i" absent with CIFG)
    cell_scale: int  # log2 of the cell state's scale
    cell_clip: int
    proj_clip: int
    hidden_mult: tuple
    hidden_zp: int
    proj_mult: tuple
    proj_bias: np.ndarray | None  # effective projection bias, None without projection
    output_state_zp: int
    n_output: int


def _qm(real) -> tuple:
    return fp.quantize_multiplier(float(real))


def _scale(op: OpContext, k: int, default: float = 1.0):
    t = op.inputs[k] if k < len(op.inputs) else None
    return F32(t.scale) if t is not None else F32(default)


def _check_types(op: OpContext, present: frozenset) -> None:
    want = {**{k: "INT8" for k in INT8_INPUTS}, **{k: "INT16" for k in INT16_INPUTS},
            **{k: "INT32" for k in INT32_INPUTS}}
    for k in sorted(present):
        t = op.inputs[k]
        if t.type != want[k]:
            raise op.unsupported(f"integer UNIDIRECTIONAL_SEQUENCE_LSTM input {k} is {t.type}, expected {want[k]}")
        if want[k] != "INT32" and not t.quantized:
            raise op.unsupported(f"integer UNIDIRECTIONAL_SEQUENCE_LSTM input {k} is not quantized")
    out = op.outputs[0]
    if out.type != "INT8" or not out.quantized:
        raise op.unsupported(f"integer UNIDIRECTIONAL_SEQUENCE_LSTM output is {out.type}; int8 quantized expected")
    if not op.inputs[CELL_STATE].quantized or not op.inputs[OUTPUT_STATE].quantized:
        raise op.unsupported("integer LSTM state tensors need quantization parameters")


def _intermediate_scales(op: OpContext, layer_norm: bool) -> tuple:
    """(scales, zero points) of the five intermediates: gate outputs (Q3.12 without layer norm), hidden."""
    if len(op.intermediates) != 5:
        raise ModelError(f"{op.where()}: the integer LSTM needs 5 intermediate tensors, the operator has "
                         f"{len(op.intermediates)}")
    scales, zps = [], []
    for k, t in enumerate(op.intermediates):
        if k < 4 and not layer_norm:
            scales.append(F32(2.0 ** -12))
            zps.append(0)
            continue
        if t is None or not t.quantized:
            raise ModelError(f"{op.where()}: intermediate {k} has no quantization parameters")
        scales.append(F32(t.scale))
        zps.append(int(t.zero_point))
    return scales, zps


def _row_sums(w: np.ndarray) -> np.ndarray:
    return w.astype(np.int64).sum(axis=1)


def _effective_bias(w, zero_point: int, bias) -> np.ndarray:
    """PrecomputeZeroPointTimesWeightWithBias: bias + zero_point * rowsum(w), int32 wrap."""
    out = np.zeros(w.shape[0], np.int64) if bias is None else bias.astype(np.int64)
    return fp.wrap_int32(out + zero_point * _row_sums(w))


def _gate(op, gate, present, inter, input_scale, state_scale, cell_scale, layer_norm, input_zp, state_zp):
    s = inter[GATE_INDEX[gate]]
    x_scale = F32(F32(_scale(op, W[gate]) * input_scale) / s)
    h_scale = F32(F32(_scale(op, R[gate]) * state_scale) / s)
    c_mult = None
    if gate in P and P[gate] in present:
        c_mult = _qm(F32(2.0 ** cell_scale * np.float64(_scale(op, P[gate])) / np.float64(s)))
    bias = None if layer_norm else op.inputs[B[gate]].data
    ln = None
    if layer_norm:
        ln_scale = _scale(op, LN[gate])
        ln = (*_qm(ln_scale), max(1, int(F32(10000) * ln_scale)))
    return GateQ(_qm(x_scale), _qm(h_scale), c_mult, _effective_bias(op.inputs[W[gate]].data, -input_zp, bias),
                 _effective_bias(op.inputs[R[gate]].data, -state_zp, None), ln)


def prepare_integer(op: OpContext, present: frozenset) -> IntegerLstmParams:
    _check_types(op, present)
    for k in sorted(present):
        if k not in (INPUT, OUTPUT_STATE, CELL_STATE) and op.inputs[k].data is None:
            raise op.unsupported(f"integer LSTM input {k} must be constant")
    layer_norm = LN["f"] in present
    inter, inter_zp = _intermediate_scales(op, layer_norm)
    x, h, c = op.inputs[INPUT], op.inputs[OUTPUT_STATE], op.inputs[CELL_STATE]
    from eightbit.kernels.gemmlowp import checked_log2

    ok, cell_scale = checked_log2(float(c.scale))
    if not ok or not -15 <= cell_scale <= -9:
        raise op.unsupported(f"the cell state's scale {c.scale} must be a power of two from 2^-15 to 2^-9")
    input_scale, state_scale = F32(x.scale), F32(h.scale)
    gates = {gate: _gate(op, gate, present, inter, input_scale, state_scale, cell_scale, layer_norm,
                         int(x.zero_point), int(h.zero_point))
             for gate in "ifco" if W[gate] in present}
    o = op.options
    cell_clip = float(o.get("cell_clip", 0.0))
    proj_clip = float(o.get("proj_clip", 0.0))
    q_cell_clip = int(np.trunc(min(max(F32(cell_clip) / F32(c.scale), F32(-32768)), F32(32767)))) if cell_clip > 0 else 0
    out_scale = F32(op.outputs[0].scale)
    q_proj_clip = int(np.trunc(min(max(F32(proj_clip) / out_scale, F32(-128)), F32(127)))) if proj_clip > 0 else 0
    hidden_scale = F32(2.0 ** -15 / np.float64(inter[4]) * 2.0 ** -15)
    proj_scale = F32(F32(_scale(op, PROJ_W) * inter[4]) / state_scale)
    proj_bias = None
    if PROJ_W in present:
        pb = op.inputs[PROJ_B].data if PROJ_B in present else None
        proj_bias = _effective_bias(op.inputs[PROJ_W].data, inter_zp[4], pb)
    n_output = op.inputs[R["f"]].shape[1]
    n_cell = op.inputs[W["f"]].shape[0]
    if P["f"] in present and n_output > n_cell:
        raise op.unsupported("a peephole LSTM with more outputs than cells (LiteRT reads past the peephole weights)")
    return IntegerLstmParams(present, bool(o.get("time_major", False)), gates, cell_scale, q_cell_clip, q_proj_clip,
                             _qm(hidden_scale), inter_zp[4], _qm(proj_scale), proj_bias, int(h.zero_point), n_output)


# ---- eval ------------------------------------------------------------------------------------------
def _mbqm(acc, mult):
    return fp.multiply_by_quantized_multiplier(acc, mult[0], mult[1])


def _matmul_accumulate(v, w, bias, mult, out, out_zp=0, lo=-32768, hi=32767):
    """MatrixBatchVectorMultiplyAccumulate (int8 x int8 -> int16 / int8): sat(MBQM(bias + W v) + zp + out)."""
    acc = fp.wrap_int32(bias[None, :] + v.astype(np.int64) @ w.astype(np.int64).T)
    return np.clip(_mbqm(acc, mult) + out_zp + out, lo, hi)


def _peephole(gate, c, w, mult, n_output):
    """VectorBatchVectorCwiseProductAccumulate with v_size = n_output over the flat buffers."""
    n = gate.shape[0] * n_output
    g, cf = gate.reshape(-1).copy(), c.reshape(-1)
    wk = w.astype(np.int64)[np.arange(n) % n_output]
    g[:n] = np.clip(_mbqm(wk * cf[:n], mult) + g[:n], -32768, 32767)
    return g.reshape(gate.shape)


def _layer_norm(x, weights, bias, mult_a, mult_b, guard):
    """ApplyLayerNorm (portable_tensor_utils.cc), rows of int16 values."""
    x = x.astype(np.int64)
    n = x.shape[1]
    total, total_sq = x.sum(axis=1), (x * x).sum(axis=1)
    mean = _div_trunc(total * 1024, n)
    variance = total_sq * ((1 << 20) // n) - mean * mean
    variance2 = _div_trunc(variance, 1 << 20)
    variance2 = np.where(variance2 < 1, guard, variance2)
    inv_a, inv_b = fp.get_inv_sqrt_quantized_multiplier_exp(fp.wrap_int32(variance2), -1)
    shifted = fp.wrap_int32(1024 * x - mean[:, None])
    rescaled = fp.multiply_by_quantized_multiplier(shifted, inv_a[:, None], inv_b[:, None])
    val3 = fp.wrap_int32(rescaled * weights.astype(np.int64)[None, :] + bias.astype(np.int64)[None, :])
    val4 = _div_trunc(np.where(val3 > 0, val3 + 512, val3 - 512), 1024)
    val5 = fp.multiply_by_quantized_multiplier(fp.wrap_int32(val4), mult_a, mult_b + 12)
    return np.clip(val5, -32768, 32767)


def _div_trunc(a, b):
    """C++ integer division (toward zero)."""
    a = np.asarray(a, np.int64)
    q = np.abs(a) // b
    return np.where(a < 0, -q, q)


def _gate_value(p: IntegerLstmParams, t: dict, name: str, x, h, c):
    q = p.gates[name]
    g = np.zeros((x.shape[0], t[W[name]].shape[0]), np.int64)
    g = _matmul_accumulate(x, t[W[name]], q.x_bias, q.x_mult, g)
    g = _matmul_accumulate(h, t[R[name]], q.h_bias, q.h_mult, g)
    if q.c_mult is not None:
        g = _peephole(g, c, t[P[name]], q.c_mult, p.n_output)
    if q.ln is not None:
        g = _layer_norm(g, t[LN[name]], t[B[name]], *q.ln)
    return g16.apply_tanh(3, g) if name == "c" else g16.apply_sigmoid(g)


def _cwise_mul_shift(a, b, shift):
    """CwiseMul with a shift: RoundingDivideByPOT(a * b, shift) cast to int16 (wrapping)."""
    return fp.wrap_int16(fp.rounding_divide_by_pot(a.astype(np.int64) * b, shift))


def integer_step(p: IntegerLstmParams, t: dict, x, h, c):
    """One LstmStepInteger8x8_16 over a batch: (new output state int8, new cell state int16)."""
    forget = _gate_value(p, t, "f", x, h, c)
    cell_gate = _gate_value(p, t, "c", x, h, c)
    scaled_cell = _cwise_mul_shift(forget, c, 15)
    if "i" in p.gates:
        input_gate = _gate_value(p, t, "i", x, h, c)
    else:
        input_gate = 32767 - forget
    gated = _cwise_mul_shift(input_gate, cell_gate, 30 + p.cell_scale)
    c = np.clip(scaled_cell + gated, -32768, 32767)
    if p.cell_clip > 0:
        c = np.clip(c, -p.cell_clip, p.cell_clip)
    output_gate = _gate_value(p, t, "o", x, h, c)
    tanh_c = g16.apply_tanh(15 + p.cell_scale, c)
    hidden = _mbqm(output_gate.astype(np.int64) * tanh_c, p.hidden_mult)
    if p.proj_bias is None:  # the hidden state is the output state (LiteRT adds its zero point here)
        return np.clip(hidden + p.hidden_zp, -128, 127), c
    hidden = np.clip(hidden - p.hidden_zp, -128, 127)  # and subtracts it before the projection
    out = _matmul_accumulate(hidden, t[PROJ_W], p.proj_bias, p.proj_mult, 0, p.output_state_zp, -128, 127)
    if p.proj_clip > 0:
        out = np.clip(out, -p.proj_clip, p.proj_clip)
    return out, c


def eval_integer(p: IntegerLstmParams, inputs) -> np.ndarray:
    t = {k: inputs[k] for k in p.present}
    state_h, state_c = inputs[OUTPUT_STATE], inputs[CELL_STATE]
    x = t[INPUT]
    n_batch = x.shape[1] if p.time_major else x.shape[0]
    h = state_h.reshape(n_batch, -1).astype(np.int64)
    c = state_c.reshape(n_batch, -1).astype(np.int64)
    if p.time_major:
        outs = []
        for step in range(x.shape[0]):
            h, c = integer_step(p, t, x[step], h, c)
            outs.append(h)
        out = np.stack(outs) if outs else np.zeros((0, n_batch, p.n_output), np.int64)
    else:  # LiteRT runs each batch entry on its own (n_batch = 1), which the peephole quirk sees
        rows_h, rows_c, seqs = [], [], []
        for b in range(n_batch):
            hb, cb, outs = h[b:b + 1], c[b:b + 1], []
            for step in range(x.shape[1]):
                hb, cb = integer_step(p, t, x[b, step][None, :], hb, cb)
                outs.append(hb[0])
            rows_h.append(hb)
            rows_c.append(cb)
            seqs.append(np.stack(outs) if outs else np.zeros((0, p.n_output), np.int64))
        h, c = np.concatenate(rows_h), np.concatenate(rows_c)
        out = np.stack(seqs)
    np.copyto(state_h, h.reshape(state_h.shape).astype(state_h.dtype))
    np.copyto(state_c, c.reshape(state_c.shape).astype(state_c.dtype))
    return out.astype(np.int8)
