"""L2_NORMALIZATION over the last axis (TFLite kernels/l2norm.cc, reference l2normalization.h).

float32: x / max(sqrt(sum x^2), 1e-6).
Quantized: the row's sum of squared offsets gives 1/sqrt as a multiplier and shift
(GetInvSqrtQuantizedMultiplierExp); the output is on scale 1/128 (uint8 zero point 128,
int8 zero point 0). The uint8 and int8 kernels round differently: uint8 multiplies
128 * diff and shifts right, int8 folds the factor 128 into the shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels import gemmlowp as gl
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.fixedpoint import (
    get_inv_sqrt_quantized_multiplier_exp,
    multiply_by_quantized_multiplier,
    wrap_int32,
)
from eightbit.kernels.opdata import Plain

F32 = np.float32


@dataclass(frozen=True, eq=False)
class L2Quant:
    uint8: bool  # uint8 (zero point 128) or int8 output
    in_zp: int


class L2Normalization(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, y = op.inputs[0], op.outputs[0]
        if x.type != y.type:
            raise op.unsupported(f"input {x.type} and output {y.type} differ")
        if x.type not in ("FLOAT32", "INT8", "UINT8"):
            raise op.unsupported(f"{x.type} is not supported (float32, int8, uint8)")
        if len(x.shape) < 1:
            raise op.unsupported("L2_NORMALIZATION needs an input of rank >= 1")
        if op.options.get("fused_activation_function", 0) != 0:
            raise op.unsupported("TFLite's L2_NORMALIZATION kernels support no fused activation")
        if x.type == "FLOAT32":
            return Plain()
        want_zp = 128 if x.type == "UINT8" else 0
        if float(F32(y.scale)) != 1.0 / 128 or y.zero_point != want_zp:
            raise op.unsupported(f"{x.type} L2_NORMALIZATION output must be scale 1/128, zero point {want_zp}")
        return L2Quant(x.type == "UINT8", x.zero_point)

    @staticmethod
    def eval(p, x):
        if isinstance(p, Plain):
            x = x.astype(np.float32)
            if x.size == 0:
                return x.copy()
            with np.errstate(over="ignore", invalid="ignore"):
                # squares added one at a time along the row, as the reference loop does
                sq = np.cumsum(x * x, axis=-1, dtype=np.float32)[..., -1:]
                norm = np.sqrt(sq)
                return (x / np.maximum(norm, F32(1e-6))).astype(np.float32)
        if x.size == 0:
            return x.copy()
        depth = x.shape[-1]
        diff = x.reshape(-1, depth).astype(np.int64) - p.in_zp
        acc = wrap_int32(np.sum(diff * diff, axis=1, keepdims=True))
        if p.uint8:
            m, shift = get_inv_sqrt_quantized_multiplier_exp(acc, -1)
            # MultiplyByQuantizedMultiplierSmallerThanOneExp(128 * diff, m, shift), shift <= 0
            rescaled = gl.rounding_divide_by_pot(gl.mul(128 * diff, m), -shift)
            out = np.clip(128 + rescaled, 0, 255).astype(np.uint8)
        else:
            m, shift = get_inv_sqrt_quantized_multiplier_exp(acc, -1)
            out = np.clip(multiply_by_quantized_multiplier(diff, m, shift + 7), -128, 127).astype(np.int8)
        return out.reshape(x.shape)
