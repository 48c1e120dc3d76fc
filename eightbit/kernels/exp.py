"""EXP (TFLite kernels/exp.cc): expf on float32; int8 / int16 through LUTPopulate of exp
(256 entries, or 513 with interpolation for int16), which prepare expands to a full table."""

from __future__ import annotations

import numpy as np

from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import OpContext, Unary
from eightbit.kernels.opdata import Plain, full_table


def _expf(v):
    with np.errstate(over="ignore", under="ignore"):
        return np.asarray(np.exp(np.asarray(v, np.float64)), np.float32)


class Exp(Unary):
    @staticmethod
    def prepare(op: OpContext):
        x, out = Unary.check(op, ("FLOAT32", "INT8", "INT16"))
        if x.type == "FLOAT32":
            return Plain()
        x, out = Unary.check_quantized(op)
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
