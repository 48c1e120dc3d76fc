"""ARG_MAX and ARG_MIN (TFLite kernels/arg_min_max.cc, internal/reference/arg_min_max.h).

The index of the largest (smallest) value along the one axis given by input 1 (int32 or
int64, negative counts from the end); the axis is removed from the shape. Ties keep the first
index (the reference only replaces on a strict comparison). Quantized inputs are compared as
raw integers: scales are positive, so the order is the same. The output type comes from
ArgMaxOptions/ArgMinOptions.output_type (int32 or int64). An empty axis is an error.

NaN: we follow the C++ source (a NaN is never moved to, a leading NaN is kept); LiteRT 2.3.0's
compiled kernel does not always (its loops appear to be reordered), so NaN inputs may differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import Kernel, OpContext

_INPUT_TYPES = ("FLOAT32", "UINT8", "INT8", "INT32", "BOOL")
_OUTPUT_TYPES = {2: "INT32", 4: "INT64"}  # schema TensorType values


def _prepare(op: OpContext):
    x, axis, y = op.inputs[0], op.inputs[1], op.outputs[0]
    if x.type not in _INPUT_TYPES:
        raise op.unsupported(f"input type {x.type} (supported: {', '.join(_INPUT_TYPES)})")
    if axis is None or axis.type not in ("INT32", "INT64"):
        raise op.unsupported("the axis input must be int32 or int64")
    if y.type not in ("INT32", "INT64"):
        raise op.unsupported(f"output type {y.type} (int32 or int64 only)")
    want = _OUTPUT_TYPES.get(int(op.options.get("output_type", 0)))
    if want != y.type:
        raise op.unsupported(f"output_type option {op.options.get('output_type')} does not match the {y.type} output")
    if len(x.shape) < 1:
        raise op.unsupported("input must have at least one dimension")
    return ArgMinMaxParams(dtype=y.dtype)


def _axis(axis, ndim: int) -> int:
    a = int(np.asarray(axis).reshape(-1)[0])
    c = a + ndim if a < 0 else a
    if not 0 <= c < ndim:
        raise ValueError(f"axis {a} out of range for a {ndim}-D input")
    return c


def _arg(is_max: bool, p, x, axis):
    a = _axis(axis, x.ndim)
    shape = x.shape[:a] + x.shape[a + 1:]
    if x.shape[a] == 0:
        raise ValueError("ARG_MIN/ARG_MAX over an empty axis")
    if x.size == 0:
        return np.zeros(shape, p.dtype)
    fn = np.argmax if is_max else np.argmin
    if np.issubdtype(x.dtype, np.floating) and np.isnan(x).any():
        # The reference never moves to a NaN (comparisons are false) and never leaves a
        # leading one; numpy would stop at the first NaN.
        idx = fn(np.where(np.isnan(x), -np.inf if is_max else np.inf, x), axis=a)
        first_nan = np.isnan(np.take(x, 0, axis=a))
        return np.asarray(np.where(first_nan, 0, idx), p.dtype)
    return np.asarray(fn(x, axis=a), p.dtype)


@dataclass(frozen=True, eq=False)
class ArgMinMaxParams:
    """The index type of the output (int32 or int64)."""

    dtype: object


class _ArgMinMax(Kernel):
    is_max = True

    @staticmethod
    def prepare(op: OpContext):
        return _prepare(op)

    @classmethod
    def eval(cls, p, x, axis):
        return _arg(cls.is_max, p, x, axis)


class ArgMax(_ArgMinMax):
    is_max = True


class ArgMin(_ArgMinMax):
    is_max = False
