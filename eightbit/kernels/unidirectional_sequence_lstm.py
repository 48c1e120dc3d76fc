"""UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite kernels/unidirectional_sequence_lstm.cc, lstm_eval.cc
EvalFloat and EvalHybrid): float32, and hybrid (int8 weights, float activations); the int8
integer kernel (EvalInteger8x8_16) is kernels/lstm_integer.py.

Inputs (20, or 24 with layer normalization; -1 marks an omitted optional one):
  0 input [time, batch, n_input] (time_major) or [batch, time, n_input]
  1-4 input-to-{input, forget, cell, output} weights [n_cell, n_input] (input gate's omitted: CIFG)
  5-8 recurrent-to-{input, forget, cell, output} weights [n_cell, n_output]
  9-11 cell-to-{input, forget, output} peephole weights [n_cell] (optional)
  12-15 {input, forget, cell, output} gate biases [n_cell]
  16 projection weights [n_output, n_cell], 17 projection bias [n_output] (optional)
  18 output state [batch, n_output], 19 cell state [batch, n_cell]: variable tensors
  20-23 layer-norm coefficients of the {input, forget, cell, output} gates [n_cell] (optional)
UnidirectionalSequenceLSTMOptions: fused_activation_function (the cell gate's and the output's,
usually TANH), cell_clip, proj_clip (0: none), time_major.

Per time step, for each gate: the bias (after layer normalization, when there is one) plus
W x + R h (+ the peephole weight times the cell state: the old one for the input and forget gates,
the new one for the output gate); layer normalization is (g - mean) / sqrt(variance) (variance 0:
1e-8) times its coefficients; sigmoid for the three gates, the activation for the cell gate.
c = f * c + i * g (CIFG: i = 1 - f), clipped to +-cell_clip; h = o * activation(c), projected
(bias + W_proj h, clipped to +-proj_clip). The output holds h at every step.

Hybrid (the weights int8 with a per-tensor scale, everything else float32): at each step the
input and the output state are quantized row by row on the fly (kernels/hybrid.py, symmetric, or
asymmetric with UnidirectionalSequenceLSTMOptions.asymmetric_quantize_inputs) unless the whole
tensor is zero (then its products are skipped); W x is the int32 dot product (minus offset * row
sum when asymmetric) times the float32 product of the row's scaling factor and the weight scale;
peephole weights are dequantized (scale * w); the projection quantizes h the same way.

Activation NONE is the identity (h = o * c). LiteRT 2.3.0 instead leaves its scratch buffer
unwritten there and outputs o * g (the cell gate): a defect we do not reproduce.

Floats agree with LiteRT to about 1e-6 relative, not bit for bit: LiteRT's ApplySigmoidToVector /
ApplyTanhToVector are Eigen's (kernels/neon_float.py has both, probed), and Eigen's logistic takes
a different path (std::exp) for the elements before and after its aligned packets, which depends on
the buffer's address; its sums are NEON-ordered. In a hybrid LSTM such an ulp in h can move h's
on-the-fly quantization across a rounding boundary, which is the rare (~1e-4 of random cases)
1e-5 difference seen against LiteRT.

The state tensors are variables: as in TFLite, the kernel leaves the final states in them (the
arrays it was given are updated in place), so the next invoke() continues the sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.hybrid import quantize_rows
from eightbit.kernels.lstm_integer import IntegerLstmParams, eval_integer, prepare_integer
from eightbit.kernels.movement import fail

INPUT, OUTPUT_STATE, CELL_STATE = 0, 18, 19
W_I, W_F, W_C, W_O = 1, 2, 3, 4
R_I, R_F, R_C, R_O = 5, 6, 7, 8
P_I, P_F, P_O = 9, 10, 11
B_I, B_F, B_C, B_O = 12, 13, 14, 15
PROJ_W, PROJ_B = 16, 17
LN_I, LN_F, LN_C, LN_O = 20, 21, 22, 23
REQUIRED = (INPUT, W_F, W_C, W_O, R_F, R_C, R_O, B_F, B_C, B_O, OUTPUT_STATE, CELL_STATE)
NORMALIZATION_EPSILON = np.float32(1e-8)
ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6, ACT_TANH, ACT_SIGMOID = 0, 1, 2, 3, 4, 6


WEIGHTS = (W_I, W_F, W_C, W_O, R_I, R_F, R_C, R_O, P_I, P_F, P_O, PROJ_W)


@dataclass(frozen=True)
class LstmParams:
    present: frozenset  # input positions given (not -1)
    activation: int
    cell_clip: np.float32
    proj_clip: np.float32
    time_major: bool
    weight_scales: tuple = ()  # hybrid: (input position, float32 scale) of each int8 weight; () = float
    asymmetric: bool = False


def _present(op: OpContext) -> frozenset:
    return frozenset(k for k, t in enumerate(op.inputs) if t is not None)


def _check_types(op: OpContext, present: frozenset) -> tuple:
    """() for a float32 LSTM; for a hybrid one (int8 weights), (position, scale) of each weight."""
    if op.inputs[INPUT].type != "FLOAT32" or op.outputs[0].type != "FLOAT32":
        raise op.unsupported(f"UNIDIRECTIONAL_SEQUENCE_LSTM runs float32, hybrid and int8, not {op.inputs[INPUT].type} "
                             f"-> {op.outputs[0].type}")
    hybrid = op.inputs[W_F].type == "INT8"
    scales = []
    for k in sorted(present):
        t = op.inputs[k]
        want = "INT8" if hybrid and k in WEIGHTS else "FLOAT32"
        if t.type != want:
            raise op.unsupported(f"input {k} is {t.type}; a {'hybrid' if hybrid else 'float'} LSTM needs {want}")
        if want == "INT8":
            if not t.quantized or t.scales.size != 1 or t.zero_point != 0:
                raise op.unsupported(f"hybrid LSTM weight {k} needs one scale and zero point 0")
            scales.append((k, np.float32(t.scale)))
    return tuple(scales)


def _check_shapes(op: OpContext, present: frozenset) -> None:
    x = op.inputs[INPUT]
    if len(x.shape) != 3:
        raise ModelError(f"{op.where()}: the input must be 3-D, got shape {tuple(x.shape)}")
    n_input = x.shape[2]
    n_cell = op.inputs[W_F].shape[0]
    n_output = op.inputs[R_F].shape[1]
    want = {W_I: (n_cell, n_input), W_F: (n_cell, n_input), W_C: (n_cell, n_input), W_O: (n_cell, n_input),
            R_I: (n_cell, n_output), R_F: (n_cell, n_output), R_C: (n_cell, n_output), R_O: (n_cell, n_output),
            P_I: (n_cell,), P_F: (n_cell,), P_O: (n_cell,), B_I: (n_cell,), B_F: (n_cell,), B_C: (n_cell,),
            B_O: (n_cell,), PROJ_W: (n_output, n_cell), PROJ_B: (n_output,), LN_I: (n_cell,), LN_F: (n_cell,),
            LN_C: (n_cell,), LN_O: (n_cell,)}
    for k, shape in want.items():
        if k in present and tuple(op.inputs[k].shape) != shape:
            raise ModelError(f"{op.where()}: input {k} has shape {tuple(op.inputs[k].shape)}, expected {shape}")
    if (PROJ_W not in present) and n_output != n_cell:
        raise ModelError(f"{op.where()}: without projection weights n_output ({n_output}) must equal n_cell ({n_cell})")
    cifg = W_I not in present
    if cifg and (R_I in present or B_I in present):
        raise ModelError(f"{op.where()}: CIFG (no input-to-input weights) must omit the input gate's other tensors")


class UnidirectionalSequenceLstm(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> LstmParams:
        if len(op.inputs) not in (20, 24) or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: UNIDIRECTIONAL_SEQUENCE_LSTM takes 20 or 24 inputs and gives 1 output")
        present = _present(op)
        missing = [k for k in REQUIRED if k not in present]
        if missing:
            raise ModelError(f"{op.where()}: required inputs {missing} are missing")
        if op.inputs[INPUT].type == "INT8":
            _check_shapes(op, present)
            return prepare_integer(op, present)
        scales = _check_types(op, present)
        _check_shapes(op, present)
        o = op.options
        activation = int(o.get("fused_activation_function", ACT_TANH))
        if activation not in (ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6, ACT_TANH):
            raise op.unsupported(f"fused activation {activation} (runs NONE, RELU, RELU_N1_TO_1, RELU6, TANH)")
        return LstmParams(present, activation, np.float32(o.get("cell_clip", 0.0)), np.float32(o.get("proj_clip", 0.0)),
                          bool(o.get("time_major", False)), scales, bool(o.get("asymmetric_quantize_inputs", False)))

    @staticmethod
    def eval(p: LstmParams | IntegerLstmParams, *inputs):
        t = {k: inputs[k] for k in p.present}
        x = t[INPUT] if p.time_major else np.swapaxes(t[INPUT], 0, 1)  # [time, batch, n_input]
        for k in (OUTPUT_STATE, CELL_STATE):
            if t[k].shape[0] != x.shape[1]:
                raise fail(f"UNIDIRECTIONAL_SEQUENCE_LSTM: a batch of {x.shape[1]} does not match the state tensor "
                           f"{k}'s shape {t[k].shape}")
        if isinstance(p, IntegerLstmParams):
            return eval_integer(p, inputs)
        h, c = t[OUTPUT_STATE].astype(np.float32), t[CELL_STATE].astype(np.float32)
        step_fn = lstm_step
        if p.weight_scales:
            t = _HybridTensors(t, dict(p.weight_scales), p.asymmetric)
            step_fn = hybrid_step
        outputs = []
        with np.errstate(over="ignore", invalid="ignore"):
            for step in range(x.shape[0]):
                h, c = step_fn(p, t, x[step], h, c)
                outputs.append(h)
        # The state tensors are variables: leave the final state in them, as TFLite does.
        np.copyto(inputs[OUTPUT_STATE], h.reshape(inputs[OUTPUT_STATE].shape))
        np.copyto(inputs[CELL_STATE], c.reshape(inputs[CELL_STATE].shape))
        n_output = t[R_F].shape[1]
        out = np.stack(outputs) if outputs else np.zeros((0, x.shape[1], n_output), np.float32)
        return np.ascontiguousarray(out if p.time_major else np.swapaxes(out, 0, 1)).astype(np.float32)


def _sigmoid(v):
    return (np.float32(1) / (np.float32(1) + np.exp(-v))).astype(np.float32)


def activate(v, activation: int):
    """ApplyActivationToVector for the LSTM's fused activation."""
    if activation == ACT_TANH:
        return np.tanh(v).astype(np.float32)
    if activation == ACT_SIGMOID:
        return _sigmoid(v)
    if activation == ACT_RELU:
        return np.maximum(v, np.float32(0))
    if activation == ACT_RELU6:
        return np.clip(v, np.float32(0), np.float32(6))
    if activation == ACT_RELU_N1_TO_1:
        return np.clip(v, np.float32(-1), np.float32(1))
    return v


def mean_stddev_normalization(v):
    """(v - mean) / sqrt(variance + 1e-8) per row, the variance the mean of squared deviations
    (two passes, in float32, elements added in order)."""
    n = np.float32(v.shape[-1])
    mean = (np.add.reduce(v, axis=-1, dtype=np.float32) / n).astype(np.float32)
    diff = (v - mean[:, None]).astype(np.float32)
    variance = (np.add.reduce(diff * diff, axis=-1, dtype=np.float32) / n).astype(np.float32)
    inv = (np.float32(1) / np.sqrt(variance + NORMALIZATION_EPSILON)).astype(np.float32)
    return (diff * inv[:, None]).astype(np.float32)


def gate(t, x, h, c, w, r, peephole, bias, norm, activation):
    """CalculateLstmGateFloat: bias + W x + R h (+ peephole * c), layer-normalized, activated."""
    layer_norm = norm in t
    acc = np.zeros((x.shape[0], t[w].shape[0]), np.float32) if layer_norm else np.broadcast_to(t[bias], (
        x.shape[0], t[w].shape[0])).astype(np.float32)
    acc = acc + (x @ t[w].T).astype(np.float32)
    acc = acc + (h @ t[r].T).astype(np.float32)
    if peephole in t:
        acc = acc + t[peephole] * c
    if layer_norm:
        acc = mean_stddev_normalization(acc) * t[norm] + t[bias]
    return activate(acc.astype(np.float32), activation)


def lstm_step(p: LstmParams, t: dict, x, h, c):
    forget = gate(t, x, h, c, W_F, R_F, P_F, B_F, LN_F, ACT_SIGMOID)
    if W_I in t:
        input_gate = gate(t, x, h, c, W_I, R_I, P_I, B_I, LN_I, ACT_SIGMOID)
    else:  # CIFG: the input gate is coupled to the forget gate
        input_gate = (np.float32(1) - forget).astype(np.float32)
    cell_gate = gate(t, x, h, c, W_C, R_C, None, B_C, LN_C, p.activation)
    c = (c * forget + input_gate * cell_gate).astype(np.float32)
    if p.cell_clip > 0:
        c = np.clip(c, -p.cell_clip, p.cell_clip)
    output_gate = gate(t, x, h, c, W_O, R_O, P_O, B_O, LN_O, ACT_SIGMOID)
    h = (output_gate * activate(c, p.activation)).astype(np.float32)
    if PROJ_W in t:
        bias = t[PROJ_B] if PROJ_B in t else np.float32(0)
        h = (bias + (h @ t[PROJ_W].T)).astype(np.float32)
        if p.proj_clip > 0:
            h = np.clip(h, -p.proj_clip, p.proj_clip)
    return h, c


# ---- hybrid ----------------------------------------------------------------------------------------
class _HybridTensors(dict):
    """The kernel's inputs plus, per int8 weight, its scale and row sums."""

    def __init__(self, tensors: dict, scales: dict, asymmetric: bool):
        super().__init__(tensors)
        self.scales = scales
        self.asymmetric = asymmetric
        self.row_sums = {k: self[k].astype(np.int64).sum(axis=1) for k in scales if self[k].ndim == 2}


def _quantized(v, asymmetric: bool):
    """The rows of v quantized on the fly, or None when all of v is zero (TFLite skips it)."""
    if not np.any(v):
        return None
    return quantize_rows(v.astype(np.float32), asymmetric)


def _hybrid_product(t: _HybridTensors, k: int, q) -> np.ndarray:
    """int32 dot products of the quantized rows with int8 weight k, scaled to float32."""
    rows, sf, offset = q
    dot = rows.astype(np.int64) @ t[k].astype(np.int64).T
    dot = fp.wrap_int32(dot - offset.astype(np.int64)[:, None] * t.row_sums[k][None, :])
    scale = (sf * t.scales[k]).astype(np.float32)
    return (dot.astype(np.float32) * scale[:, None]).astype(np.float32)


def hybrid_gate(t: _HybridTensors, xq, hq, c, w, r, peephole, bias, norm, activation, n_batch):
    """CalculateLstmGateHybrid: as the float gate, with the products in integers."""
    n_cell = t[w].shape[0]
    acc = np.zeros((n_batch, n_cell), np.float32) if norm in t else \
        np.broadcast_to(t[bias], (n_batch, n_cell)).astype(np.float32)
    if xq is not None:
        acc = acc + _hybrid_product(t, w, xq)
    if hq is not None:
        acc = acc + _hybrid_product(t, r, hq)
    if peephole in t:
        acc = acc + (t.scales[peephole] * t[peephole].astype(np.float32)).astype(np.float32) * c
    if norm in t:
        acc = mean_stddev_normalization(acc.astype(np.float32)) * t[norm] + t[bias]
    return activate(acc.astype(np.float32), activation)


def hybrid_step(p: LstmParams, t: _HybridTensors, x, h, c):
    n_batch = x.shape[0]
    xq, hq = _quantized(x, t.asymmetric), _quantized(h, t.asymmetric)
    forget = hybrid_gate(t, xq, hq, c, W_F, R_F, P_F, B_F, LN_F, ACT_SIGMOID, n_batch)
    if W_I in t:
        input_gate = hybrid_gate(t, xq, hq, c, W_I, R_I, P_I, B_I, LN_I, ACT_SIGMOID, n_batch)
    else:
        input_gate = (np.float32(1) - forget).astype(np.float32)
    cell_gate = hybrid_gate(t, xq, hq, c, W_C, R_C, None, B_C, LN_C, p.activation, n_batch)
    c = (c * forget + input_gate * cell_gate).astype(np.float32)
    if p.cell_clip > 0:
        c = np.clip(c, -p.cell_clip, p.cell_clip)
    output_gate = hybrid_gate(t, xq, hq, c, W_O, R_O, P_O, B_O, LN_O, ACT_SIGMOID, n_batch)
    h = (output_gate * activate(c, p.activation)).astype(np.float32)
    if PROJ_W in t:
        out = np.broadcast_to(t[PROJ_B], (n_batch, t[PROJ_W].shape[0])).astype(np.float32) if PROJ_B in t else \
            np.zeros((n_batch, t[PROJ_W].shape[0]), np.float32)
        hq_proj = _quantized(h, t.asymmetric)
        if hq_proj is not None:
            out = (out + _hybrid_product(t, PROJ_W, hq_proj)).astype(np.float32)
        h = np.clip(out, -p.proj_clip, p.proj_clip) if p.proj_clip > 0 else out
    return h, c
