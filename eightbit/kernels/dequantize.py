"""DEQUANTIZE (TFLite kernels/dequantize.cc/.h, reference/dequantize.h, integer_ops/dequantize.h).

real = scale * (q - zero_point) -> float32 for uint8/int8/int16 (per tensor) and uint8/int8 (per
channel along quantized_dimension); float16 -> float32 is exact. INT4 constants reach us already
unpacked to int8 and take the int8 path.

TFLite multiplies in double and rounds to float; scale is a float32 and (q - zero_point) an
integer below 2^24, so the exact product fits in a double and that is the float32 product,
correctly rounded, which is what numpy's float32 multiply gives.
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.opdata import Affine, Plain, channel_affine

_INTEGER = ("UINT8", "INT8", "INT16", "INT4")


class Dequantize(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> Plain | Affine:
        x, out = op.inputs[0], op.outputs[0]
        if out.type != "FLOAT32":
            raise op.unsupported(f"DEQUANTIZE output must be float32, not {out.type}")
        if x.type == "FLOAT16":
            return Plain()
        if x.type not in _INTEGER:
            raise op.unsupported(f"DEQUANTIZE does not take {x.type}")
        if not x.quantized:  # TFLite then reads scale 0 and zero point 0
            return Affine(np.float32(0), 0)
        if x.scales.size > 1:
            if x.type == "INT16":
                raise op.unsupported("per-channel DEQUANTIZE runs uint8/int8 only")
            if not len(x.shape):
                raise op.unsupported(f"per-channel input {x.name!r} is a scalar")
            return channel_affine(op, x)
        if x.type == "INT16" and x.zero_point != 0:
            raise op.unsupported("int16 DEQUANTIZE needs zero point 0 (LiteRT 2.3)")
        return Affine(np.float32(x.scales.reshape(-1)[0]), x.zero_point)

    @staticmethod
    def eval(params, x):
        if isinstance(params, Plain):  # float16
            return np.asarray(np.asarray(x, np.float16), np.float32)
        scale, zp = params.along(x.ndim)
        centered = (np.asarray(x, np.int64) - zp).astype(np.float32)
        return np.asarray(centered * scale, np.float32)
