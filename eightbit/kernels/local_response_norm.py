"""LOCAL_RESPONSE_NORMALIZATION (TFLite kernels/local_response_norm.cc, reference
LocalResponseNormalization): float32 only, over the last dimension of a 4-D input.

For channel c: accum = the float32 sum of x[c']^2 over c' in [max(0, c - radius),
min(depth, c + radius + 1)), added in channel order; out = x[c] * powf(bias + alpha * accum,
-beta) (LocalResponseNormalizationOptions radius, bias, alpha, beta).

LiteRT 2.3.0's reference kernel leaves channel c + radius out of the window (an off-by-one); its
optimized kernel and TensorFlow include it, and so do we."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext


@dataclass(frozen=True)
class LrnParams:
    radius: int
    bias: np.float32
    alpha: np.float32
    beta: np.float32


class LocalResponseNormalization(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> LrnParams:
        if len(op.inputs) != 1 or op.inputs[0] is None or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: LOCAL_RESPONSE_NORMALIZATION takes 1 input and gives 1 output")
        x, out = op.inputs[0], op.outputs[0]
        if x.type != "FLOAT32" or out.type != "FLOAT32":
            raise op.unsupported(f"LOCAL_RESPONSE_NORMALIZATION runs float32 only, not {x.type} -> {out.type}")
        if len(x.shape) != 4:
            raise ModelError(f"{op.where()}: LOCAL_RESPONSE_NORMALIZATION needs a 4-D input, got {len(x.shape)}-D")
        o = op.options
        return LrnParams(int(o.get("radius", 0)), np.float32(o.get("bias", 0.0)), np.float32(o.get("alpha", 0.0)),
                         np.float32(o.get("beta", 0.0)))

    @staticmethod
    def eval(p: LrnParams, x):
        depth = x.shape[-1]
        squares = np.square(x, dtype=np.float32)
        accum = np.zeros_like(squares)
        channel = np.arange(depth)
        with np.errstate(over="ignore", invalid="ignore"):
            for offset in range(-p.radius, p.radius + 1):  # channel order, as the reference adds
                source = channel + offset
                inside = (source >= 0) & (source < depth)
                term = np.where(inside, squares[..., np.clip(source, 0, max(depth - 1, 0))], np.float32(0))
                accum = accum + term
            scale = np.power(p.bias + p.alpha * accum, -p.beta, dtype=np.float32)
            return (x * scale).astype(np.float32)
