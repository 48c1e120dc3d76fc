"""REVERSE_SEQUENCE (TFLite kernels/reverse_sequence.cc): for each index b along batch_dim, the
first seq_lengths[b] elements along seq_dim reversed, the rest unchanged (ReverseSequenceOptions
seq_dim, batch_dim). seq_lengths: int32 or int64, one per batch entry, each in [0, size of
seq_dim]. Values are copied (quantized: the output keeps the input's parameters)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, require_arity, require_same_type, require_type

REVERSE_SEQUENCE_TYPES = ("FLOAT32", "UINT8", "INT16", "INT32", "INT64")  # LiteRT 2.3.0: no int8


@dataclass(frozen=True)
class ReverseSequenceParams:
    seq_dim: int
    batch_dim: int


class ReverseSequence(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> ReverseSequenceParams:
        require_arity(op, 2, "REVERSE_SEQUENCE takes an input and seq_lengths")
        x = op.inputs[0]
        require_type(op, x, REVERSE_SEQUENCE_TYPES)
        require_type(op, op.inputs[1], ("INT32", "INT64"), "seq_lengths")
        require_same_type(op, x, op.outputs[0])
        seq_dim, batch_dim = int(op.options.get("seq_dim", 0)), int(op.options.get("batch_dim", 0))
        rank = len(x.shape)
        if not (0 <= seq_dim < rank and 0 <= batch_dim < rank) or seq_dim == batch_dim:
            raise ModelError(f"{op.where()}: seq_dim {seq_dim} and batch_dim {batch_dim} must be two different "
                             f"dimensions of a {rank}-D input")
        return ReverseSequenceParams(seq_dim, batch_dim)

    @staticmethod
    def eval(p: ReverseSequenceParams, x, seq_lengths):
        lengths = as_ints(seq_lengths)
        n, size = x.shape[p.batch_dim], x.shape[p.seq_dim]
        if lengths.size != n or np.any(lengths < 0) or np.any(lengths > size):
            raise fail(f"REVERSE_SEQUENCE: seq_lengths {lengths.tolist()} do not fit {n} sequences of length {size}")
        pos = np.arange(size)
        # source position along seq_dim for each (batch entry, position): mirrored inside the length
        source = np.where(pos[None, :] < lengths[:, None], lengths[:, None] - 1 - pos[None, :], pos[None, :])
        moved = np.moveaxis(x, (p.batch_dim, p.seq_dim), (0, 1))
        out = np.take_along_axis(moved, source.reshape(source.shape + (1,) * (moved.ndim - 2)), axis=1)
        return np.ascontiguousarray(np.moveaxis(out, (0, 1), (p.batch_dim, p.seq_dim)))
