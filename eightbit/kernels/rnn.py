"""RNN and UNIDIRECTIONAL_SEQUENCE_RNN (TFLite kernels/basic_rnn.cc, unidirectional_sequence_rnn.cc,
kernel_utils.cc RnnBatchStep): h = activation(bias + W x + R h), float32 or hybrid.

Inputs: 0 input ([batch, input_size]; the sequence op [time, batch, input_size], or
[batch, time, input_size] when not time_major), 1 weights [num_units, input_size], 2 recurrent
weights [num_units, num_units], 3 bias [num_units], 4 hidden state [batch, num_units] (a variable;
it keeps the last step's output). Options: fused_activation_function, asymmetric_quantize_inputs,
and for the sequence op time_major.

float32: bias, then + W x and + R h, each matrix product summed in LiteRT's x86 order
(kernels/neon_float.py), then the activation (TANH is Eigen's, as LiteRT's).
hybrid (int8 weights with one scale each): the input and the hidden state are quantized row by row
on the fly (kernels/hybrid.py; an all-zero tensor skips its product), each product the int32 dot
product (minus offset * row sum when asymmetric) times the float32 product of the row's scaling
factor and the weight scale, added to the output in float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import neon_float
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.hybrid import quantize_rows
from eightbit.kernels.movement import fail

F32 = np.float32
INPUT, WEIGHTS, RECURRENT, BIAS, HIDDEN = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class RnnParams:
    activation: int
    time_major: bool = True
    hybrid: bool = False
    asymmetric: bool = False
    input_scale: F32 = F32(1)  # hybrid: weight scales
    recurrent_scale: F32 = F32(1)
    input_row_sums: np.ndarray | None = None
    recurrent_row_sums: np.ndarray | None = None


def prepare_rnn(op: OpContext, w: int, r: int, b: int, h: int, sequence: bool) -> RnnParams:
    """The checks and parameters of one RNN cell whose tensors are inputs w, r, b and h."""
    x = op.inputs[INPUT]
    need = 3 if sequence else 2
    if len(x.shape) != need:
        raise ModelError(f"{op.where()}: {op.op_type} input must be {need}-D, got shape {tuple(x.shape)}")
    weights, recurrent, bias, hidden = op.inputs[w], op.inputs[r], op.inputs[b], op.inputs[h]
    if any(t is None for t in (weights, recurrent, bias, hidden)):
        raise ModelError(f"{op.where()}: {op.op_type} needs its weights, recurrent weights, bias and hidden state")
    units = weights.shape[0]
    if (tuple(weights.shape) != (units, x.shape[-1]) or tuple(recurrent.shape) != (units, units)
            or tuple(bias.shape) != (units,) or len(hidden.shape) != 2 or hidden.shape[1] != units):
        raise ModelError(f"{op.where()}: {op.op_type} shapes do not match: input {tuple(x.shape)}, weights "
                         f"{tuple(weights.shape)}, recurrent {tuple(recurrent.shape)}, bias {tuple(bias.shape)}, "
                         f"hidden state {tuple(hidden.shape)}")
    o = op.options
    activation = int(o.get("fused_activation_function", 0))
    if activation not in (0, 1, 2, 3, 4):
        raise op.unsupported(f"{op.op_type} fused activation {activation}")
    time_major = bool(o.get("time_major", False))
    if x.type != "FLOAT32" or bias.type != "FLOAT32" or hidden.type != "FLOAT32" or op.outputs[0].type != "FLOAT32":
        raise op.unsupported(f"{op.op_type} runs float32 and hybrid (float activations), not {x.type}")
    if weights.type == "FLOAT32" and recurrent.type == "FLOAT32":
        return RnnParams(activation, time_major)
    if weights.type != "INT8" or recurrent.type != "INT8":
        raise op.unsupported(f"{op.op_type} weights must be float32 or int8 (hybrid), not {weights.type}")
    for t in (weights, recurrent):
        if t.data is None or not t.quantized:
            raise op.unsupported(f"hybrid {op.op_type} needs constant quantized int8 weights")
    return RnnParams(activation, time_major, True, bool(o.get("asymmetric_quantize_inputs", False)),
                     F32(weights.scale), F32(recurrent.scale), weights.data.astype(np.int64).sum(axis=1),
                     recurrent.data.astype(np.int64).sum(axis=1))


def _hybrid_accumulate(out, v, w, weight_scale, row_sums, asymmetric):
    """out + the on-the-fly quantized product of v's rows with int8 w (nothing for all-zero v)."""
    if not np.any(v):
        return out
    q, sf, offset = quantize_rows(v.astype(F32), asymmetric)
    scale = (sf * weight_scale).astype(F32)
    dot = q.astype(np.int64) @ w.astype(np.int64).T
    if asymmetric:
        dot = dot - offset.astype(np.int64)[:, None] * row_sums[None, :]
    return (out + (fp.wrap_int32(dot).astype(F32) * scale[:, None]).astype(F32)).astype(F32)


def rnn_step(p: RnnParams, x, h, weights, recurrent, bias):
    """One RnnBatchStep over a batch: the new hidden state (= the step's output)."""
    out = np.broadcast_to(bias.astype(F32), (x.shape[0], bias.shape[0]))
    with np.errstate(over="ignore", invalid="ignore"):
        if p.hybrid:
            out = _hybrid_accumulate(out, x, weights, p.input_scale, p.input_row_sums, p.asymmetric)
            out = _hybrid_accumulate(out, h, recurrent, p.recurrent_scale, p.recurrent_row_sums, p.asymmetric)
        else:
            out = neon_float.matvec(weights, x, out)
            out = neon_float.matvec(recurrent, h, out)
        return neon_float.apply_activation(out, p.activation)


def run_sequence(p: RnnParams, x, hidden, weights, recurrent, bias, reverse=False):
    """The outputs [time, batch, units] of a time-major sequence; `hidden` (the variable) is updated."""
    if hidden.shape[0] != x.shape[1]:
        raise fail(f"RNN: a batch of {x.shape[1]} does not match the hidden state's shape {hidden.shape}")
    h = hidden.astype(F32)
    outs = [None] * x.shape[0]
    for step in (range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])):
        h = rnn_step(p, x[step], h, weights, recurrent, bias)
        outs[step] = h
    np.copyto(hidden, h.reshape(hidden.shape))
    return np.stack(outs) if outs else np.zeros((0, x.shape[1], weights.shape[0]), F32)


class Rnn(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> RnnParams:
        if len(op.inputs) != 5 or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: RNN takes 5 inputs and gives 1 output")
        return prepare_rnn(op, WEIGHTS, RECURRENT, BIAS, HIDDEN, sequence=False)

    @staticmethod
    def eval(p: RnnParams, x, weights, recurrent, bias, hidden):
        return run_sequence(p, x[None], hidden, weights, recurrent, bias)[0]


class UnidirectionalSequenceRnn(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> RnnParams:
        if len(op.inputs) != 5 or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: UNIDIRECTIONAL_SEQUENCE_RNN takes 5 inputs and gives 1 output")
        return prepare_rnn(op, WEIGHTS, RECURRENT, BIAS, HIDDEN, sequence=True)

    @staticmethod
    def eval(p: RnnParams, x, weights, recurrent, bias, hidden):
        seq = x if p.time_major else np.swapaxes(x, 0, 1)
        out = run_sequence(p, seq, hidden, weights, recurrent, bias)
        return np.ascontiguousarray(out if p.time_major else np.swapaxes(out, 0, 1))


# ---- BIDIRECTIONAL_SEQUENCE_RNN -------------------------------------------------------------------
FW = (1, 2, 3, 4)  # weights, recurrent weights, bias, hidden state of the forward cell
BW = (5, 6, 7, 8)  # and of the backward cell
AUX_INPUT = 9


@dataclass(frozen=True)
class BidirectionalRnnParams:
    fw: RnnParams
    bw: RnnParams
    merge_outputs: bool
    time_major: bool


class BidirectionalSequenceRnn(Kernel):
    """BIDIRECTIONAL_SEQUENCE_RNN (bidirectional_sequence_rnn.cc): a forward RNN over the sequence
    and a backward one over it reversed, each with its own weights and hidden state; the outputs
    are the two sequences (merge_outputs: one, forward then backward units on the last axis).
    The auxiliary input (inputs 9-11) is not supported."""

    @staticmethod
    def prepare(op: OpContext) -> BidirectionalRnnParams:
        if len(op.inputs) != 12:
            raise ModelError(f"{op.where()}: BIDIRECTIONAL_SEQUENCE_RNN takes 12 inputs (9-11 auxiliary, optional)")
        if any(op.inputs[k] is not None for k in (9, 10, 11)):
            raise op.unsupported("BIDIRECTIONAL_SEQUENCE_RNN with an auxiliary input")
        merge = bool(op.options.get("merge_outputs", False))
        if len(op.outputs) != (1 if merge else 2):
            raise ModelError(f"{op.where()}: BIDIRECTIONAL_SEQUENCE_RNN gives {1 if merge else 2} outputs "
                             f"with merge_outputs={merge}")
        fw, bw = prepare_rnn(op, *FW, sequence=True), prepare_rnn(op, *BW, sequence=True)
        return BidirectionalRnnParams(fw, bw, merge, fw.time_major)

    @staticmethod
    def eval(p: BidirectionalRnnParams, x, *rest):
        t = (x,) + rest
        seq = x if p.time_major else np.swapaxes(x, 0, 1)
        fw = run_sequence(p.fw, seq, *_cell(t, FW))
        bw = run_sequence(p.bw, seq, *_cell(t, BW), reverse=True)
        outs = [np.concatenate([fw, bw], axis=2)] if p.merge_outputs else [fw, bw]
        outs = [o if p.time_major else np.swapaxes(o, 0, 1) for o in outs]
        return tuple(np.ascontiguousarray(o) for o in outs)


def _cell(t, positions):
    """(hidden state, weights, recurrent weights, bias) as run_sequence takes them."""
    w, r, b, h = positions
    return t[h], t[w], t[r], t[b]
