"""The int8 CONV_2D / FULLY_CONNECTED layers that run on the VNNI integer GEMM (fast/vnni.py).

Covered: int8 input and output, int8 weights with zero point 0 (per-tensor or per-channel),
constant weights and bias, K within vnni.exact, multipliers within requant.fits (CONV_2D) or
effective scales below 0.5 (FULLY_CONNECTED, as the float GEMM path). Everything else keeps the
float-GEMM fast path or the reference. The CPU is checked once (avx512_vnni and avx512bw in
/proc/cpuinfo, or numba's host features elsewhere); EIGHTBIT_DISABLE_VNNI=1, read at every
prepare, forces the float-GEMM path (tests run both). numba must compile for the host CPU:
with NUMBA_CPU_NAME set to another CPU the path stays off.
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass, replace

import numpy as np

from eightbit.kernels.fast import requant as rq
from eightbit.kernels.fast import workspace
from eightbit.kernels.fast.jit import parallel, work_ranges

_FLAGS = ("avx512_vnni", "avx512bw", "avx512f")


@functools.lru_cache(maxsize=1)
def _cpu_has_vnni() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return all(flag in flags for flag in _FLAGS)
    except OSError:
        pass
    try:  # no /proc (macOS, Windows): LLVM's view of the host
        from llvmlite import binding

        features = binding.get_host_cpu_features()
        return all(features.get(f, False) for f in ("avx512vnni", "avx512bw", "avx512f"))
    except Exception:  # noqa: BLE001 - any failure means: not known to be there
        return False


def enabled() -> bool:
    if os.environ.get("EIGHTBIT_DISABLE_VNNI", "") not in ("", "0"):
        return False
    if os.environ.get("NUMBA_CPU_NAME", "host") not in ("", "host"):
        return False
    return _cpu_has_vnni() and _kernels_work()


@functools.lru_cache(maxsize=1)
def _kernels_work() -> bool:
    """The VNNI kernels compile (an LLVM that names or lowers an intrinsic otherwise) and give
    exact results; checked once per process, else the float-GEMM path with a warning."""
    try:
        if _vnni().self_test():
            return True
        problem = "gave wrong results on its self-test"
    except Exception as e:  # noqa: BLE001 - any failure: keep the float-GEMM path
        problem = f"failed to compile ({type(e).__name__}: {' '.join(str(e).split())[:200]})"
    warnings.warn(f"eightbit: the AVX-512 VNNI integer GEMM {problem}; int8 CONV_2D / FULLY_CONNECTED run the "
                  "float-GEMM path", RuntimeWarning, stacklevel=2)
    return False


def _vnni():
    # The numba-free half: vnni.py itself (LLVM IR, numba) is imported only when the
    # ahead-of-time library lacks its kernels.
    from eightbit.kernels.fast import vnni_layout

    return vnni_layout


@dataclass(frozen=True)
class VnniConvParams:
    ref: object  # ConvParams
    x_shape: tuple
    geo: tuple  # conv._geometry
    wpack: np.ndarray
    nk4: int
    oc: int
    chans: np.ndarray  # (4, channels) int32: folded bias, multiplier, left and right shifts
    pad_byte: int  # the input zero point as a packed u8 (taps outside the image)
    ints: np.ndarray | None = None  # vnni.conv_ints for geo


def _conv_ints(p: VnniConvParams, geo) -> np.ndarray:
    r = p.ref
    return _vnni().conv_ints(geo, p.pad_byte, p.nk4, p.oc, int(r.out_zp), int(r.lo), int(r.hi))


def _folded_bias(rows, in_zp, b) -> np.ndarray:
    """(channels,) int64: bias - (128 + in_zp) * sum(w) per output channel (rows (OC, K) int8);
    the kernels read x ^ 0x80 = x + 128 as unsigned bytes."""
    bias = -(128 + int(in_zp)) * rows.sum(axis=1, dtype=np.int64)
    return bias if b is None else bias + np.asarray(b).astype(np.int64)


def conv_params(p, x_shape, geo, w_int8, b):
    """VnniConvParams of an int8 CONV_2D (w_int8 (OC, KH, KW, C) int8), or None."""
    oc = int(w_int8.shape[0])
    k = int(np.prod(w_int8.shape[1:]))
    vn = _vnni()
    if (p.kind != "int8" or np.any(np.asarray(p.wzp) != 0) or not vn.exact(k) or oc == 0
            or not rq.fits(p.mult, p.shift)):
        return None
    rows = np.asarray(w_int8).reshape(oc, k)
    left, right = rq.split_shift(np.broadcast_to(np.asarray(p.shift, np.int64), (oc,)))
    chans = vn.channel_vectors(oc, _folded_bias(rows, p.in_zp, b), p.mult, left, right)
    params = VnniConvParams(p, tuple(x_shape), geo, vn.pack_weights(rows), vn.padded(k, 4) // 4,
                            oc, chans, (int(p.in_zp) + 128) & 255)
    return replace(params, ints=_conv_ints(params, geo))


# jit.MIN_PARALLEL_WORK counts the multiply-adds a float GEMM does in the time waking the pool
# costs; vpdpbusd does about 4 times as many in that time, so a layer's work is counted / 4.
VNNI_SPEEDUP = 4


def _tile_ranges(rows: int, macs_per_row: int) -> list:
    """work_ranges in whole 12-row tiles (a range of 7 rows would still compute 12)."""
    tile = _vnni().ROWS
    per_tile = tile * macs_per_row // VNNI_SPEEDUP
    return [(a * tile, min(b * tile, rows)) for a, b in work_ranges(-(-rows // tile), per_tile)]


def conv_eval(p: VnniConvParams, x, geo):
    oh, ow = geo[8], geo[9]
    vn = _vnni()
    m = x.shape[0] * oh * ow
    out = workspace.empty((m, p.oc), np.int8)
    xu = (x if x.flags.c_contiguous else np.ascontiguousarray(x)).view(np.uint8)
    ints = p.ints if geo == p.geo else _conv_ints(p, geo)
    kp = 4 * p.nk4
    rows = vn.block_rows(kp)
    fn = vn.kernels()[0]
    ranges = _tile_ranges(m, kp * p.oc)
    if len(ranges) == 1:  # one thread (or too little work to share): no closure, no pool
        fn(xu, ints, p.wpack, p.chans, out, np.empty((rows, kp), np.uint8), 0, m)
    else:
        parallel(lambda p0, p1: fn(xu, ints, p.wpack, p.chans, out, np.empty((rows, kp), np.uint8), p0, p1), ranges,
                 m * kp * p.oc // VNNI_SPEEDUP)
    return out.reshape(x.shape[0], oh, ow, p.oc)


@dataclass(frozen=True)
class VnniFCParams:
    ref: object  # FullyConnectedParams
    wpack: np.ndarray
    nk4: int
    depth: int
    units: int
    bias: np.ndarray  # (channels,) int32: bias - (128 + in_zp) * sum(w), wrapped
    scale: np.ndarray  # (units,) float64
    zeros: np.ndarray  # (units,) int64: requant_double_rows' bias (already in the accumulator)


def fc_params(p, w_int8, b, scale):
    """VnniFCParams of an int8 FULLY_CONNECTED (w_int8 (units, depth) int8), or None."""
    units, depth = (int(d) for d in w_int8.shape)
    vn = _vnni()
    if p.kind != "int8" or p.int64_acc or np.any(np.asarray(p.wzp) != 0) or not vn.exact(depth) or units == 0:
        return None
    rows = np.asarray(w_int8)
    return VnniFCParams(p, vn.pack_weights(rows), vn.padded(depth, 4) // 4, depth, units,
                        vn.channel_vectors(units, _folded_bias(rows, p.in_zp, b))[0].copy(), scale,
                        np.zeros(units, np.int64))


def fc_eval(p: VnniFCParams, x2, out):
    """out (rows, units) int8 from x2 (rows, depth) int8."""
    vn = _vnni()
    rows = x2.shape[0]
    xu = np.ascontiguousarray(x2).view(np.uint8).reshape(1, rows, 1, p.depth)
    kp = 4 * p.nk4
    block = vn.block_rows(kp)
    fn, requant = vn.kernels()[1], rq.requant_double_rows.run()
    r = p.ref

    def run(p0, p1):
        buf = np.empty((block, kp), np.uint8)
        acc = np.empty((p1 - p0, p.units), np.int32)
        fn(np.ascontiguousarray(xu[:, p0:p1]), p.wpack, p.nk4, p.units, p.bias, acc, buf, 0, p1 - p0)
        requant(acc, p.zeros, p.scale, int(r.out_zp), int(r.lo), int(r.hi), out[p0:p1])

    parallel(run, _tile_ranges(rows, kp * p.units), rows * kp * p.units // VNNI_SPEEDUP)
    return out
