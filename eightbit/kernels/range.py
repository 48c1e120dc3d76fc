"""RANGE (TFLite kernels/range.cc): start, start + delta, ... up to (not including) limit; the
three inputs are scalars of one type: int32, float32, or int64 (v2). The length depends on the
values: integers (|limit - start| + |delta| - 1) / |delta|, float32 ceil(|(limit - start) / delta|)
in float; a zero delta or a delta pointing away from the limit is a run-time error. The values
accumulate as the reference does (value += delta, in the output type), so float32 ranges carry
its rounding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_arity

RANGE_TYPES = ("INT32", "FLOAT32", "INT64")


@dataclass(frozen=True)
class RangeParams:
    dtype: np.dtype


def range_size(start, limit, delta) -> int:
    if delta == 0:
        raise fail("RANGE: delta must not be 0")
    if not ((start > limit and delta < 0) or (start < limit and delta > 0)):
        raise fail(f"RANGE: a delta of {delta} cannot go from {start} to {limit}")
    if isinstance(start, np.floating):
        return int(np.ceil(np.abs((limit - start) / delta)))
    span, step = abs(int(limit) - int(start)), abs(int(delta))
    return (span + step - 1) // step


class Range(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> RangeParams:
        require_arity(op, 3, "RANGE takes start, limit and delta, and gives 1 output")
        kind = op.inputs[0].type
        if kind not in RANGE_TYPES:
            raise op.unsupported(f"RANGE does not run {kind} (TFLite: {', '.join(RANGE_TYPES)})")
        for t in op.inputs[1:] + op.outputs:
            if t.type != kind:
                raise ModelError(f"{op.where()}: RANGE's inputs and output must all be {kind}, found {t.type}")
        for name, t in zip(("start", "limit", "delta"), op.inputs):
            if len(t.shape) != 0:
                raise ModelError(f"{op.where()}: RANGE's {name} must be a scalar, has shape {tuple(t.shape)}")
        return RangeParams(np.dtype(op.outputs[0].dtype))

    @staticmethod
    def eval(p: RangeParams, start, limit, delta):
        start, limit, delta = (np.asarray(v, p.dtype).reshape(()).item() for v in (start, limit, delta))
        if p.dtype.kind == "f":
            start, limit, delta = np.float32(start), np.float32(limit), np.float32(delta)
        n = range_size(start, limit, delta)
        steps = np.full(n, delta, p.dtype)
        if n:
            steps[0] = start
        with np.errstate(over="ignore"):
            return np.cumsum(steps, dtype=p.dtype)
