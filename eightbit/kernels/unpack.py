"""UNPACK (TFLite kernels/unpack.cc): split along an axis into num tensors of one rank less.

Quantized outputs must carry the input's scale and zero point (TFLite checks), so it is a copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import QUANTIZED_TYPES, fail, require_same_quantization, require_type

UNPACK_TYPES = frozenset({"FLOAT32", "FLOAT16", "INT8", "UINT8", "INT16", "INT32", "BOOL"})


@dataclass(frozen=True, eq=False)
class UnpackParams:
    """UnpackOptions and the number of outputs (TFLite requires them equal)."""

    axis: int
    num: int
    outputs: int


class Unpack(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x = op.inputs[0]
        require_type(op, x, UNPACK_TYPES)
        for k, t in enumerate(op.outputs):
            if t.type != x.type:
                raise ModelError(f"{op.where()}: output {k} is {t.type}, input {x.type}")
            if t.type in QUANTIZED_TYPES:
                require_same_quantization(op, x, t, f"output {k}")
        num = int(op.options.get("num", 0))
        if num != len(op.outputs):
            raise ModelError(f"{op.where()}: num {num} but {len(op.outputs)} outputs")
        return UnpackParams(axis=int(op.options.get("axis", 0)), num=num, outputs=len(op.outputs))

    @staticmethod
    def eval(params, x):
        axis = params.axis
        if axis < 0:
            axis += x.ndim
        if not 0 <= axis < x.ndim:
            raise fail(f"UNPACK: axis {params.axis} out of range for rank {x.ndim}")
        num = params.num  # TFLite requires num == the number of outputs == the dimension
        if num != x.shape[axis] or num != params.outputs:
            raise fail(f"UNPACK: num {num}, dimension {x.shape[axis]}, {params.outputs} outputs")
        return tuple(np.array(np.take(x, i, axis=axis), order="C") for i in range(num))
