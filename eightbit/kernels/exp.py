"""EXP (TFLite kernels/exp.cc): expf on float32; int8 / int16 through LUTPopulate of exp
(256 entries, or 513 with interpolation for int16), which prepare expands to a full table."""

from __future__ import annotations

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.opdata import Plain, full_table


def _expf(v):
    with np.errstate(over="ignore", under="ignore"):
        return np.asarray(np.exp(np.asarray(v, np.float64)), np.float32)


class Exp(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x, out = op.inputs[0], op.outputs[0]
        if out.type != x.type:
            raise op.unsupported(f"EXP output type {out.type} differs from input type {x.type}")
        if x.type == "FLOAT32":
            return Plain()
        if x.type not in ("INT8", "INT16"):
            raise op.unsupported(f"EXP runs float32, int8 and int16, not {x.type}")
        if not (x.quantized and out.quantized):
            raise op.unsupported(f"EXP {x.type} needs quantized input and output")
        if x.type == "INT16" and (x.zero_point != 0 or out.zero_point != 0):
            raise op.unsupported("EXP int16 needs zero points 0 (LiteRT 2.3)")
        dtype = np.dtype(out.dtype)
        info = np.iinfo(dtype)
        vals = np.arange(info.min, info.max + 1, dtype=np.int64)
        if x.type == "INT8":
            table = fp.lut_populate_int8(x.scale, x.zero_point, out.scale, out.zero_point, _expf)
        else:
            lut = fp.lut_populate_int16(x.scale, x.zero_point, out.scale, out.zero_point, _expf)
            table = fp.lut_lookup_int16(vals, lut)
        return full_table(table, dtype)

    @staticmethod
    def eval(params, x):
        if isinstance(params, Plain):
            return _expf(x)
        return params.lookup(x)
