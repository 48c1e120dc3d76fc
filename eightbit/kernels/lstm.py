"""LSTM, the one-step builtin (TFLite kernels/lstm.cc, full kernel): the inputs of
UNIDIRECTIONAL_SEQUENCE_LSTM (20 or 24, the same positions) with a 2-D input [batch, input_size];
the output is the new output state [batch, n_output]. lstm.cc evaluates it with lstm_eval's
EvalFloat / EvalHybrid / EvalInteger8x8_16 and one time step, which is what this kernel does
through kernels/unidirectional_sequence_lstm.py (float32, hybrid) and kernels/lstm_integer.py
(int8 with five intermediates). LSTMOptions.kernel_type BASIC (the 4-input legacy kernel) and the
8x8_8 integer kernel (twelve intermediates) are not supported.
"""

from __future__ import annotations

from dataclasses import replace

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.unidirectional_sequence_lstm import UnidirectionalSequenceLstm

KERNEL_FULL = 0


class Lstm(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        if int(op.options.get("kernel_type", KERNEL_FULL)) != KERNEL_FULL:
            raise op.unsupported("LSTM kernel_type BASIC (the 4-input legacy kernel)")
        if op.inputs[0] is None or len(op.inputs[0].shape) != 2:
            raise ModelError(f"{op.where()}: the LSTM input must be 2-D [batch, input_size]")
        if len(op.intermediates) not in (0, 5):
            raise op.unsupported(f"LSTM with {len(op.intermediates)} intermediates (the 8x8_8 integer kernel)")
        x = op.inputs[0]
        as_sequence = replace(op, inputs=[replace(x, shape=(1, *x.shape))] + list(op.inputs[1:]),
                              options={**op.options, "time_major": True})
        return UnidirectionalSequenceLstm.prepare(as_sequence)

    @staticmethod
    def eval(p, x, *rest):
        return UnidirectionalSequenceLstm.eval(p, x[None], *rest)[0]
