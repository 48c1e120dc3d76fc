"""PACK (TFLite kernels/pack.cc): stack values_count equal-shaped tensors along a new axis.

Quantized inputs must carry the output's scale and zero point (TFLite's Prepare checks it), so
packing is a copy for every type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import QUANTIZED_TYPES, fail, require_same_quantization, require_type

PACK_TYPES = frozenset({"FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64", "UINT32"})


@dataclass(frozen=True, eq=False)
class PackParams:
    """PackOptions.axis."""

    axis: int


class Pack(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        out = op.outputs[0]
        ins = op.inputs
        n = int(op.options.get("values_count", len(ins)))
        if n != len(ins) or n == 0 or any(t is None for t in ins):
            raise ModelError(f"{op.where()}: values_count {n} but {len(ins)} inputs")
        require_type(op, ins[0], PACK_TYPES)
        for k, t in enumerate(ins):
            if t.type != ins[0].type:
                raise ModelError(f"{op.where()}: input {k} is {t.type}, input 0 {ins[0].type}")
            if t.type in QUANTIZED_TYPES:
                require_same_quantization(op, t, out, f"input {k}")
        if out.type != ins[0].type:
            raise ModelError(f"{op.where()}: output is {out.type}, inputs {ins[0].type}")
        return PackParams(axis=int(op.options.get("axis", 0)))

    @staticmethod
    def eval(params, *xs):
        rank = xs[0].ndim
        axis = params.axis
        if axis < 0:
            axis += rank + 1
        if not 0 <= axis <= rank:
            raise fail(f"PACK: axis {params.axis} out of range for rank {rank}")
        if any(x.shape != xs[0].shape for x in xs):
            raise fail(f"PACK: inputs differ in shape: {[x.shape for x in xs]}")
        return np.stack(xs, axis=axis)
