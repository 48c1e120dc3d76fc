"""BIDIRECTIONAL_SEQUENCE_LSTM (TFLite kernels/bidirectional_sequence_lstm.cc): a forward LSTM over
the sequence and a backward one over it reversed, each lstm_eval's EvalFloat / EvalHybrid (the
step of kernels/unidirectional_sequence_lstm.py), with their own weights and states.

Inputs (48): 0 input; 1-17 the forward cell's tensors in UNIDIRECTIONAL_SEQUENCE_LSTM's order
(input-to-gate 1-4, recurrent-to-gate 5-8, peephole 9-11, gate biases 12-15, projection 16-17);
18-34 the backward cell's; 35-36 forward output / cell state, 37-38 backward ones (variables);
39 auxiliary input and 40-47 its weights (optional; not supported here). No layer normalization.
Outputs: forward and backward sequences, or one (merge_outputs: forward then backward units on
the last axis). BidirectionalSequenceLSTMOptions: fused_activation_function, cell_clip,
proj_clip, merge_outputs, time_major, asymmetric_quantize_inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.unidirectional_sequence_lstm import UnidirectionalSequenceLstm

FW = tuple(range(1, 18)) + (35, 36)
BW = tuple(range(18, 35)) + (37, 38)
AUX = tuple(range(39, 48))


@dataclass(frozen=True)
class BidirectionalLstmParams:
    fw: object
    bw: object
    merge_outputs: bool
    time_major: bool


def _direction(op: OpContext, positions: tuple, output) -> OpContext:
    """The UNIDIRECTIONAL_SEQUENCE_LSTM (time-major, 20 inputs) that one direction computes."""
    o = op.options
    x = op.inputs[0]
    if not o.get("time_major", True):
        x = replace(x, shape=(x.shape[1], x.shape[0], *x.shape[2:]))
    options = {"fused_activation_function": o.get("fused_activation_function", 4), "cell_clip": o.get("cell_clip", 0.0),
               "proj_clip": o.get("proj_clip", 0.0), "time_major": True,
               "asymmetric_quantize_inputs": o.get("asymmetric_quantize_inputs", False)}
    return replace(op, options=options, inputs=[x] + [op.inputs[k] for k in positions], outputs=[output],
                   intermediates=[])


class BidirectionalSequenceLstm(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> BidirectionalLstmParams:
        if len(op.inputs) != 48:
            raise ModelError(f"{op.where()}: BIDIRECTIONAL_SEQUENCE_LSTM takes 48 inputs, got {len(op.inputs)}")
        if any(op.inputs[k] is not None for k in AUX):
            raise op.unsupported("BIDIRECTIONAL_SEQUENCE_LSTM with an auxiliary input")
        merge = bool(op.options.get("merge_outputs", False))
        if len(op.outputs) != (1 if merge else 2):
            raise ModelError(f"{op.where()}: BIDIRECTIONAL_SEQUENCE_LSTM gives {1 if merge else 2} outputs with "
                             f"merge_outputs={merge}")
        if op.inputs[0].type != "FLOAT32":
            raise op.unsupported(f"BIDIRECTIONAL_SEQUENCE_LSTM runs float32 and hybrid, not {op.inputs[0].type}")
        fw = UnidirectionalSequenceLstm.prepare(_direction(op, FW, op.outputs[0]))
        bw = UnidirectionalSequenceLstm.prepare(_direction(op, BW, op.outputs[-1]))
        return BidirectionalLstmParams(fw, bw, merge, bool(op.options.get("time_major", True)))

    @staticmethod
    def eval(p: BidirectionalLstmParams, x, *rest):
        t = (x,) + rest
        seq = x if p.time_major else np.swapaxes(x, 0, 1)
        fw = UnidirectionalSequenceLstm.eval(p.fw, seq, *[t[k] for k in FW])
        bw = UnidirectionalSequenceLstm.eval(p.bw, np.ascontiguousarray(seq[::-1]), *[t[k] for k in BW])[::-1]
        outs = [np.concatenate([fw, bw], axis=2)] if p.merge_outputs else [fw, bw]
        return tuple(np.ascontiguousarray(o if p.time_major else np.swapaxes(o, 0, 1)) for o in outs)
