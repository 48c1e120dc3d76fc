"""Shared helpers of the shape and data-movement kernels (private to eightbit.kernels).

RESHAPE, SQUEEZE, TRANSPOSE, SLICE, GATHER, PAD, TILE, ... move bytes without arithmetic, so what
they share is only which element types TFLite accepts, the checks on types and quantization that
TFLite's Prepare functions make, and reading of index/shape operands.
"""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext

# Element types a byte-moving kernel can carry (everything numpy represents as fixed-size values;
# STRING and the handle types are not data, INT4 is unpacked on read so TFLite's packed copies differ).
ANY_TYPE = frozenset({
    "FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16", "INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32",
    "INT64", "UINT64", "BOOL", "COMPLEX64", "COMPLEX128",
})
QUANTIZED_TYPES = ("INT8", "UINT8", "INT16")


def require_type(op: OpContext, tensor, allowed, what: str = "input") -> None:
    """op.unsupported unless the tensor's element type is one TFLite's kernel runs for this op."""
    if tensor is None:
        raise ModelError(f"{op.where()}: missing {what}")
    if tensor.type not in allowed:
        raise op.unsupported(f"{what} of type {tensor.type} (TFLite runs {', '.join(sorted(allowed))})")


def require_arity(op: OpContext, n_inputs: int, message: str) -> None:
    """ModelError(message) unless the op has exactly n_inputs (none omitted) and one output."""
    if len(op.inputs) != n_inputs or any(t is None for t in op.inputs) or len(op.outputs) != 1:
        raise ModelError(f"{op.where()}: {message}")


def require_same_type(op: OpContext, a, b, what: str = "output") -> None:
    if a.type != b.type:
        raise ModelError(f"{op.where()}: {what} is {b.type} but the input is {a.type}")


def require_same_quantization(op: OpContext, a, b, what: str) -> None:
    """TFLite's TF_LITE_ENSURE_EQ on params.scale and params.zero_point (0/0 when unquantized)."""
    if a.scale != b.scale or a.zero_point != b.zero_point:
        raise ModelError(
            f"{op.where()}: {what} must have the output's quantization (scale {a.scale} zero point "
            f"{a.zero_point} vs scale {b.scale} zero point {b.zero_point})"
        )


def index_operand(op: OpContext, k: int, allowed=("INT32", "INT64"), what: str | None = None) -> np.ndarray | None:
    """Check an index/shape input's type; return its constant value (int64) or None when computed."""
    t = op.inputs[k] if k < len(op.inputs) else None
    what = what or f"input {k}"
    require_type(op, t, allowed, what)
    return None if t.data is None else np.asarray(t.data).astype(np.int64)


def as_ints(a) -> np.ndarray:
    return np.asarray(a).astype(np.int64).reshape(-1)


def fail(message: str):
    """A run-time error of an operator (TFLite's kernel returns kTfLiteError)."""
    return ValueError(message)


class Move(Kernel):
    """A byte-moving kernel: input 0 of any element type TFLite carries (`allowed`), the output of
    the same type, and index/shape operands `indices` = ((position, what, allowed types), ...)
    checked as TFLite's Prepare does. Subclasses hold only their math (`eval`) and any extra
    check (`check(op) -> params`, default None)."""

    allowed = ANY_TYPE
    indices: tuple = ()

    @classmethod
    def prepare(cls, op: OpContext):
        x = op.inputs[0]
        require_type(op, x, cls.allowed)
        require_same_type(op, x, op.outputs[0])
        for k, what, types in cls.indices:
            index_operand(op, k, types, what)
        return cls.check(op)

    @staticmethod
    def check(op: OpContext):
        return None
