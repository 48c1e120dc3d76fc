"""MATRIX_DIAG and MATRIX_SET_DIAG (TFLite kernels/matrix_diag.cc, matrix_set_diag.cc).

MATRIX_DIAG: input [..., N] -> output [..., N, N], the input on each matrix's diagonal and raw
0 elsewhere (0 itself, not a quantized tensor's zero point: TFLite writes 0 into the buffer).
MATRIX_SET_DIAG: input [..., M, N] with the diagonal (min(M, N) values per matrix, read from the
diagonal tensor in order) replaced. Types: float32, int8, uint8, int16, int32, int64 (TFLite's
switch; any other 4-byte type runs as float)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_type

DIAG_TYPES = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64")


@dataclass(frozen=True)
class DiagParams:
    dtype: np.dtype


def _check(op: OpContext, n_inputs: int, min_rank: int) -> DiagParams:
    if len(op.inputs) != n_inputs or any(t is None for t in op.inputs) or len(op.outputs) != 1:
        raise ModelError(f"{op.where()}: {op.op_type} takes {n_inputs} input(s) and gives one output")
    x = op.inputs[0]
    require_type(op, x, DIAG_TYPES)
    if any(t.type != x.type for t in op.inputs[1:] + op.outputs):
        raise ModelError(f"{op.where()}: {op.op_type}'s tensors must share the input's type {x.type}")
    if len(x.shape) < min_rank:
        raise ModelError(f"{op.where()}: {op.op_type}'s input must be at least {min_rank}-D, got {list(x.shape)}")
    return DiagParams(np.dtype(x.dtype))


class MatrixDiag(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> DiagParams:
        return _check(op, 1, 1)

    @staticmethod
    def eval(p: DiagParams, x):
        if x.ndim < 1:
            raise fail("MATRIX_DIAG: the input must be at least 1-D")
        n = x.shape[-1]
        out = np.zeros(x.shape + (n,), p.dtype)
        k = np.arange(n)
        out[..., k, k] = x
        return out


class MatrixSetDiag(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> DiagParams:
        return _check(op, 2, 2)

    @staticmethod
    def eval(p: DiagParams, x, diag):
        if x.ndim < 2:
            raise fail("MATRIX_SET_DIAG: the input must be at least 2-D")
        rows, cols = x.shape[-2:]
        n = min(rows, cols)
        batches = int(np.prod(x.shape[:-2], dtype=np.int64))
        flat = diag.reshape(-1)
        if flat.size < batches * n:
            raise fail(f"MATRIX_SET_DIAG: {flat.size} diagonal values for {batches} matrices of {n}")
        out = np.array(x, p.dtype, copy=True).reshape(batches, rows, cols)
        k = np.arange(n)
        out[:, k, k] = flat[:batches * n].reshape(batches, n)
        return out.reshape(x.shape)
