"""Shared shape of the one-input kernels that apply a plain function to the stored values
(FLOOR, CEIL, ROUND, SIGN, SIN, COS, LOGICAL_NOT): no quantization, output type = input type,
output shape = input shape. A subclass names the types TFLite's kernel registers and the
function per numpy dtype; eval is the function, nothing else."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import OpContext, Unary
from eightbit.kernels.movement import require_same_type


@dataclass(frozen=True)
class UnaryParams:
    dtype: np.dtype


def check_unary(op: OpContext, allowed: tuple, name: str):
    """The input and output TensorInfo of a one-input op whose output repeats the input's type."""
    if len(op.inputs) != 1 or op.inputs[0] is None or len(op.outputs) != 1:
        raise ModelError(f"{op.where()}: {name} takes 1 input and gives 1 output")
    x, out = op.inputs[0], op.outputs[0]
    if x.type not in allowed:
        raise op.unsupported(f"{name} does not run {x.type} (TFLite: {', '.join(allowed)})")
    require_same_type(op, x, out)
    return x, out


class PlainUnary(Unary):
    """Subclasses set `name`, `allowed` (TFLite type names) and `function(x) -> array`."""

    name = ""
    allowed: tuple = ("FLOAT32", "FLOAT16")

    @classmethod
    def prepare(cls, op: OpContext):
        x, _ = check_unary(op, cls.allowed, cls.name)
        return UnaryParams(np.dtype(x.dtype))

    @classmethod
    def eval(cls, params: UnaryParams, x):
        with np.errstate(all="ignore"):
            return np.asarray(cls.function(np.asarray(x)), params.dtype)

    @staticmethod
    def function(x):
        raise NotImplementedError
