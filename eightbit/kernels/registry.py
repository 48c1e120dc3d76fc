"""The one list of builtin operators eightbit runs.

Each line: builtin name, kernel module under eightbit/kernels, kernel class. The op's
spec (options table, quantization constraints) lives in eightbit/ops/<name lowercased>.py
as SPEC. Adding an op = its ops file, its kernel, one line here, and its test.
"""

from __future__ import annotations

import importlib
from functools import cache

REGISTRY = [
    # convolution and matrix products
    ("CONV_2D", "conv", "Conv2D"),
    ("DEPTHWISE_CONV_2D", "depthwise_conv", "DepthwiseConv2D"),
    ("TRANSPOSE_CONV", "transpose_conv", "TransposeConv"),
    ("FULLY_CONNECTED", "fully_connected", "FullyConnected"),
    ("BATCH_MATMUL", "batch_matmul", "BatchMatMul"),
    # elementwise binary
    ("ADD", "add", "Add"),
    ("SUB", "sub", "Sub"),
    ("MUL", "mul", "Mul"),
    ("DIV", "div", "Div"),
    ("SQUARED_DIFFERENCE", "squared_difference", "SquaredDifference"),
    ("MAXIMUM", "maximum_minimum", "Maximum"),
    ("MINIMUM", "maximum_minimum", "Minimum"),
    ("LESS", "comparisons", "Less"),
    ("LESS_EQUAL", "comparisons", "LessEqual"),
    ("GREATER", "comparisons", "Greater"),
    ("GREATER_EQUAL", "comparisons", "GreaterEqual"),
    ("EQUAL", "comparisons", "Equal"),
    ("NOT_EQUAL", "comparisons", "NotEqual"),
    ("SELECT", "select", "Select"),
    ("SELECT_V2", "select", "SelectV2"),
    # activations
    ("RELU", "activations", "Relu"),
    ("RELU6", "activations", "Relu6"),
    ("RELU_N1_TO_1", "activations", "ReluN1To1"),
    ("LEAKY_RELU", "activations", "LeakyRelu"),
    ("PRELU", "activations", "Prelu"),
    ("ELU", "activations", "Elu"),
    ("HARD_SWISH", "activations", "HardSwish"),
    ("LOGISTIC", "activations", "Logistic"),
    ("TANH", "activations", "Tanh"),
    ("SOFTMAX", "activations", "Softmax"),
    ("LOG_SOFTMAX", "activations", "LogSoftmax"),
    ("GELU", "gelu", "Gelu"),
    ("L2_NORMALIZATION", "l2norm", "L2Normalization"),
    # elementwise unary
    ("ABS", "elementwise", "Abs"),
    ("SQRT", "elementwise", "Sqrt"),
    ("RSQRT", "elementwise", "Rsqrt"),
    ("LOG", "elementwise", "Log"),
    ("EXP", "exp", "Exp"),
    ("NEG", "neg", "Neg"),
    # pooling, reductions, resizing
    ("AVERAGE_POOL_2D", "pooling", "AveragePool2D"),
    ("MAX_POOL_2D", "pooling", "MaxPool2D"),
    ("MEAN", "reduce", "Mean"),
    ("SUM", "reduce", "Sum"),
    ("REDUCE_MAX", "reduce", "ReduceMax"),
    ("REDUCE_MIN", "reduce", "ReduceMin"),
    ("ARG_MAX", "arg_min_max", "ArgMax"),
    ("ARG_MIN", "arg_min_max", "ArgMin"),
    ("RESIZE_BILINEAR", "resize_bilinear", "ResizeBilinear"),
    ("RESIZE_NEAREST_NEIGHBOR", "resize_nearest_neighbor", "ResizeNearestNeighbor"),
    # quantization
    ("QUANTIZE", "quantize", "Quantize"),
    ("DEQUANTIZE", "dequantize", "Dequantize"),
    # shape and data movement
    ("RESHAPE", "reshape", "Reshape"),
    ("SQUEEZE", "squeeze", "Squeeze"),
    ("EXPAND_DIMS", "expand_dims", "ExpandDims"),
    ("TRANSPOSE", "transpose", "Transpose"),
    ("CONCATENATION", "concatenation", "Concatenation"),
    ("SPLIT", "split", "Split"),
    ("SPLIT_V", "split_v", "SplitV"),
    ("STRIDED_SLICE", "strided_slice", "StridedSlice"),
    ("SLICE", "slice", "Slice"),
    ("PAD", "pad", "Pad"),
    ("PADV2", "pad", "PadV2"),
    ("GATHER", "gather", "Gather"),
    ("PACK", "pack", "Pack"),
    ("UNPACK", "unpack", "Unpack"),
    ("SHAPE", "shape", "Shape"),
    ("TILE", "tile", "Tile"),
    ("CAST", "cast", "Cast"),
    ("FILL", "fill", "Fill"),
    ("ZEROS_LIKE", "zeros_like", "ZerosLike"),
    ("BROADCAST_TO", "broadcast_to", "BroadcastTo"),
    ("DEPTH_TO_SPACE", "depth_to_space", "DepthToSpace"),
    ("SPACE_TO_DEPTH", "space_to_depth", "SpaceToDepth"),
    ("DENSIFY", "densify", "Densify"),
    # ---- REALMODELS (issue 7): multi-subgraph and resource-variable ops, bound to the session ----
    ("CALL_ONCE", "control_flow", "CallOnce"),
    ("IF", "control_flow", "If"),
    ("WHILE", "control_flow", "While"),
    ("VAR_HANDLE", "variables", "VarHandle"),
    ("READ_VARIABLE", "variables", "ReadVariable"),
    ("ASSIGN_VARIABLE", "variables", "AssignVariable"),
]

OP_NAMES = [name for name, _, _ in REGISTRY]


def spec_module_name(op_name: str) -> str:
    return f"eightbit.ops.{op_name.lower()}"


@cache
def get_kernel(op_name: str):
    """The kernel class for a builtin, or None when eightbit has none."""
    for name, module, cls in REGISTRY:
        if name == op_name:
            try:
                mod = importlib.import_module(f"eightbit.kernels.{module}")
            except ModuleNotFoundError as e:
                if e.name != f"eightbit.kernels.{module}":
                    raise
                return None
            return getattr(mod, cls, None)
    return None


@cache
def get_spec(op_name: str):
    """The OpSpec of a builtin we know, or None."""
    if op_name not in OP_NAMES:
        return None
    return importlib.import_module(spec_module_name(op_name)).SPEC
