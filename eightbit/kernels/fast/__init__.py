"""The fast kernels: bit-identical to the reference kernels, faster (integer GEMMs through BLAS where exact,
float GEMMs in the reference summation order, vectorized, numba-compiled loops, prepare-time
re-layout, 8-bit tables made by the reference eval). `kernel_for(op_type, reference_kernel)` picks
the fast kernel of an operator type, or the reference one where there is none.

The one exception to bit-identity: with float_blas (interpreter/fastpath.py decides it per model:
no float value is quantized at run time), float32 CONV_2D / FULLY_CONNECTED / BATCH_MATMUL sum
through BLAS and differ from the reference order in the last bits.

Interpreter(..., kernels="reference") runs the reference kernels only; "fast" (the default)
these, which fall back to the reference arithmetic for every layer they do not cover and when
numba is not installed.
"""

from __future__ import annotations

from eightbit.kernels.fast.jit import HAVE_NUMBA, running_with

MODES = ("fast", "reference")

_FAST = {
    "CONV_2D": "FastConv2D",
    "DEPTHWISE_CONV_2D": "FastDepthwiseConv2D",
    "FULLY_CONNECTED": "FastFullyConnected",
    "ADD": "FastAdd",
    "AVERAGE_POOL_2D": "FastAveragePool2D",
    "MAX_POOL_2D": "FastMaxPool2D",
    "MUL": "FastMul",
    "MEAN": "FastMean",
    "SOFTMAX": "FastSoftmax",
    "HARD_SWISH": "FastHardSwish",
    "LOGISTIC": "FastLogistic",
    "TANH": "FastTanh",
    "BATCH_MATMUL": "FastBatchMatMul",
    "PRELU": "FastPrelu",
    "RESIZE_BILINEAR": "FastResizeBilinear",
    "DEQUANTIZE": "FastDequantize",
    "DENSIFY": "FastDensify",
    "TRANSPOSE_CONV": "FastTransposeConv",
}

# Float32 GEMMs summed by BLAS (last-bit differences from the reference order): only for models
# in which no float value is quantized at run time (interpreter/fastpath.py decides).
_BLAS = {
    "CONV_2D": "FastConv2DBlas",
    "FULLY_CONNECTED": "FastFullyConnectedBlas",
    "BATCH_MATMUL": "FastBatchMatMulBlas",
}

FAST_OPS = tuple(_FAST)


def preload() -> None:
    """Import every fast kernel's module (about 11 ms, mostly their dataclasses; numba stays
    unimported) and load this machine's compiled-kernel library when there is one (aot.py: 2-3
    ms): the interpreter does it when imported, as LiteRT loads its library, so that a model's
    first allocate_tensors() and invoke() do not pay for it."""
    if HAVE_NUMBA:
        from eightbit.kernels.fast import aot

        aot.library()
    from eightbit.kernels.fast import (  # noqa: F401
        add,
        batch_matmul,
        constant,
        conv,
        depthwise_conv,
        lut,
        mul,
        pooling,
        prelu,
        reduce,
        resize,
        softmax,
        transpose_conv,
    )


def _fast_class(op_type: str, float_blas: bool = False):
    # Imported explicitly, module by module (preload imports them all).
    names = _BLAS if float_blas and op_type in _BLAS else _FAST
    if op_type == "BATCH_MATMUL":
        from eightbit.kernels.fast import batch_matmul as module
    elif op_type == "ADD":
        from eightbit.kernels.fast import add as module
    elif op_type == "MUL":
        from eightbit.kernels.fast import mul as module
    elif op_type == "MEAN":
        from eightbit.kernels.fast import reduce as module
    elif op_type == "SOFTMAX":
        from eightbit.kernels.fast import softmax as module
    elif op_type == "TRANSPOSE_CONV":
        from eightbit.kernels.fast import transpose_conv as module
    elif op_type in ("DEQUANTIZE", "DENSIFY"):
        from eightbit.kernels.fast import constant as module
    elif op_type == "PRELU":
        from eightbit.kernels.fast import prelu as module
    elif op_type == "RESIZE_BILINEAR":
        from eightbit.kernels.fast import resize as module
    elif op_type in ("HARD_SWISH", "LOGISTIC", "TANH"):
        from eightbit.kernels.fast import lut as module
    elif op_type == "DEPTHWISE_CONV_2D":
        from eightbit.kernels.fast import depthwise_conv as module
    elif op_type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        from eightbit.kernels.fast import pooling as module
    else:
        from eightbit.kernels.fast import conv as module
    return getattr(module, names[op_type])


def kernel_for(op_type: str, reference, float_blas: bool = False):
    """The fast kernel of op_type (its float32 GEMMs by BLAS when float_blas), else reference."""
    if reference is None or (op_type not in _FAST and not (float_blas and op_type in _BLAS)):
        return reference
    fast = _fast_class(op_type, float_blas)
    # Only in place of the kernel it speeds up (not of a replacement someone registered).
    return fast if isinstance(reference, type) and issubclass(fast, reference) else reference


def check_mode(kernels: str) -> str:
    if kernels not in MODES:
        raise ValueError(f"kernels={kernels!r}: expected one of {', '.join(MODES)}")
    return kernels


__all__ = ["FAST_OPS", "HAVE_NUMBA", "MODES", "check_mode", "kernel_for", "preload", "running_with"]
