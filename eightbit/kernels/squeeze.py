"""SQUEEZE (TFLite kernels/squeeze.cc): drop size-1 dimensions; any element type, no arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

from eightbit.errors import ModelError
from eightbit.kernels.base import OpContext
from eightbit.kernels.movement import Move, fail


@dataclass(frozen=True, eq=False)
class SqueezeParams:
    """The squeeze_dims option (empty: every size-1 dimension)."""

    dims: tuple


class Squeeze(Move):
    @staticmethod
    def check(op: OpContext):
        x = op.inputs[0]
        dims = [int(d) for d in (op.options.get("squeeze_dims") or [])]
        if len(x.shape) > 8:
            raise ModelError(f"{op.where()}: SQUEEZE supports at most 8 dimensions")
        return SqueezeParams(dims=tuple(dims))

    @staticmethod
    def eval(params, x):
        n = x.ndim
        if not params.dims:  # no squeeze_dims: every size-1 dimension goes
            keep = [d for d in x.shape if d != 1]
            return x.reshape(keep)
        drop = set()
        for d in params.dims:
            axis = d + n if d < 0 else d
            if not 0 <= axis < n or x.shape[axis] != 1:
                raise fail(f"SQUEEZE: cannot squeeze dimension {d} of shape {x.shape}")
            drop.add(axis)
        return x.reshape([s for i, s in enumerate(x.shape) if i not in drop])
