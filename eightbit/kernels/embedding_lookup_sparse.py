"""EMBEDDING_LOOKUP_SPARSE (TFLite kernels/embedding_lookup_sparse.cc): a sparse tensor of ids
(ids [n] int32 at indices [n, rank] int32 of dense_shape [rank] int32) looked up in params
(float32, rank >= 2) and combined per row of the sparse tensor (its first rank - 1 coordinates):
the weighted sum (weights [n] float32), divided by the total weight (MEAN) or by the root of the
sum of squared weights (SQRTN). Output: dense_shape[:-1] + params.shape[1:], zeros where no id.

TFLite walks the ids in order, accumulating each row's products in float32; when the row changes
it divides what the finished row holds by that run's weight. Ids of one row are expected to be
contiguous (sorted indices): a row that comes back later is divided again by its second run's
weight, and so it is here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_type

SUM, MEAN, SQRTN = 0, 1, 2


@dataclass(frozen=True)
class SparseLookupParams:
    combiner: int


def _finalize(out: np.ndarray, row: int, combiner: int, count: int, total: np.float32, squares: np.float32) -> None:
    if combiner == SUM or count == 0:
        return
    divisor = total if combiner == MEAN else np.sqrt(squares, dtype=np.float32)
    out[row] = (out[row] / divisor).astype(np.float32)


class EmbeddingLookupSparse(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> SparseLookupParams:
        if len(op.inputs) != 5 or any(t is None for t in op.inputs) or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: EMBEDDING_LOOKUP_SPARSE takes ids, indices, dense shape, weights and "
                             "params")
        ids, indices, shape, weights, params = op.inputs
        for t, what, rank in ((ids, "ids", 1), (indices, "indices", 2), (shape, "dense shape", 1)):
            require_type(op, t, ("INT32",), what)
            if len(t.shape) != rank:
                raise ModelError(f"{op.where()}: EMBEDDING_LOOKUP_SPARSE's {what} must be {rank}-D")
        require_type(op, weights, ("FLOAT32",), "weights")
        require_type(op, params, ("FLOAT32",), "params")
        if len(params.shape) < 2 or op.outputs[0].type != "FLOAT32":
            raise ModelError(f"{op.where()}: EMBEDDING_LOOKUP_SPARSE needs params of rank >= 2 and a float32 output")
        combiner = int(op.options.get("combiner", SUM))
        if combiner not in (SUM, MEAN, SQRTN):
            raise ModelError(f"{op.where()}: unknown combiner {combiner} (0 SUM, 1 MEAN, 2 SQRTN)")
        return SparseLookupParams(combiner)

    @staticmethod
    def eval(p: SparseLookupParams, ids, indices, dense_shape, weights, params):
        n, rank = ids.shape[0], indices.shape[1]
        if indices.shape[0] != n or weights.shape[0] != n or dense_shape.shape[0] != rank:
            raise fail("EMBEDDING_LOOKUP_SPARSE: ids, indices, weights and dense shape do not agree")
        dims = [int(d) for d in dense_shape[:rank - 1]]
        rows_shape = params.shape[1:]
        out = np.zeros((int(np.prod(dims, dtype=np.int64)),) + rows_shape, np.float32)
        if n and (ids.min() < 0 or ids.max() >= params.shape[0]):
            raise fail(f"EMBEDDING_LOOKUP_SPARSE: index out of bounds, ids must be in [0, {params.shape[0] - 1}]")
        coords = indices[:, :rank - 1].astype(np.int64)
        if coords.size and (np.any(coords < 0) or np.any(coords >= np.array(dims, np.int64))):
            raise fail(f"EMBEDDING_LOOKUP_SPARSE: an index is outside the dense shape {dims}")
        strides = np.cumprod([1] + dims[::-1][:-1])[::-1] if dims else np.zeros(0, np.int64)
        buckets = coords @ np.asarray(strides, np.int64) if dims else np.zeros(n, np.int64)
        w = weights.astype(np.float32)
        current, count, total, squares = 0, 0, np.float32(0), np.float32(0)
        with np.errstate(all="ignore"):
            for i in range(n):  # one embedding row per id, in TFLite's order
                b = int(buckets[i])
                if b != current:
                    _finalize(out, current, p.combiner, count, total, squares)
                    current, count, total, squares = b, 0, np.float32(0), np.float32(0)
                count += 1
                squares = np.float32(squares + w[i] * w[i])
                total = np.float32(total + w[i])
                out[b] = (out[b] + params[int(ids[i])] * w[i]).astype(np.float32)
            if out.shape[0]:
                _finalize(out, current, p.combiner, count, total, squares)
        return out.reshape(tuple(dims) + rows_shape)
