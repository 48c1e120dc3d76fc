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

_INTEGER = ("UINT8", "INT8", "INT16", "INT4")


class Dequantize(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, out = op.inputs[0], op.outputs[0]
        if out.type != "FLOAT32":
            raise op.unsupported(f"DEQUANTIZE output must be float32, not {out.type}")
        if x.type == "FLOAT16":
            return {"mode": "half"}
        if x.type not in _INTEGER:
            raise op.unsupported(f"DEQUANTIZE does not take {x.type}")
        if not x.quantized:  # TFLite then reads scale 0 and zero point 0
            return {"mode": "int", "scale": np.float32(0), "zp": 0, "axis": None}
        scales = np.asarray(x.scales, np.float32).reshape(-1)
        zps = np.asarray(x.zero_points, np.int64).reshape(-1)
        if scales.size > 1:
            if x.type == "INT16":
                raise op.unsupported("per-channel DEQUANTIZE runs uint8/int8 only")
            if zps.size != scales.size:  # TFLite repeats the first zero point
                zps = np.full(scales.shape, int(zps[0]) if zps.size else 0, np.int64)
            axis = int(x.quantized_dimension)
            if not (0 <= axis < len(x.shape) and x.shape[axis] == scales.size):
                raise op.unsupported(f"per-channel input: {scales.size} scales for dimension {axis} of {x.shape}")
            return {"mode": "int", "scale": scales, "zp": zps, "axis": axis}
        if x.type == "INT16" and x.zero_point != 0:
            raise op.unsupported("int16 DEQUANTIZE needs zero point 0 (LiteRT 2.3)")
        return {"mode": "int", "scale": np.float32(scales[0]), "zp": x.zero_point, "axis": None}

    @staticmethod
    def eval(params, x):
        if params["mode"] == "half":
            return np.asarray(np.asarray(x, np.float16), np.float32)
        scale, zp, axis = params["scale"], params["zp"], params["axis"]
        if axis is not None:
            shape = [1] * x.ndim
            shape[axis] = scale.size
            scale, zp = scale.reshape(shape), zp.reshape(shape)
        centered = (np.asarray(x, np.int64) - zp).astype(np.float32)
        return np.asarray(centered * scale, np.float32)
