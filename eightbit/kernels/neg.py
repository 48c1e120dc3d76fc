"""NEG (TFLite kernels/neg.cc, reference Negate): -x on the raw values, wrapping for integers.

int8 / int16 negate the stored integers and ignore quantization parameters (so -(-128) is -128),
as the reference kernel does; float32, float16, int32 and int64 likewise."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.base import Kernel, OpContext

_TYPES = ("FLOAT32", "FLOAT16", "INT32", "INT64", "INT8", "INT16")


class Neg(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, out = op.inputs[0], op.outputs[0]
        if x.type not in _TYPES:
            raise op.unsupported(f"NEG does not run {x.type}")
        if out.type != x.type:
            raise op.unsupported(f"NEG output type {out.type} differs from input type {x.type}")
        return None

    @staticmethod
    def eval(params, x):
        with np.errstate(over="ignore"):
            return np.asarray(np.negative(x), x.dtype)
