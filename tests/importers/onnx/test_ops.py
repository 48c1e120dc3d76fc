"""Per-op lowering against onnxruntime: one ONNX node, io_layout="keep", eightbit and LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from tests.importers.onnx.helpers import C, check_against_ort, one_node

R = np.random.default_rng(0)


def f(*shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, shape).astype(np.float32)


def needs(op):
    return pytest.mark.xfail(reason=f"needs {op} kernel (NEWOPS)", strict=False)


X4 = f(1, 3, 8, 8)
W33 = f(4, 3, 3, 3)

CASES = [
    # convolution
    ("conv_same", "Conv", [X4, C(W33), C(f(4))], {"pads": [1, 1, 1, 1]}),
    ("conv_valid_stride", "Conv", [X4, C(W33)], {"strides": [2, 2]}),
    ("conv_asym_pads", "Conv", [X4, C(W33), C(f(4))], {"pads": [0, 1, 2, 1], "strides": [2, 1]}),
    ("conv_dilated", "Conv", [X4, C(W33), C(f(4))], {"dilations": [2, 2], "pads": [2, 2, 2, 2]}),
    ("conv_auto_same_upper", "Conv", [f(1, 3, 7, 7), C(W33)], {"auto_pad": "SAME_UPPER", "strides": [2, 2]}),
    ("conv_auto_same_lower", "Conv", [f(1, 3, 7, 7), C(W33)], {"auto_pad": "SAME_LOWER", "strides": [2, 2]}),
    ("conv_depthwise", "Conv", [f(1, 4, 6, 6), C(f(8, 1, 3, 3)), C(f(8))], {"group": 4, "pads": [1, 1, 1, 1]}),
    ("conv_groups", "Conv", [f(1, 4, 6, 6), C(f(6, 2, 3, 3)), C(f(6))], {"group": 2}),
    ("conv_1x1", "Conv", [X4, C(f(5, 3, 1, 1)), C(f(5))], {}),
    ("conv1d", "Conv", [f(1, 3, 16), C(f(4, 3, 5)), C(f(4))], {"pads": [2, 2], "strides": [2]}),
    ("conv1d_depthwise", "Conv", [f(1, 4, 16), C(f(4, 1, 3)), C(f(4))], {"pads": [1, 1], "group": 4}),
    ("convtranspose_s2", "ConvTranspose", [f(1, 4, 5, 5), C(f(4, 3, 4, 4)), C(f(3))],
     {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("convtranspose_outpad", "ConvTranspose", [f(1, 4, 5, 5), C(f(4, 3, 3, 3)), C(f(3))],
     {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}),
    ("convtranspose_valid", "ConvTranspose", [f(1, 2, 4, 4), C(f(2, 3, 2, 2))], {"strides": [2, 2]}),
    ("convtranspose_groups", "ConvTranspose", [f(1, 4, 5, 5), C(f(4, 3, 3, 3)), C(f(6))],
     {"strides": [2, 2], "pads": [1, 1, 1, 1], "group": 2}),
    ("convtranspose_depthwise", "ConvTranspose", [f(1, 3, 4, 4), C(f(3, 1, 2, 2))], {"strides": [2, 2], "group": 3}),
    ("convtranspose_1d", "ConvTranspose", [f(1, 2, 8), C(f(2, 3, 4)), C(f(3))], {"strides": [2], "pads": [1, 1]}),
    ("conv_runtime_weights", "Conv", [X4, W33, f(4)], {"pads": [1, 1, 1, 1]}),
    ("conv_runtime_depthwise", "Conv", [f(1, 4, 6, 6), f(4, 1, 3, 3)], {"group": 4}),
    # matrix products
    ("gemm", "Gemm", [f(2, 5), C(f(5, 3)), C(f(3))], {}),
    ("gemm_transB_alpha_beta", "Gemm", [f(2, 5), C(f(3, 5)), C(f(3))], {"transB": 1, "alpha": 0.5, "beta": 2.0}),
    ("gemm_transA_matrix_c", "Gemm", [f(5, 2), C(f(5, 3)), C(f(2, 3))], {"transA": 1}),
    ("gemm_runtime_b", "Gemm", [f(2, 5), f(3, 5), C(f(3))], {"transB": 1}),
    ("matmul_const", "MatMul", [f(2, 4, 5), C(f(5, 3))], {}),
    ("matmul_batched", "MatMul", [f(2, 3, 4, 5), f(2, 3, 5, 6)], {}),
    ("matmul_broadcast", "MatMul", [f(2, 3, 4, 5), f(5, 6)], {}),
    ("matmul_broadcast_batch", "MatMul", [f(2, 1, 4, 5), f(3, 5, 2)], {}),
    ("einsum_bmm", "Einsum", [f(2, 3, 4), f(2, 4, 5)], {"equation": "bij,bjk->bik"}),
    ("einsum_attention", "Einsum", [f(1, 2, 3, 4), f(1, 2, 5, 4)], {"equation": "bhid,bhjd->bhij"}),
    ("einsum_transposed_out", "Einsum", [f(3, 4), f(4, 5)], {"equation": "ij,jk->ki"}),
    ("einsum_transpose", "Einsum", [f(3, 4)], {"equation": "ij->ji"}),
    ("einsum_reduce", "Einsum", [f(2, 3, 4)], {"equation": "bij->jb"}),
    # normalization
    ("batchnorm", "BatchNormalization", [X4, C(f(3)), C(f(3)), C(f(3)), C(f(3, lo=0.5, hi=2))], {"epsilon": 1e-3}),
    ("batchnorm_runtime", "BatchNormalization", [X4, f(3), f(3), f(3), f(3, lo=0.5, hi=2)], {}),
    ("instancenorm", "InstanceNormalization", [X4, C(f(3)), C(f(3))], {}),
    ("layernorm", "LayerNormalization", [f(2, 5, 8), C(f(8)), C(f(8))], {}),
    ("layernorm_stats", "LayerNormalization", [f(2, 5, 8), C(f(8)), C(f(8))], {"axis": 1}, 17, 3),
    ("layernorm_axis", "LayerNormalization", [f(2, 5, 8), C(f(5, 8))], {"axis": -2}),
    ("groupnorm", "GroupNormalization", [f(1, 4, 3, 3), C(f(4)), C(f(4))], {"num_groups": 2}, 21),
    # activations
    ("relu", "Relu", [f(2, 3, 4)], {}),
    ("clip_relu6", "Clip", [f(2, 3, 4, lo=-8, hi=8), C(np.float32(0)), C(np.float32(6))], {}),
    ("clip_min_only", "Clip", [f(2, 3, 4), C(np.float32(-0.5))], {}),
    ("clip_runtime_bounds", "Clip", [f(2, 3, 4), f(), f()], {}),
    ("clip_general", "Clip", [f(2, 3, 4), C(np.float32(-0.3)), C(np.float32(0.7))], {}),
    ("leakyrelu", "LeakyRelu", [f(2, 3, 4)], {"alpha": 0.2}),
    ("prelu", "PRelu", [X4, C(f(3, 1, 1))], {}),
    ("elu", "Elu", [f(2, 3, 4)], {}),
    ("elu_alpha", "Elu", [f(2, 3, 4)], {"alpha": 0.5}),
    ("selu", "Selu", [f(2, 3, 4)], {}),
    ("sigmoid", "Sigmoid", [f(2, 3, 4)], {}),
    ("tanh", "Tanh", [f(2, 3, 4)], {}),
    ("swish", "Swish", [f(2, 3, 4)], {"alpha": 1.5}, 24),
    ("hardsigmoid", "HardSigmoid", [f(2, 3, 4, lo=-5, hi=5)], {}),
    ("hardswish", "HardSwish", [f(2, 3, 4, lo=-5, hi=5)], {}),
    ("softplus", "Softplus", [f(2, 3, 4, lo=-30, hi=30)], {}),
    ("mish", "Mish", [f(2, 3, 4, lo=-5, hi=5)], {}, 18),
    ("gelu", "Gelu", [f(2, 3, 4)], {}, 20),
    ("gelu_tanh", "Gelu", [f(2, 3, 4)], {"approximate": "tanh"}, 20),
    ("erf", "Erf", [f(2, 3, 4)], {}),
    ("softmax_last", "Softmax", [f(2, 3, 4)], {}),
    ("softmax_axis1", "Softmax", [f(2, 3, 4)], {"axis": 1}),
    ("softmax_opset11_flatten", "Softmax", [f(2, 3, 4)], {"axis": 1}, 11),
    ("logsoftmax", "LogSoftmax", [f(2, 3, 4)], {}),
    ("logsoftmax_axis0_opset12", "LogSoftmax", [f(2, 3, 4)], {"axis": 0}, 12),
    # elementwise
    ("add_broadcast", "Add", [X4, C(f(3, 1, 1))], {}),
    ("sub", "Sub", [f(2, 3), f(2, 3)], {}),
    ("mul_scalar", "Mul", [f(2, 3), C(np.float32(3.0))], {}),
    ("div", "Div", [f(2, 3), f(2, 3, lo=0.5, hi=2)], {}),
    ("pow_2", "Pow", [f(2, 3), C(np.float32(2.0))], {}),
    ("pow_3", "Pow", [f(2, 3), C(np.float32(3.0))], {}),
    ("pow_half", "Pow", [f(2, 3, lo=0.1, hi=3), C(np.float32(0.5))], {}),
    pytest.param("pow_general", "Pow", [f(2, 3, lo=0.1, hi=3), f(2, 3)], {}, marks=needs("POW")),
    ("sqrt", "Sqrt", [f(2, 3, lo=0, hi=4)], {}),
    ("reciprocal", "Reciprocal", [f(2, 3, lo=0.5, hi=2)], {}),
    ("neg", "Neg", [f(2, 3)], {}),
    ("abs", "Abs", [f(2, 3)], {}),
    ("exp", "Exp", [f(2, 3)], {}),
    ("log", "Log", [f(2, 3, lo=0.1, hi=3)], {}),
    ("sign", "Sign", [np.array([[-2.0, 0.0, 3.0], [0.5, -0.1, 0.0]], np.float32)], {}),
    ("max3", "Max", [f(2, 3), f(2, 3), f(1, 3)], {}),
    ("min2", "Min", [f(2, 3), f(3)], {}),
    ("equal", "Equal", [np.array([1, 2, 3], np.int64), np.array([1, 0, 3], np.int64)], {}),
    ("less", "Less", [f(2, 3), f(2, 3)], {}),
    ("greater", "Greater", [f(2, 3), C(np.float32(0))], {}),
    ("where", "Where", [f(2, 3) > 0, f(2, 3), f(3)], {}),
    ("not", "Not", [f(2, 3) > 0], {}),
    ("and", "And", [f(2, 3) > 0, f(3) > 0], {}),
    ("or", "Or", [f(2, 3) > 0, f(2, 3) > 0], {}),
    ("xor", "Xor", [f(2, 3) > 0, f(2, 3) > 0], {}),
    # pooling
    ("maxpool", "MaxPool", [X4], {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ("maxpool_pads", "MaxPool", [X4], {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("maxpool_ceil", "MaxPool", [f(1, 2, 7, 7)], {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    ("maxpool_same_upper", "MaxPool", [f(1, 2, 7, 7)], {"kernel_shape": [3, 3], "strides": [2, 2],
                                                        "auto_pad": "SAME_UPPER"}),
    ("maxpool1d", "MaxPool", [f(1, 3, 12)], {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}),
    ("avgpool", "AveragePool", [X4], {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ("avgpool_pads_exclude", "AveragePool", [X4], {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("avgpool_pads_include", "AveragePool", [X4], {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1],
                                                   "count_include_pad": 1}),
    ("avgpool_ceil", "AveragePool", [f(1, 2, 7, 7)], {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
    ("avgpool_ceil_pads_include", "AveragePool", [f(1, 2, 6, 6)],
     {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1, "pads": [1, 1, 1, 1], "count_include_pad": 1}),
    ("avgpool_same_upper", "AveragePool", [f(1, 2, 7, 7)], {"kernel_shape": [3, 3], "strides": [2, 2],
                                                            "auto_pad": "SAME_UPPER"}),
    ("globalavgpool", "GlobalAveragePool", [X4], {}),
    ("globalmaxpool", "GlobalMaxPool", [X4], {}),
    # reductions
    ("reducemean_attr", "ReduceMean", [f(2, 3, 4)], {"axes": [1]}, 13),
    ("reducemean_input", "ReduceMean", [f(2, 3, 4), C(np.array([-1], np.int64))], {"keepdims": 0}, 18),
    ("reducesum_input", "ReduceSum", [f(2, 3, 4), C(np.array([0, 2], np.int64))], {}, 13),
    ("reducesum_all", "ReduceSum", [f(2, 3, 4)], {"keepdims": 0}, 13),
    ("reducemax", "ReduceMax", [f(2, 3, 4)], {"axes": [2]}, 13),
    ("reducemin", "ReduceMin", [f(2, 3, 4), C(np.array([1], np.int64))], {"keepdims": 0}, 18),
    ("reduceprod", "ReduceProd", [f(2, 3, 4)], {"axes": [1]}, 13),
    ("reduceprod_two_axes", "ReduceProd", [f(2, 3, 4), C(np.array([0, 2], np.int64))], {"keepdims": 0}, 18),
    ("reducel2", "ReduceL2", [f(2, 3, 4)], {"axes": [1]}, 13),
    ("cumsum", "CumSum", [f(2, 5), C(np.array(1, np.int64))], {}),
    ("cumsum_axis0_exclusive_reverse", "CumSum", [f(4, 3), C(np.array(0, np.int64))], {"exclusive": 1, "reverse": 1}),
    ("argmax", "ArgMax", [f(2, 3, 4)], {"axis": 1}),
    ("argmax_last_index", "ArgMax", [np.array([[1, 3, 3, 0], [2, 2, 1, 2]], np.float32)],
     {"axis": 1, "select_last_index": 1}),
    ("argmin_last_index_nokeep", "ArgMin", [np.array([[1, 0, 3, 0], [2, 1, 1, 2]], np.float32)],
     {"axis": 1, "select_last_index": 1, "keepdims": 0}),
    ("argmin_nokeep", "ArgMin", [f(2, 3, 4)], {"axis": -1, "keepdims": 0}),
    # movement
    ("concat", "Concat", [f(1, 2, 3), C(f(1, 4, 3)), f(1, 1, 3)], {"axis": 1}),
    ("split_equal", "Split", [f(2, 6)], {"axis": 1}, 13, 3),
    ("split_sizes", "Split", [f(2, 6), C(np.array([1, 2, 3], np.int64))], {"axis": 1}, 13, 3),
    ("split_num_outputs", "Split", [f(2, 7)], {"axis": 1, "num_outputs": 3}, 18, 3),
    ("slice", "Slice", [f(4, 6, 5), C(np.array([1, -4], np.int64)), C(np.array([3, 100], np.int64)),
                        C(np.array([0, 1], np.int64))], {}),
    ("slice_steps", "Slice", [f(4, 6, 5), C(np.array([0, 1], np.int64)), C(np.array([5, 6], np.int64)),
                              C(np.array([2, 1], np.int64)), C(np.array([2, 2], np.int64))], {}),
    ("slice_negative_step", "Slice", [f(4, 6), C(np.array([-1], np.int64)), C(np.array([-100], np.int64)),
                                      C(np.array([1], np.int64)), C(np.array([-1], np.int64))], {}),
    ("gather_const_idx", "Gather", [f(5, 4), C(np.array([0, -1, 2], np.int64))], {"axis": 0}),
    ("gather_scalar_idx", "Gather", [f(2, 5, 4), C(np.array(3, np.int64))], {"axis": 1}),
    ("gather_runtime_idx", "Gather", [f(5, 4), np.array([[1, 2], [4, 0]], np.int64)], {"axis": 0}),
    ("gather_runtime_negative_idx", "Gather", [f(5, 4), np.array([[-1, 2], [-5, 0]], np.int64)], {"axis": 0}),
    ("reshape_0_neg1", "Reshape", [f(2, 3, 4), C(np.array([0, -1], np.int64))], {}),
    ("flatten", "Flatten", [X4], {"axis": 2}),
    ("transpose", "Transpose", [f(2, 3, 4)], {"perm": [2, 0, 1]}),
    ("transpose_default", "Transpose", [f(2, 3, 4)], {}),
    ("squeeze", "Squeeze", [f(1, 3, 1, 4), C(np.array([2], np.int64))], {}),
    ("squeeze_all", "Squeeze", [f(1, 3, 1, 4)], {}),
    ("unsqueeze", "Unsqueeze", [f(3, 4), C(np.array([0, 3], np.int64))], {}),
    ("unsqueeze_opset11", "Unsqueeze", [f(3, 4)], {"axes": [1]}, 11),
    ("expand", "Expand", [f(3, 1), C(np.array([2, 3, 4], np.int64))], {}),
    ("tile", "Tile", [f(2, 3), C(np.array([2, 1], np.int64))], {}),
    ("pad_constant", "Pad", [X4, C(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64))], {}),
    ("pad_constant_value", "Pad", [X4, C(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64)), C(np.float32(1.5))], {}),
    ("pad_runtime_value", "Pad", [X4, C(np.array([0, 0, 1, 0, 0, 0, 0, 2], np.int64)), np.float32(-3.0)], {}),
    ("pad_reflect", "Pad", [X4, C(np.array([0, 0, 2, 1, 0, 0, 1, 2], np.int64))], {"mode": "reflect"}),
    ("pad_edge", "Pad", [X4, C(np.array([0, 0, 2, 1, 0, 0, 1, 2], np.int64))], {"mode": "edge"}),
    ("depthtospace_dcr", "DepthToSpace", [f(1, 8, 3, 3)], {"blocksize": 2}),
    ("depthtospace_crd", "DepthToSpace", [f(1, 8, 3, 3)], {"blocksize": 2, "mode": "CRD"}),
    ("spacetodepth", "SpaceToDepth", [f(1, 2, 4, 6)], {"blocksize": 2}),
    ("cast_int", "Cast", [f(2, 3, lo=-5, hi=5)], {"to": 6}),
    ("identity", "Identity", [f(2, 3)], {}),
    ("dropout", "Dropout", [f(2, 3)], {}),
    ("dropout_mask", "Dropout", [f(2, 3)], {}, 13, 2),
    # resize
    ("resize_nearest_asym_floor", "Resize", [X4, None, C(np.array([1, 1, 2, 2], np.float32))],
     {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}),
    ("resize_nearest_half_pixel", "Resize", [X4, None, C(np.array([1, 1, 2, 2], np.float32))], {"mode": "nearest"}),
    ("resize_nearest_down", "Resize", [X4, None, C(np.array([1, 1, 0.5, 0.5], np.float32))], {"mode": "nearest"}),
    ("resize_nearest_prefer_ceil", "Resize", [X4, None, C(np.array([1, 1, 0.5, 0.5], np.float32))],
     {"mode": "nearest", "nearest_mode": "round_prefer_ceil"}),
    ("resize_nearest_align", "Resize", [X4, None, None, C(np.array([1, 3, 13, 11], np.int64))],
     {"mode": "nearest", "coordinate_transformation_mode": "align_corners", "nearest_mode": "round_prefer_ceil"}),
    ("resize_nearest_tf_half", "Resize", [X4, None, C(np.array([1, 1, 3, 3], np.float32))],
     {"mode": "nearest", "coordinate_transformation_mode": "tf_half_pixel_for_nn", "nearest_mode": "floor"}),
    ("upsample_opset9_nearest", "Upsample", [X4, C(np.array([1, 1, 2, 3], np.float32))], {"mode": "nearest"}, 9),
    ("upsample_opset9_linear", "Upsample", [X4, C(np.array([1, 1, 2, 2], np.float32))], {"mode": "linear"}, 9),
    ("upsample_opset7_attr", "Upsample", [X4], {"mode": "nearest", "scales": [1.0, 1.0, 3.0, 2.0]}, 7),
    ("resize_opset10_nearest", "Resize", [X4, C(np.array([1, 1, 2, 2], np.float32))], {"mode": "nearest"}, 10),
    ("resize_opset10_linear", "Resize", [X4, C(np.array([1, 1, 2, 2], np.float32))], {"mode": "linear"}, 10),
    ("resize_1d_linear", "Resize", [f(1, 2, 6), None, C(np.array([1, 1, 2], np.float32))],
     {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}),
    ("resize_nearest_fractional_scale", "Resize", [f(1, 2, 5, 5), None, C(np.array([1, 1, 1.5, 1.7], np.float32))],
     {"mode": "nearest"}),
    ("resize_linear_half_pixel", "Resize", [X4, None, C(np.array([1, 1, 2, 2], np.float32))], {"mode": "linear"}),
    ("resize_linear_align", "Resize", [X4, None, None, C(np.array([1, 3, 15, 15], np.int64))],
     {"mode": "linear", "coordinate_transformation_mode": "align_corners"}),
    ("resize_linear_asym", "Resize", [X4, None, C(np.array([1, 1, 2, 2], np.float32))],
     {"mode": "linear", "coordinate_transformation_mode": "asymmetric"}),
    ("resize_linear_pytorch", "Resize", [X4, None, None, C(np.array([1, 3, 12, 12], np.int64))],
     {"mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"}),
]


def _param(case):
    values, marks = (case.values, case.marks) if hasattr(case, "marks") else (case, ())
    name, op_type, args, attrs, *rest = values
    return pytest.param(op_type, args, attrs, *(list(rest) + [17, 1][len(rest):]), marks=marks, id=name)


@pytest.mark.parametrize("op_type, args, attrs, opset, outputs", [_param(c) for c in CASES])
def test_op_matches_onnxruntime(op_type, args, attrs, opset, outputs):
    model, feeds = one_node(op_type, args, attrs, opset=opset, outputs=outputs)
    check_against_ort(model, feeds)
