"""The fast kernels: bit-identical to the reference kernels, faster (BLAS GEMMs where exact,
numba-compiled loops, prepare-time re-layout). `kernel_for(op_type, reference_kernel)` picks the
fast kernel of an operator type, or the reference one where there is none.

Interpreter(..., kernels="reference") runs the reference kernels only; "fast" (the default)
these, which fall back to the reference arithmetic for every layer they do not cover and when
numba is not installed.
"""

from __future__ import annotations

from eightbit.kernels.fast.jit import HAVE_NUMBA, running_with

MODES = ("fast", "reference")

_FAST = {
    "CONV_2D": ("conv", "FastConv2D"),
    "DEPTHWISE_CONV_2D": ("conv", "FastDepthwiseConv2D"),
    "FULLY_CONNECTED": ("conv", "FastFullyConnected"),
    "ADD": ("add", "FastAdd"),
    "AVERAGE_POOL_2D": ("pooling", "FastAveragePool2D"),
    "MAX_POOL_2D": ("pooling", "FastMaxPool2D"),
}

FAST_OPS = tuple(_FAST)


def kernel_for(op_type: str, reference):
    entry = _FAST.get(op_type)
    if entry is None or reference is None:
        return reference
    import importlib

    fast = getattr(importlib.import_module(f"eightbit.kernels.fast.{entry[0]}"), entry[1])
    # Only in place of the kernel it speeds up (not of a replacement someone registered).
    return fast if isinstance(reference, type) and issubclass(fast, reference) else reference


def check_mode(kernels: str) -> str:
    if kernels not in MODES:
        raise ValueError(f"kernels={kernels!r}: expected one of {', '.join(MODES)}")
    return kernels


__all__ = ["FAST_OPS", "HAVE_NUMBA", "MODES", "check_mode", "kernel_for", "running_with"]
