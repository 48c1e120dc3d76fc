"""Recurrent ops (TFLite kernels/unidirectional_sequence_lstm.cc, lstm_eval.cc)."""

from __future__ import annotations

from eightbit.ops.base import OpSpec, Sig


def _lstm(s: Sig) -> int:
    if s.t0 == "INT16" and s.type(2) == "INT8" and s.o0 == "INT16":
        return 5
    if s.options.get("diagonal_recurrent_tensors"):
        return 4
    if s.t0 == "FLOAT32" and s.type(2) == "INT8" and s.o0 == "FLOAT32":
        return 3 if s.options.get("asymmetric_quantize_inputs") else 2
    return 1


ENTRIES = (
    # newest=5: the schema's newest (int16 activations); LiteRT 2.3.0's BUILTIN_REF registers 1-3.
    # ptq=(): full-integer LSTM needs the 8x8_16 kernel and its intermediate-tensor scales, not done yet.
    OpSpec("UNIDIRECTIONAL_SEQUENCE_LSTM", "UnidirectionalSequenceLSTMOptions",
           "unidirectional_sequence_lstm.UnidirectionalSequenceLstm", ("float32", "hybrid"), _lstm,
           {1: "1.13.1", 2: "1.14.0", 3: "2.3.0", 4: None, 5: None}, newest=5, ptq=(),
           doc="LSTM over a sequence (CIFG, peephole, projection, layer norm, clipping); float32 and hybrid, state in variables."),
)
