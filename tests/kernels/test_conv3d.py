"""CONV_3D and CONV_3D_TRANSPOSE against LiteRT's reference kernels, float32 bit for bit: SAME
and VALID padding, strides and dilations per axis, with and without bias, each activation, a
batch above 1, and the int8 models both refuse."""

from __future__ import annotations

import numpy as np
import pytest

from eightbit.kernels.padding import compute_out_size
from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import single_op_model

RNG = np.random.default_rng(303)
F32, I32 = np.float32, np.int32


def options(padding, strides, dilations, act):
    return {"padding": padding, "stride_d": strides[0], "stride_h": strides[1], "stride_w": strides[2],
            "dilation_d_factor": dilations[0], "dilation_h_factor": dilations[1], "dilation_w_factor": dilations[2],
            "fused_activation_function": act}


def conv3d_case(x_shape, k, cout, padding, strides, dilations, act, bias):
    w = RNG.normal(0, 0.5, k + (x_shape[4], cout)).astype(F32)
    out = (x_shape[0],) + tuple(compute_out_size(padding, n, kk, s, d)
                                for n, kk, s, d in zip(x_shape[1:4], k, strides, dilations)) + (cout,)
    ins = [t(x_shape), t(w.shape, data=w)] + ([t((cout,), data=RNG.normal(size=cout).astype(F32))] if bias else [])
    return single_op_model("CONV_3D", ins, [t(out)], options(padding, strides, dilations, act))


CASES = [
    # input, kernel, cout, padding (0 SAME, 1 VALID), strides, dilations
    ((1, 4, 5, 6, 2), (2, 3, 3), 3, 0, (1, 1, 1), (1, 1, 1)),
    ((2, 5, 4, 4, 3), (3, 2, 2), 2, 1, (2, 1, 2), (1, 1, 1)),
    ((1, 6, 6, 5, 1), (2, 2, 3), 4, 0, (1, 2, 2), (2, 1, 2)),
    ((1, 3, 3, 3, 4), (1, 1, 1), 2, 1, (1, 1, 1), (1, 1, 1)),
    ((1, 4, 7, 5, 2), (3, 3, 3), 1, 0, (3, 2, 1), (1, 2, 1)),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("act,bias", [(0, True), (1, False), (3, True)])
def test_conv3d(case, act, bias):
    x_shape = case[0]
    x = RNG.normal(0, 2, x_shape).astype(F32)
    check(conv3d_case(*case, act=act, bias=bias), [x], exact=True)


def transpose_case(out_shape, x_shape, k, padding, strides, dilations, act, bias):
    cout, cin = out_shape[4], x_shape[4]
    w = RNG.normal(0, 0.5, k + (cout, cin)).astype(F32)
    ins = [t((5,), I32, data=np.array(out_shape, I32)), t(w.shape, data=w), t(x_shape)]
    if bias:
        ins.append(t((cout,), data=RNG.normal(size=cout).astype(F32)))
    return single_op_model("CONV_3D_TRANSPOSE", ins, [t(out_shape)], options(padding, strides, dilations, act))


TRANSPOSE_CASES = [
    # output, input, kernel, padding, strides, dilations
    ((1, 4, 5, 6, 3), (1, 4, 5, 6, 2), (2, 3, 3), 0, (1, 1, 1), (1, 1, 1)),
    ((2, 8, 6, 6, 2), (2, 4, 3, 3, 3), (3, 2, 2), 0, (2, 2, 2), (1, 1, 1)),
    ((1, 7, 5, 9, 1), (1, 3, 4, 4, 2), (3, 2, 3), 1, (2, 1, 2), (1, 1, 1)),
    ((1, 6, 6, 6, 2), (1, 6, 3, 3, 1), (2, 3, 2), 0, (1, 2, 2), (2, 1, 2)),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
@pytest.mark.parametrize("act,bias", [(0, False), (1, True), (3, False)])
def test_conv3d_transpose(case, act, bias):
    x = RNG.normal(0, 2, case[1]).astype(F32)
    check(transpose_case(*case, act=act, bias=bias), [x], exact=True)


def test_conv3d_refuses_int8():
    w = np.ones((1, 1, 1, 1, 1), np.int8)
    m = single_op_model("CONV_3D", [t((1, 2, 2, 2, 1), np.int8, scale=0.1), t(w.shape, np.int8, scale=0.1, data=w)],
                        [t((1, 2, 2, 2, 1), np.int8, scale=0.1)], options(0, (1, 1, 1), (1, 1, 1), 0))
    both_refuse(m, [np.ones((1, 2, 2, 2, 1), np.int8)], "", "float32 only")
