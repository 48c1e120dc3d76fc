"""Recurrent ops (TFLite kernels/unidirectional_sequence_lstm.cc, lstm_eval.cc, svdf.cc, basic_rnn.cc,
unidirectional_sequence_rnn.cc, lstm.cc, bidirectional_sequence_*.cc)."""

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


def _hybrid_or_float(s: Sig, hybrid: int, asymmetric: int) -> int:
    """op_version.cc's common rule: float input, int8 weights (input 1), float output: hybrid."""
    if s.t0 == "FLOAT32" and s.type(1) == "INT8" and s.o0 == "FLOAT32":
        return asymmetric if s.options.get("asymmetric_quantize_inputs") else hybrid
    return 1


def _rnn(s: Sig) -> int:
    return _hybrid_or_float(s, 2, 3)


def _lstm_one_step(s: Sig) -> int:
    """lstm.cc: hybrid full kernel 3 (asymmetric 4), BASIC kernel 2, else 1."""
    if s.options.get("kernel_type", 0) == 0 and s.t0 == "FLOAT32" and s.type(2) == "INT8" and s.o0 == "FLOAT32":
        return 4 if s.options.get("asymmetric_quantize_inputs") else 3
    return 2 if s.options.get("kernel_type", 0) == 1 else 1


def _bidirectional_lstm(s: Sig) -> int:
    return _hybrid_or_float(s, 2, 3)


def _svdf(s: Sig) -> int:
    return 3 if s.t0 == "INT8" else _hybrid_or_float(s, 2, 4)


ENTRIES = (
    # newest=5: the schema's newest (int16 activations); LiteRT 2.3.0's BUILTIN_REF registers 1-3.
    # ptq=(): PTQ does not yet calibrate the integer LSTM's five intermediate tensors (gate and
    # hidden scales) that the int8 kernel (8x8_16) reads, so it keeps the op float.
    OpSpec("UNIDIRECTIONAL_SEQUENCE_LSTM", "UnidirectionalSequenceLSTMOptions",
           "unidirectional_sequence_lstm.UnidirectionalSequenceLstm", ("float32", "int8", "hybrid"), _lstm,
           {1: "1.13.1", 2: "1.14.0", 3: "2.3.0", 4: "2.12.0", 5: None}, newest=5, ptq=(),
           doc="LSTM over a sequence (CIFG, peephole, projection, layer norm, clipping), state in variables; "
               "float32, hybrid, and int8 (8x8_16: int16 cell state, scales from the 5 intermediates)."),
    # ptq=(): PTQ does not calibrate the int16 state and time weights the int8 SVDF needs yet.
    OpSpec("SVDF", "SVDFOptions", "svdf.Svdf", ("float32", "int8", "hybrid"), _svdf,
           {1: "1.5.0", 2: "1.14.0", 3: "2.2.0", 4: "2.3.0"}, newest=4, ptq=(),
           doc="Singular value decomposition filter (feature and time weights, rank), state in a variable; "
               "float32, hybrid, and int8 (int16 time weights and state)."),
    OpSpec("RNN", "RNNOptions", "rnn.Rnn", ("float32", "hybrid"), _rnn, {1: "1.5.0", 2: "1.14.0", 3: "2.3.0"},
           newest=3, doc="One step of a fully connected recurrent cell, h = act(W x + R h + b), state in a variable; "
                         "float32 and hybrid."),
    OpSpec("UNIDIRECTIONAL_SEQUENCE_RNN", "SequenceRNNOptions", "rnn.UnidirectionalSequenceRnn", ("float32", "hybrid"),
           _rnn, {1: "1.14.0", 2: "1.14.0", 3: "2.3.0"}, newest=3,
           doc="RNN over a sequence (time- or batch-major), state in a variable; float32 and hybrid."),
    OpSpec("BIDIRECTIONAL_SEQUENCE_RNN", "BidirectionalSequenceRNNOptions", "rnn.BidirectionalSequenceRnn",
           ("float32", "hybrid"), _rnn, {1: "1.14.0", 2: "1.14.0", 3: "2.3.0"}, newest=3,
           doc="Forward and backward RNN over a sequence (outputs merged or not; no auxiliary input), states in "
               "variables; float32 and hybrid."),
    # ptq=(): as UNIDIRECTIONAL_SEQUENCE_LSTM (the integer kernel's intermediates are not calibrated).
    OpSpec("LSTM", "LSTMOptions", "lstm.Lstm", ("float32", "int8", "hybrid"), _lstm_one_step,
           {1: "1.7.0", 2: "1.10.0", 3: "1.14.0", 4: "2.3.0"}, newest=4, ptq=(),
           doc="One LSTM step (full kernel: CIFG, peephole, projection, layer norm, clipping), states in variables; "
               "float32, hybrid, and int8 (8x8_16)."),
    OpSpec("BIDIRECTIONAL_SEQUENCE_LSTM", "BidirectionalSequenceLSTMOptions",
           "bidirectional_sequence_lstm.BidirectionalSequenceLstm", ("float32", "hybrid"), _bidirectional_lstm,
           {1: "1.14.0", 2: "1.14.0", 3: "1.14.0"}, newest=3,
           doc="Forward and backward LSTM over a sequence (CIFG, peephole, projection, clipping; outputs merged "
               "or not; no auxiliary input), states in variables; float32 and hybrid."),
)
