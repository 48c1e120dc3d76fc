"""Float32 sums in the order LiteRT's x86 build computes them (neon_tensor_utils.cc through the
NEON_2_SSE header), for kernels whose float results feed an on-the-fly quantization or whose
users compare bits: the recurrent ops.

`matvec(w, x)`: per batch row and matrix row, four lane sums over the columns in blocks of 4
(lane j adds w[c + j] * x[c + j], product and sum each rounded), added as ((l0 + l1) + l2) + l3,
then the remaining `cols % 4` products added one by one (NeonMatrixBatchVectorMultiplyAccumulate).
"""

from __future__ import annotations

import numpy as np

F32 = F = np.float32


def matvec(w: np.ndarray, x: np.ndarray, result: np.ndarray | None = None) -> np.ndarray:
    """result (or 0) + x @ w.T for w (rows, cols), x (batch, cols), in float32, NEON's order."""
    w = np.asarray(w, F32)
    x = np.asarray(x, F32)
    rows, cols = w.shape
    out = np.zeros((x.shape[0], rows), F32) if result is None else np.asarray(result, F32).copy()
    blocked = cols - cols % 4
    with np.errstate(over="ignore", invalid="ignore"):
        if blocked:
            lanes = np.zeros((x.shape[0], rows, 4), F32)
            for c in range(0, blocked, 4):
                lanes = (lanes + (w[None, :, c:c + 4] * x[:, None, c:c + 4]).astype(F32)).astype(F32)
            out = (out + _lane_sum(lanes)).astype(F32)
        for c in range(blocked, cols):
            out = (out + (w[None, :, c] * x[:, None, c]).astype(F32)).astype(F32)
    return out


def _lane_sum(lanes: np.ndarray) -> np.ndarray:
    """AccumulateNeonLane off aarch64: ((l0 + l1) + l2) + l3."""
    total = ((lanes[..., 0] + lanes[..., 1]).astype(F32) + lanes[..., 2]).astype(F32)
    return (total + lanes[..., 3]).astype(F32)


def reduction_sum(v: np.ndarray) -> np.ndarray:
    """NeonReductionSumVector: the sum over the last axis, four lanes over blocks of 4, then the
    rest one by one (the caller adds the result to its output)."""
    v = np.asarray(v, F32)
    n = v.shape[-1]
    blocked = n - n % 4
    total = np.zeros(v.shape[:-1], F32)
    if blocked:
        lanes = np.zeros(v.shape[:-1] + (4,), F32)
        for c in range(0, blocked, 4):
            lanes = (lanes + v[..., c:c + 4]).astype(F32)
        total = _lane_sum(lanes)
    for c in range(blocked, n):
        total = (total + v[..., c]).astype(F32)
    return total


# Eigen's float tanh (ptanh_float: a [9/8] rational approximation, no FMA), which tensor_utils'
# ApplyTanhToVector uses (probed on LiteRT 2.3.0: equal to it on 32768 inputs, std::tanh is not).
_TANH_CLAMP = F(7.90738964080810547)
_TANH_ALPHA = tuple(F(v) for v in (1.394553628e-8, 2.102733560e-5, 3.520756727e-3, 1.340216100e-1))
_TANH_BETA = tuple(F(v) for v in (8.015776984e-7, 3.326951409e-4, 2.597254514e-2, 4.673548340e-1, 1.0))


def tanh(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, F32)
    with np.errstate(over="ignore", invalid="ignore"):
        x = np.minimum(np.abs(a), _TANH_CLAMP).astype(F32)
        x2 = (x * x).astype(F32)
        x3 = (x2 * x).astype(F32)
        p = np.full(x.shape, _TANH_ALPHA[0], F32)
        for c in _TANH_ALPHA[1:]:
            p = ((p * x2).astype(F32) + c).astype(F32)
        q = np.full(x.shape, _TANH_BETA[0], F32)
        for c in _TANH_BETA[1:]:
            q = ((q * x2).astype(F32) + c).astype(F32)
        p = ((x3 * p).astype(F32) + x).astype(F32)
        return np.copysign((p / q).astype(F32), a).astype(F32)


def apply_activation(v: np.ndarray, activation: int) -> np.ndarray:
    """tensor_utils::ApplyActivationToVector (TANH through Eigen)."""
    if activation == 4:
        return tanh(v)
    from eightbit.kernels.fixedpoint import apply_float_activation

    return apply_float_activation(np.asarray(v, F32), activation).astype(F32)


def _madd(a, b, c):
    """Eigen's pmadd without FMA: a * b + c, two roundings."""
    return ((a * b).astype(F32) + c).astype(F32)


def logistic(a: np.ndarray) -> np.ndarray:
    """Eigen's packet float logistic (scalar_logistic_op<float>::packetOp: exp(x/2) by a degree-5
    minimax polynomial after range reduction, squared, then e / (1 + e)), which LiteRT's
    ApplySigmoidToVector computes for the elements of its aligned packets (probed on LiteRT 2.3.0:
    equal on 6144 inputs). The elements before and after them take Eigen's scalar path,
    e = std::exp(min(x, 16.6355324)), e / (1 + e), so a kernel cannot know which one an element
    gets without the buffer's address: the float LSTM kernels keep 1 / (1 + exp(-x))."""
    a = np.asarray(a, F32)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        x = (np.minimum(a, F32(16.6355324)) * F32(0.5)).astype(F32)
        m = np.floor(_madd(x, F32(1.44269504088896341), F32(0.5))).astype(F32)
        r = _madd(m, F32(-0.693359375), x)
        r = _madd(m, F32(2.12194440e-4), r)
        r2 = (r * r).astype(F32)
        p_even = _madd(r2, F32(4.1898667812347412109375e-2), F32(0.49999141693115234375))
        p_odd = _madd(r2, F32(8.33471305668354034423828125e-3), F32(0.16666877269744873046875))
        p = _madd(r, p_odd, p_even)
        p = _madd(r2, p, (r + F32(1)).astype(F32))
        e = np.ldexp(p, np.nan_to_num(m, nan=0.0).astype(np.int32)).astype(F32)
        e = (e * e).astype(F32)
        out = (e / (F32(1) + e)).astype(F32)
    return np.where(a < F32(-104), F32(0), out).astype(F32)
