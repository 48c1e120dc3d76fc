"""DEQUANTIZE and DENSIFY of constants (float16 or int8 weights in front of a float layer, sparse
weights: MediaPipe's models): computed once, and every later invoke returns that array instead of
converting the weights again.

The reference eval runs on the first invoke; while the input is the very same read-only array
(a constant: the runner hands out its buffer's array, read-only; or the read-only output of
another of these), the result is returned again, itself read-only so nothing downstream can
change it in place. The same object each time also lets the fast float layers keep their
re-laid-out filter (conv.py's _memoized). Any other input runs the reference eval.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eightbit.kernels.densify import Densify
from eightbit.kernels.dequantize import Dequantize


@dataclass(frozen=True, eq=False)
class OnceParams:
    ref: object
    memo: dict = field(default_factory=dict)  # input (the same read-only array) -> output


def _once(base, params, x):
    if type(params) is not OnceParams:
        return base.eval(params, x)
    if not isinstance(x, np.ndarray) or x.flags.writeable:
        return base.eval(params.ref, x)
    memo = params.memo
    if memo.get("x") is not x:
        value = np.array(base.eval(params.ref, x), copy=True)
        value.setflags(write=False)
        memo.update(x=x, value=value)
    return memo["value"]


class FastDequantize(Dequantize):
    @staticmethod
    def prepare(op):
        return OnceParams(Dequantize.prepare(op))

    @staticmethod
    def eval(params, x):
        return _once(Dequantize, params, x)


class FastDensify(Densify):
    @staticmethod
    def prepare(op):
        return OnceParams(Densify.prepare(op))

    @staticmethod
    def eval(params, x):
        return _once(Densify, params, x)
