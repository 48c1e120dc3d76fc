"""DILATE (TFLite kernels/dilate.cc, StableHLO's interior padding): the input's elements spread
apart by the int32 dilation factors (>= 1, one per dimension) with padding_value (a scalar of the
input's type) between them: output dimension (n - 1) * d + 1, out[i * d] = in[i]. Any element
type (bytes are copied)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import ANY_TYPE, as_ints, fail, require_type


@dataclass(frozen=True)
class DilateParams:
    dtype: np.dtype


class Dilate(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> DilateParams:
        if len(op.inputs) != 3 or any(t is None for t in op.inputs) or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: DILATE takes an input, dilations and a padding value")
        x, dilations, pad = op.inputs
        require_type(op, x, ANY_TYPE)
        if len(x.shape) == 0:
            raise ModelError(f"{op.where()}: DILATE's input must have at least one dimension")
        if pad.type != x.type or op.outputs[0].type != x.type:
            raise ModelError(f"{op.where()}: DILATE's padding value and output must be {x.type}")
        require_type(op, dilations, ("INT32",), "dilations")
        return DilateParams(np.dtype(x.dtype))

    @staticmethod
    def eval(p: DilateParams, x, dilations, padding_value):
        d = as_ints(dilations)
        if d.size != x.ndim or np.any(d < 1):
            raise fail(f"DILATE: {d.size} dilation factors (each >= 1) for a {x.ndim}-D input, got {d.tolist()}")
        shape = tuple(int((n - 1) * f + 1) if n > 0 else 0 for n, f in zip(x.shape, d))
        out = np.full(shape, np.asarray(padding_value).reshape(-1)[0], p.dtype)
        out[tuple(slice(None, None, int(f)) for f in d)] = x
        return out
