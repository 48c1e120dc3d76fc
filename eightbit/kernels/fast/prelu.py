"""Fast float32 PRELU with alpha along the last axis (the usual per-channel slope), bit-identical
to the reference np.where(x >= 0, x, x * alpha): one compiled pass, rows split over the threads.
Other alpha shapes and the quantized types keep the reference eval."""

from __future__ import annotations

import numpy as np

from eightbit.kernels.activations import Prelu
from eightbit.kernels.fast.jit import HAVE_NUMBA, njit, parallel, work_ranges
from eightbit.kernels.opdata import Plain

F32 = np.float32


def _prelu(x, alpha, out, r0, r1):
    c_ = x.shape[1]
    for r in range(r0, r1):
        for c in range(c_):
            v = x[r, c]
            out[r, c] = v if v >= 0 else v * alpha[c]


prelu = njit(_prelu)


class FastPrelu(Prelu):
    @staticmethod
    def eval(p, x, alpha):
        channels = x.shape[-1] if x.ndim else 0
        per_channel = alpha.size == channels and (alpha.ndim == 0 or alpha.shape[-1] == channels)
        if (not HAVE_NUMBA or not isinstance(p, Plain) or x.dtype != F32 or alpha.dtype != F32 or x.size == 0
                or not per_channel):
            return Prelu.eval(p, x, alpha)
        rows = np.ascontiguousarray(x).reshape(-1, channels)
        a = np.ascontiguousarray(alpha).reshape(-1)
        out = np.empty(rows.shape, F32)
        fn = prelu.run()
        parallel(lambda r0, r1: fn(rows, a, out, r0, r1), work_ranges(rows.shape[0], channels))
        return out.reshape(x.shape)
