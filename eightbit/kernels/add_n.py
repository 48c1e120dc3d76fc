"""ADD_N (TFLite kernels/add_n.cc, reference AddN): the elementwise sum of N >= 2 inputs of one shape
and type (float32, int32), added in input order: float32 rounded after each addition and, as
LiteRT 2.3.0 runs it (an ADD per input with the NONE activation range), clamped to
[-FLT_MAX, FLT_MAX] after each (-inf + 1 gives -FLT_MAX; NaN stays); int32 wraps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext

ADD_N_TYPES = ("FLOAT32", "INT32")
FLT_MAX = np.float32(np.finfo(np.float32).max)


@dataclass(frozen=True)
class AddNParams:
    dtype: np.dtype


class AddN(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> AddNParams:
        if len(op.inputs) < 2 or any(t is None for t in op.inputs) or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: ADD_N takes two or more inputs and gives 1 output (TFLite checks it)")
        first = op.inputs[0]
        if first.type not in ADD_N_TYPES:
            raise op.unsupported(f"ADD_N does not run {first.type} (TFLite: FLOAT32, INT32)")
        for k, t in enumerate(op.inputs + op.outputs):
            if t.type != first.type or tuple(t.shape) != tuple(first.shape):
                raise ModelError(f"{op.where()}: ADD_N needs one type and shape throughout; tensor {k} is {t.type} "
                                 f"{tuple(t.shape)}, the first input {first.type} {tuple(first.shape)}")
        return AddNParams(np.dtype(first.dtype))

    @staticmethod
    def eval(p: AddNParams, *inputs):
        shape = inputs[0].shape
        if any(x.shape != shape for x in inputs):
            raise ValueError(f"ADD_N: inputs of shapes {[x.shape for x in inputs]} differ")
        total = np.array(inputs[0], p.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            for x in inputs[1:]:
                total = np.asarray(total + x, p.dtype)
                if p.dtype.kind == "f":
                    total = np.clip(total, -FLT_MAX, FLT_MAX)
        return np.asarray(total, p.dtype)
