"""FILL (TFLite kernels/fill.cc): a tensor of shape dims (input 0) holding the scalar value (input 1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import (
    ANY_TYPE,
    QUANTIZED_TYPES,
    as_ints,
    fail,
    index_operand,
    require_same_quantization,
    require_type,
)


@dataclass(frozen=True, eq=False)
class FillParams:
    """The output type."""

    dtype: object


class Fill(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        index_operand(op, 0, what="dims")
        value, out = op.inputs[1], op.outputs[0]
        require_type(op, value, ANY_TYPE, "value")
        if out.type != value.type:
            raise ModelError(f"{op.where()}: output is {out.type}, value {value.type}")
        if len(value.shape) != 0 and int(np.prod(value.shape, dtype=np.int64)) != 1:
            raise ModelError(f"{op.where()}: the value must be a scalar")
        if value.type in QUANTIZED_TYPES:
            require_same_quantization(op, value, out, "the value")
        return FillParams(dtype=out.dtype)

    @staticmethod
    def eval(params, dims, value):
        shape = as_ints(dims)
        if np.asarray(dims).ndim != 1:
            raise fail("FILL: dims must be 1-D")
        if np.any(shape < 0):
            raise fail(f"FILL: negative dimension in {shape.tolist()}")
        return np.full(shape.tolist(), np.asarray(value).reshape(-1)[0], dtype=params.dtype)
