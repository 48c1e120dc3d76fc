"""DEQUANTIZE of a constant (float16 or int8 weights in front of a float layer, as in MediaPipe's
models): the reference eval runs once, in prepare, and every invoke returns that array (read-only,
so nothing downstream can change it in place) instead of converting the weights again. The same
object each time also lets the fast float layers keep their re-laid-out filter (conv.py's
_runtime_weights). Non-constant inputs keep the reference eval."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.dequantize import Dequantize


@dataclass(frozen=True, eq=False)
class ConstantDequantized:
    value: np.ndarray


class FastDequantize(Dequantize):
    @staticmethod
    def prepare(op):
        ref = Dequantize.prepare(op)
        data = op.inputs[0].data
        if data is None:
            return ref
        value = np.array(Dequantize.eval(ref, data), copy=True)
        value.setflags(write=False)
        return ConstantDequantized(value)

    @staticmethod
    def eval(params, x):
        if type(params) is ConstantDequantized:
            return params.value
        return Dequantize.eval(params, x)
