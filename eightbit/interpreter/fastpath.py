"""The interpreter's side of the fast kernels: which kernel each operator runs, and the thread
counts of an invoke (hooks called from runner.py and interpreter.py)."""

from __future__ import annotations

from eightbit.kernels.fast import check_mode, kernel_for, preload, running_with

preload()  # the fast kernels' modules now, not in a model's first allocate_tensors()

__all__ = ["choose_kernels", "check_mode", "floats_stay_float", "running_with"]

_FLOATS = ("FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16")
# Types a float value can be quantized to at run time (QUANTIZE's outputs, hybrid weights, ...).
_QUANTIZED = ("INT8", "UINT8", "INT4", "INT16", "UINT16", "INT2")


def choose_kernels(operators, reference_kernels: list, mode: str, model=None) -> list:
    """The kernel per operator: the reference kernels, or their fast versions where one exists.

    Float32 GEMMs (CONV_2D, FULLY_CONNECTED, BATCH_MATMUL) sum through BLAS, a few times faster
    than in TFLite's reference order but different in the last bits, only when `model` is given
    and floats_stay_float(model): otherwise a hybrid operator or a QUANTIZE after them could
    round a value the other way than LiteRT and change a whole quantum."""
    if check_mode(mode) == "reference":
        return list(reference_kernels)
    blas = model is not None and _has_float_gemm(model) and floats_stay_float(model)
    return [kernel_for(op.op_type, k, blas) for op, k in zip(operators, reference_kernels)]


_GEMMS = ("CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL")


def _has_float_gemm(model) -> bool:
    """Whether BLAS could matter at all (an integer model keeps its kernels as they are)."""
    return any(op.op_type in _GEMMS and op.inputs and op.inputs[0] >= 0 and sg.tensors[op.inputs[0]].type == "FLOAT32"
               for sg in model.subgraphs for op in sg.operators)


def _float_custom(code) -> bool:
    """MediaPipe's float transposed convolution, as shipped (not a kernel a user registered in its
    place): float in, float out, no quantization inside."""
    from eightbit.kernels.custom import get_custom_kernel
    from eightbit.kernels.mediapipe import Convolution2DTransposeBias

    return code == "Convolution2DTransposeBias" and get_custom_kernel(code) is Convolution2DTransposeBias


def floats_stay_float(model) -> bool:
    """True when no operator of the model (any subgraph) may quantize a float value at run time.

    Conservative: any operator reading a float tensor and touching an integer type that floats
    are quantized to (QUANTIZE float -> int8, hybrid CONV_2D / FULLY_CONNECTED / LSTM / ... with
    int8 or int4 weights, a CAST to int8), and any CUSTOM operator (its arithmetic is unknown)
    but the float ones shipped with eightbit (_float_custom), rules BLAS out for the whole model,
    wherever the float value comes from."""
    for sg in model.subgraphs:
        tensors = sg.tensors
        for op in sg.operators:
            if op.op_type == "CUSTOM" and not _float_custom(op.custom_code):
                return False
            types_in = {tensors[i].type for i in op.inputs if i >= 0}
            if not types_in & set(_FLOATS):
                continue
            touched = types_in | {tensors[i].type for i in op.outputs if i >= 0}
            if touched & set(_QUANTIZED):
                return False
    return True
