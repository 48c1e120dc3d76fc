"""The numba-free half of the VNNI integer GEMM (fast/vnni.py): its tile sizes, the weight panels
and per-channel vectors prepare builds, the kernels' integer operands, the self-test, and the two
kernels themselves from the ahead-of-time library when it holds them. vnni.py builds LLVM IR
and imports numba when imported: a process whose kernels all come from the library never
imports it.
"""

from __future__ import annotations

import functools

import numpy as np

ROWS = 12  # rows of the main micro-kernel
SMALL = 4  # rows of the edge micro-kernel
GROUP = 32  # output channels per weight panel
BLOCK_BYTES = 1 << 15  # packed A bytes per row block (stays in L1 / L2 while its tiles run)


def exact(k: int) -> bool:
    """vpdpbusd does not saturate: every partial sum of K u8 x s8 products fits int32."""
    return 0 < k and k * 255 * 128 < (1 << 31)


def padded(n: int, m: int) -> int:
    return -(-n // m) * m


def pack_weights(w_rows: np.ndarray) -> np.ndarray:
    """(OC, K) int8, one row per output channel -> panels (uint8 bytes): group g of 32 channels at
    g * nk4 * 128 bytes, per k step nv_g (2, or 1 for a last group of 16) vectors of 64 bytes, a
    vector holding 16 channels x 4 consecutive k."""
    oc, k = w_rows.shape
    kp, oc16 = padded(k, 4), padded(max(oc, 1), 16)
    nk4, full = kp // 4, oc16 // GROUP
    w = np.zeros((oc16, kp), np.int8)  # rows copied whole: cheap, unlike a transposed copy
    w[:oc, :k] = w_rows
    out = _aligned_zeros(padded(oc16, GROUP) * kp)
    # word (g, k4, v, lane) = the 4 bytes w[g * 32 + v * 16 + lane, 4 * k4: 4 * k4 + 4]: one
    # transposing copy of 4-byte words
    words, dst = w.view(np.int32), out.view(np.int32)
    head = words[:full * GROUP].reshape(full, 2, 16, nk4).transpose(0, 3, 1, 2)
    dst[:head.size].reshape(head.shape)[...] = head
    if oc16 % GROUP:  # a last group of 16 channels: one vector per k step
        tail = words[full * GROUP:].T
        dst[head.size:head.size + tail.size].reshape(tail.shape)[...] = tail
    return out


def _aligned_zeros(n: int) -> np.ndarray:
    """n zero bytes starting on a 64-byte boundary (a weight vector load then never spans two
    cache lines)."""
    raw = np.zeros(n + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + n]


def channel_vectors(oc: int, *values) -> np.ndarray:
    """(len(values), channels) int32: per-channel values (wrapped modulo 2^32), padded to the
    panels' channel count with zeros."""
    v = np.zeros((len(values), padded(max(oc, 1), GROUP)), np.int64)
    for i, val in enumerate(values):
        v[i, :oc] = np.broadcast_to(np.asarray(val, np.int64), (oc,))
    return np.ascontiguousarray((((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)).astype(np.int32))


def conv_ints(geo, pad_byte, nk4, oc, zp, lo, hi) -> np.ndarray:
    """conv_range's int64 operands in one array (one argument to unbox per call, not 16)."""
    return np.array([*geo, pad_byte, nk4, oc, zp, lo, hi], np.int64)


def kernels():
    """(conv_range, fc_range): the library's, or numba's (importing vnni.py)."""
    from eightbit.kernels.fast import aot

    return _kernels(id(aot.library()) if aot.enabled() else None)


@functools.lru_cache(maxsize=4)
def _kernels(library_id):
    from eightbit.kernels.fast import aot

    if library_id is not None:
        conv = aot.lookup("eightbit.kernels.fast.vnni:_conv_range")
        fc = aot.lookup("eightbit.kernels.fast.vnni:_fc_range")
        if conv is not None and fc is not None:
            return conv, fc
    from eightbit.kernels.fast import vnni

    return vnni.conv_range.run(), vnni.fc_range.run()


def block_rows(kp: int) -> int:
    """Rows of a packed block: BLOCK_BYTES of A, a multiple of 12, at least 12."""
    return max(ROWS, BLOCK_BYTES // max(kp, 1) // ROWS * ROWS)


def _spread(shape, step, span, low) -> np.ndarray:
    """int64 values low + (i * step mod span) over an array of shape: every residue when step is
    prime to span, in a scattered order."""
    n = int(np.prod(shape))
    return (low + (np.arange(n, dtype=np.int64) * step + 12345) % span).reshape(shape)


def self_test() -> bool:
    """Whether the compiled kernels give the exact results on a small layer that takes every
    micro-kernel (12- and 4-row tiles, 32- and 16-channel panels, masked edges, a 3x3 window
    with padding, K not a multiple of 4): compiles conv_range once (numba caches it)."""
    from eightbit.kernels.fast import requant as rq

    # Fixed pseudo-random operands (numpy.random alone takes ~6 ms to import: kept out of prepare).
    x = _spread((1, 4, 4, 5), 7, 256, -128).astype(np.int8)
    w = _spread((45, 40), 31, 256, -128).astype(np.int8)
    in_zp, bias0 = 3, _spread(40, 613, 10000, -5000)
    mult, right = _spread(40, 95_443_717, 1 << 30, 1 << 30), _spread(40, 5, 12, 0)
    xp = np.pad(x.astype(np.int64) - in_zp, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = np.stack([xp[0, i:i + 3, j:j + 3].reshape(-1) for i in range(4) for j in range(4)])
    want = np.empty((16, 40), np.int8)
    zeros = np.zeros(40, np.int64)
    rq.requant_rows.run()(cols @ w.astype(np.int64), bias0, mult, zeros, right, -2, -128, 127, want)
    bias = bias0 - (128 + in_zp) * w.astype(np.int64).sum(axis=0)
    got = np.empty((16, 40), np.int8)
    ints = conv_ints((3, 3, 1, 1, 1, 1, 1, 1, 4, 4), in_zp + 128, 12, 40, -2, -128, 127)
    kernels()[0](x.view(np.uint8), ints, pack_weights(w.T), channel_vectors(40, bias, mult, zeros, right), got,
                     np.empty((2 * ROWS, 48), np.uint8), 0, 16)
    return bool(np.array_equal(got, want))
