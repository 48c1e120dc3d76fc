"""FAKE_QUANT (TFLite kernels/fake_quant.cc, reference FakeQuant, quantization_util.cc
NudgeQuantizationRange / FakeQuantizeArray), TF1's quantization-aware-training op: float32 values
clamped to the nudged [min, max] and rounded to its 2^num_bits - 1 steps, all in float32:
  scale = (max - min) / (2^bits - 1); zero point = round(0 - min / scale) clamped to [0, 2^bits - 1]
  nudged_min = (0 - zp) * scale, nudged_max = (2^bits - 1 - zp) * scale
  out = round((clamp(x) - nudged_min) * (1 / scale)) * scale + nudged_min   (round: half away from 0)
NaN clamps to nudged_min (std::max keeps its first argument when the comparison fails).
narrow_range is refused at run time, as TFLite does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import require_type


@dataclass(frozen=True)
class FakeQuantParams:
    scale: np.float32
    nudged_min: np.float32
    nudged_max: np.float32


def _round_away(x: np.ndarray) -> np.ndarray:
    """roundf: halves away from zero (|x| + 0.5 is exact in double for any float32)."""
    v = np.asarray(x, np.float64)
    return (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.float32)


def nudge(rmin: float, rmax: float, num_bits: int) -> FakeQuantParams:
    f32 = np.float32
    qmin, qmax = f32(0), f32((1 << num_bits) - 1)
    with np.errstate(all="ignore"):
        scale = f32(f32(rmax) - f32(rmin)) / f32(qmax - qmin)
        zp_from_min = f32(qmin - f32(f32(rmin) / scale))
    if zp_from_min < qmin:
        zp = qmin
    elif zp_from_min > qmax:
        zp = qmax
    else:
        zp = _round_away(zp_from_min)
    return FakeQuantParams(scale, f32(f32(qmin - zp) * scale), f32(f32(qmax - zp) * scale))


class FakeQuant(Kernel):
    types = ("float32",)

    @staticmethod
    def prepare(op: OpContext) -> FakeQuantParams:
        if len(op.inputs) != 1 or op.inputs[0] is None or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: FAKE_QUANT takes one input and gives one output")
        require_type(op, op.inputs[0], ("FLOAT32",))
        o = op.options
        if o.get("narrow_range"):
            raise ModelError(f"{op.where()}: narrow_range FAKE_QUANT is not supported at run time (TFLite refuses it "
                             "too: it is meant for weights)")
        bits = int(o.get("num_bits", 0))
        if not 1 <= bits <= 16:
            raise ModelError(f"{op.where()}: FAKE_QUANT num_bits {bits} must be in [1, 16]")
        return nudge(float(o.get("min", 0.0)), float(o.get("max", 0.0)), bits)

    @staticmethod
    def eval(p: FakeQuantParams, x):
        with np.errstate(all="ignore"):
            clamped = np.where(p.nudged_min < x, x, p.nudged_min).astype(np.float32)
            clamped = np.where(clamped < p.nudged_max, clamped, p.nudged_max).astype(np.float32)
            inv = np.float32(1) / p.scale
            steps = _round_away(((clamped - p.nudged_min) * inv).astype(np.float32))
            return np.asarray((steps * p.scale).astype(np.float32) + p.nudged_min, np.float32)
