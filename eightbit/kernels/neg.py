"""NEG (TFLite kernels/neg.cc, reference Negate): -x on the raw values, wrapping for integers.

int8 / int16 negate the stored integers and ignore quantization parameters (so -(-128) is -128),
as the reference kernel does; float32, float16, int32 and int64 likewise."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.base import OpContext, Unary

_TYPES = ("FLOAT32", "FLOAT16", "INT32", "INT64", "INT8", "INT16")


class Neg(Unary):
    @staticmethod
    def prepare(op: OpContext):
        Unary.check(op, _TYPES)

    @staticmethod
    def eval(params, x):
        with np.errstate(over="ignore"):
            return np.asarray(np.negative(x), x.dtype)
