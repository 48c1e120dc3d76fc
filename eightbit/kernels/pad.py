"""PAD and PADV2 (TFLite kernels/pad.cc, reference PadImpl): constant padding of up to 5 dims.

The pad value: PADV2's constant input when given (quantized: it must carry the output's scale
and zero point, TFLite checks), else 0, which for a quantized tensor is the output zero point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import (
    QUANTIZED_TYPES,
    as_ints,
    fail,
    index_operand,
    require_same_quantization,
    require_type,
)

PAD_TYPES = frozenset({"FLOAT32", "FLOAT16", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL"})
MAX_DIMS = 5


def _prepare(op: OpContext, with_constant: bool):
    x, out = op.inputs[0], op.outputs[0]
    require_type(op, x, PAD_TYPES)
    if out.type != x.type:
        raise ModelError(f"{op.where()}: output is {out.type}, input {x.type}")
    # TFLite reads paddings of any integer width (int8/int16/int32/int64).
    index_operand(op, 1, ("INT8", "INT16", "INT32", "INT64"), "paddings")
    if len(x.shape) > MAX_DIMS:
        raise op.unsupported(f"{len(x.shape)}-D input (TFLite: at most {MAX_DIMS})")
    const = op.inputs[2] if with_constant and len(op.inputs) > 2 else None
    if const is not None:
        if const.type != x.type:
            raise ModelError(f"{op.where()}: constant value is {const.type}, input {x.type}")
        if int(np.prod(const.shape, dtype=np.int64)) != 1:
            raise ModelError(f"{op.where()}: the constant value must hold one element")
        if x.type in QUANTIZED_TYPES:
            require_same_quantization(op, const, out, "the constant value")
    default = out.zero_point if x.type in QUANTIZED_TYPES else 0
    return PadParams(default=np.array(default).astype(out.dtype), dtype=out.dtype)


def _pad(params, x, paddings, constant=None):
    p = as_ints(paddings)
    n = x.ndim
    if p.size != 2 * n:
        raise fail(f"PAD: paddings hold {p.size} values for a rank-{n} input (need [{n}, 2])")
    p = p.reshape(n, 2)
    if np.any(p < 0):
        raise fail(f"PAD: negative padding {p.tolist()}")
    value = params.default if constant is None else np.asarray(constant).reshape(-1)[0]
    out = np.full([int(d + a + b) for d, (a, b) in zip(x.shape, p)], value, dtype=params.dtype)
    out[tuple(slice(int(a), int(a) + d) for d, (a, _) in zip(x.shape, p))] = x
    return out


@dataclass(frozen=True, eq=False)
class PadParams:
    """The padding value when PADV2 has no constant one (the output zero point or 0)."""

    default: np.ndarray
    dtype: object


class Pad(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        return _prepare(op, with_constant=False)

    @staticmethod
    def eval(params, x, paddings):
        return _pad(params, x, paddings)


class PadV2(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        return _prepare(op, with_constant=True)

    @staticmethod
    def eval(params, x, paddings, constant=None):
        return _pad(params, x, paddings, constant)
