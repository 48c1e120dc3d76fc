"""Fast 8-bit elementwise activations (HARD_SWISH, LOGISTIC, TANH on int8 / uint8): one table
lookup per element, bit-identical to the reference by construction. (Also float32 HARD_SWISH:
one compiled pass of the reference's float32 operations.)

An 8-bit input has 256 possible values and these kernels compute every element from its value
alone, so prepare runs the reference eval once on all 256 values (its exact fixed-point
arithmetic: HARD_SWISH's ~15 int16 steps, the LOGISTIC / TANH tables) and eval indexes that
table with the input's bytes (x viewed as uint8: no widening pass). Other types keep the
reference eval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.activations import HardSwish, Logistic, Tanh
from eightbit.kernels.fast import workspace
from eightbit.kernels.fast.jit import HAVE_NUMBA, njit, parallel, work_ranges
from eightbit.kernels.opdata import Plain

_BYTES = np.arange(256, dtype=np.uint8)
F32 = np.float32


def _hard_swish_f32(x, out):
    """x * min(6, max(0, x + 3)) / 6 in float32, with numpy's maximum / minimum (the second
    operand on ties, NaN propagated), as the reference computes it."""
    zero, three, six = np.float32(0.0), np.float32(3.0), np.float32(6.0)
    for i in range(x.size):
        v = x[i]
        r = v + three
        r = zero if zero > r else r
        r = six if six < r else r
        out[i] = np.float32(v * r) / six


hard_swish_f32 = njit(_hard_swish_f32)


@dataclass(frozen=True)
class Lut8Params:
    ref: object
    table: np.ndarray  # (256,) output values, indexed by the input's byte


def _prepare(base, op):
    ref = base.prepare(op)
    x, y = op.inputs[0], op.outputs[0]
    if x.type not in ("INT8", "UINT8") or y.type != x.type:
        return ref
    values = _BYTES.view(np.dtype(x.dtype))  # every int8 / uint8 value, in byte order
    table = np.ascontiguousarray(base.eval(ref, values))
    if table.shape != (256,) or table.dtype != np.dtype(y.dtype):
        return ref
    return Lut8Params(ref, table)


def _eval(base, params, x):
    if type(params) is not Lut8Params:
        return base.eval(params, x)
    return params.table[np.asarray(x).view(np.uint8)]


class FastHardSwish(HardSwish):
    @staticmethod
    def prepare(op):
        return _prepare(HardSwish, op)

    @staticmethod
    def eval(params, x):
        if isinstance(params, Plain) and HAVE_NUMBA and x.dtype == F32:
            flat = np.ascontiguousarray(x).reshape(-1)
            out = workspace.empty(flat.shape, F32)
            fn = hard_swish_f32.run()
            parallel(lambda s, e: fn(flat[s:e], out[s:e]), work_ranges(flat.size, 4))
            return out.reshape(x.shape)
        return _eval(HardSwish, params, x)


class FastLogistic(Logistic):
    @staticmethod
    def prepare(op):
        return _prepare(Logistic, op)

    @staticmethod
    def eval(params, x):
        return _eval(Logistic, params, x)


class FastTanh(Tanh):
    @staticmethod
    def prepare(op):
        return _prepare(Tanh, op)

    @staticmethod
    def eval(params, x):
        return _eval(Tanh, params, x)
