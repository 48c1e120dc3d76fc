"""L2_POOL_2D (TFLite kernels/pooling.cc L2Eval, reference/pooling.h L2Pool): float32 only. Each
output is sqrt(sum of the squares of the window's valid taps / their count), the squares summed in
float32 in (filter_y, filter_x) order, then the fused activation clamp (NONE still clamps to the
float range, so inf becomes FLT_MAX). Windows and padding as AVERAGE_POOL_2D's."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.pooling import _out_hw, _prepare, _windows


class L2Pool2D(Kernel):
    types = ("float32",)

    @staticmethod
    def prepare(op: OpContext):
        if op.inputs[0].type != "FLOAT32":
            raise op.unsupported(f"L2_POOL_2D runs float32 only, not {op.inputs[0].type}")
        return _prepare(op)

    @staticmethod
    def eval(p, x):
        oh, ow = _out_hw(p, x)
        acc = np.zeros((x.shape[0], oh, ow, x.shape[3]), np.float32)
        count = np.zeros((oh, ow), np.int64)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for vals, valid in _windows(p, x):
                # An out-of-window tap adds +0.0: the float sum (never -0.0) is unchanged.
                acc = acc + np.where(valid[None, :, :, None], vals * vals, np.float32(0)).astype(np.float32)
                count = count + valid
            out = np.sqrt(acc / count[None, :, :, None].astype(np.float32)).astype(np.float32)
        lo, hi = p.clamp
        return np.minimum(np.maximum(out, np.float32(lo)), np.float32(hi)).astype(np.float32)
