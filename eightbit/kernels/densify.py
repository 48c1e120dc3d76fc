"""DENSIFY (TFLite kernels/densify.cc): a sparse constant (float32, float16 or int8) made dense.

prepare turns the sparsity parameters into the flat dense position of each stored value
(sparsity.sparse_positions); eval scatters the stored values there. The input is the sparse
constant's stored values (TensorInfo.sparse_values, 1-D); if the interpreter already hands a
dense constant, it is passed through.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.sparsity import sparse_positions

_TYPES = ("FLOAT32", "FLOAT16", "INT8")


@dataclass(frozen=True, eq=False)
class DensifyParams:
    """Where the stored values go in the dense tensor (None: already dense)."""

    positions: np.ndarray | None
    shape: tuple
    dtype: object


class Densify(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, out = op.inputs[0], op.outputs[0]
        if x is None or x.type not in _TYPES:
            raise op.unsupported(f"DENSIFY runs float32, float16 and int8, not {None if x is None else x.type}")
        if out.type != x.type:
            raise op.unsupported(f"DENSIFY output type {out.type} differs from its input's {x.type}")
        sparsity = getattr(x, "sparsity", None)
        if sparsity is None:
            if x.data is None:
                raise op.unsupported("DENSIFY needs a constant sparse input")
            return DensifyParams(positions=None, shape=tuple(x.shape), dtype=np.dtype(out.dtype))
        positions = sparse_positions(sparsity, x.shape)
        stored = getattr(x, "sparse_values", None)
        if stored is not None and positions.size > np.asarray(stored).size:
            raise op.unsupported(
                f"sparse input addresses {positions.size} values but stores {np.asarray(stored).size}"
            )
        return DensifyParams(positions=positions, shape=tuple(int(d) for d in x.shape), dtype=np.dtype(out.dtype))

    @staticmethod
    def eval(params, x):
        x = np.asarray(x)
        if params.positions is None:
            return np.array(x, dtype=params.dtype, copy=True).reshape(params.shape)
        pos = params.positions
        if x.size < pos.size:
            raise ValueError(f"DENSIFY: {x.size} stored values for {pos.size} positions")
        out = np.zeros(int(np.prod(params.shape, dtype=np.int64)), params.dtype)
        out[pos] = x.reshape(-1)[: pos.size]
        return out.reshape(params.shape)
