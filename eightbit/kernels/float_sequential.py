"""Float32 dot products summed in TFLite's reference order, one rounding per step.

TFLite's reference float kernels (reference/conv.h and friends) sum each output as
`total += input * filter` over the taps in order (filter_y, filter_x, in_channel), in float32,
then add the bias. A BLAS GEMM sums in another order (and in wider registers), so its result can
differ in the last bit. That is harmless for a float model, but not for what follows: a hybrid
(dynamic-range) operator quantizes its float input on the fly, and a last-bit difference there
moves a value across a rounding boundary and changes the output by a whole quantum (TF's
dynamic-range MobileNetV2: its first CONV_2D stays float, ~0.3% of the next hybrid CONV_2D's
outputs differed by up to 1.5e-2). Summing in the reference order makes them bit-identical.

`matmul_sequential(a, b)`: (m, k) @ (k, n) in float32 with the k products added one by one
from k = 0 (no fused multiply-add). Compiled with numba when it is installed, else a numpy loop
over k (the same arithmetic, slower).
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.fast.jit import HAVE_NUMBA, njit

F32 = np.float32


def _sequential(a, b, out):  # pragma: no cover - compiled by numba
    # Loop order (row, k, column): each out[i, j] still adds its k products one by one from
    # k = 0, exactly as the reference does, but the inner loop runs along a row of b, so LLVM
    # vectorizes it. No fastmath: no reassociation and no fused multiply-add.
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            out[i, j] = np.float32(0.0)
        for t in range(k):
            av = a[i, t]
            for j in range(n):
                out[i, j] = np.float32(out[i, j] + np.float32(av * b[t, j]))


_KERNEL = njit(_sequential)


def matmul_sequential(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(m, k) @ (k, n) in float32, each sum in TFLite's reference order (into `out` if given)."""
    a = np.ascontiguousarray(a, F32)
    b = np.ascontiguousarray(b, F32)
    if out is None:
        out = np.empty((a.shape[0], b.shape[1]), F32)
    if HAVE_NUMBA:
        _KERNEL.run()(a, b, out)
        return out
    out[...] = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(a.shape[1]):
            out += (a[:, t, None] * b[None, t, :]).astype(F32)
    return out


def batched_matmul_sequential(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul's broadcasting over leading dimensions, each product summed as matmul_sequential."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, (*batch, *a.shape[-2:])).reshape(-1, *a.shape[-2:])
    b = np.broadcast_to(b, (*batch, *b.shape[-2:])).reshape(-1, *b.shape[-2:])
    out = np.empty((a.shape[0], a.shape[1], b.shape[2]), F32)
    for i in range(a.shape[0]):
        out[i] = matmul_sequential(a[i], b[i])
    return out.reshape(*batch, a.shape[1], b.shape[2])
