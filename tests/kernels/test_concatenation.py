"""CONCATENATION against LiteRT's reference kernels: every axis (negative too), many inputs,
empty inputs, every type; int8 / int16 copies; uint8 requantization of inputs whose scale or
zero point differ from the output's (ConcatenationWithScaling), saturating at 0 and 255."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import ALL_DTYPES, F32, I8, I16, U8, check, check_both_fail, data, t

S = (2, 3, 4)


def concat(shapes, axis, dtype=F32, quant=None, out_quant=None):
    quant = quant or [(None, 0)] * len(shapes)
    ins = [t(s, dtype, *q) for s, q in zip(shapes, quant)]
    out_shape = list(shapes[0])
    out_shape[axis] = sum(s[axis] for s in shapes)
    out = t(out_shape, dtype, *(out_quant or quant[0]))
    return ins, [out], {"axis": axis}


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_axes(axis):
    a = axis % 3
    shapes = [tuple(d + (k if i == a else 0) for i, d in enumerate(S)) for k in range(3)]
    ins, outs, opt = concat(shapes, a)
    opt["axis"] = axis
    check("CONCATENATION", ins, outs, None, opt)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    check("CONCATENATION", *concat([S, (2, 1, 4)], 1, dtype)[:2], None, {"axis": 1})


CASES = [
    ("one_input", [S], 0),
    ("five_inputs", [S] * 5, 2),
    ("empty_input", [(2, 0, 4), S], 1),
    ("all_empty", [(0, 3), (0, 3)], 0),
    ("1d", [(3,), (5,)], 0),
    ("5d", [(1, 2, 1, 2, 3), (1, 2, 1, 2, 1)], 4),
]


@pytest.mark.parametrize("shapes,axis", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
def test_shapes(shapes, axis):
    check("CONCATENATION", *concat(shapes, axis)[:2], None, {"axis": axis})


def test_int8_same_params_copy():
    q = [(0.05, -128)] * 3
    check("CONCATENATION", *concat([S, S, S], 0, I8, q)[:2], None, {"axis": 0})


def test_int16_zero_point_zero():
    check("CONCATENATION", *concat([S, S], 2, I16, [(0.001, 0), (0.001, 0)])[:2], None, {"axis": 2})


def test_int16_differing_scales_are_copied():
    # TFLite does not rescale int16 inputs: the raw values are copied.
    check("CONCATENATION", *concat([S, S], 0, I16, [(0.5, 0), (0.25, 0)], (0.125, 0))[:2], None, {"axis": 0})


UINT8_REQUANT = [
    ("same_params_copy", [(0.5, 128), (0.5, 128)], (0.5, 128)),
    ("scale_half_ties", [(0.4611366391181946, 0), (0.5, 10)], (0.9222732782363892, 219)),
    ("scale_double_saturates", [(0.1, 128), (0.05, 0)], (0.05, 128)),
    ("zero_point_only", [(0.25, 0), (0.25, 255)], (0.25, 100)),
    ("tiny_to_huge", [(1e-4, 3), (10.0, 250)], (0.5, 7)),
    ("huge_to_tiny", [(50.0, 128), (1.0, 128)], (1e-3, 128)),
    ("ratio_two_minus_ulp", [(0.09820809215307236, 154), (0.31101059913635254, 82)], (0.19641618430614471, 78)),
]


@pytest.mark.parametrize("quant,out_q", [pytest.param(*c_[1:], id=c_[0]) for c_ in UINT8_REQUANT])
def test_uint8_requantizes(quant, out_q):
    x = np.arange(256, dtype=np.uint8).reshape(2, 128)
    check("CONCATENATION", *concat([(2, 128), (2, 128)], 1, U8, quant, out_q)[:2], [x, x[::-1].copy()], {"axis": 1})


def test_uint8_requant_random_params():
    rng = np.random.default_rng(7)
    x = np.arange(256, dtype=np.uint8).reshape(1, 256)
    for _ in range(20):
        scales = [float(np.float32(10 ** rng.uniform(-3, 1))) for _ in range(3)]
        zps = [int(z) for z in rng.integers(0, 256, 3)]
        q = [(scales[0], zps[0]), (scales[1], zps[1])]
        check("CONCATENATION", *concat([(1, 256), (1, 256)], 0, U8, q, (scales[2], zps[2]))[:2], [x, x], {"axis": 0})


def test_uint8_batch_axis_after_resize():
    q = [(0.02, 10), (0.04, 200)]
    check("CONCATENATION", *concat([(1, 3, 8), (1, 2, 8)], 1, U8, q, (0.03, 128))[:2],
          [data((4, 3, 8), U8), data((4, 2, 8), U8)], {"axis": 1})


@pytest.mark.parametrize("what", ["int8_scale_differs", "int8_zero_point_differs", "int16_zero_point", "activation"])
def test_refused(what):
    if what == "int8_scale_differs":
        ins, outs, opt = concat([S, S], 0, I8, [(0.5, 1), (0.25, 1)], (0.5, 1))
    elif what == "int8_zero_point_differs":
        ins, outs, opt = concat([S, S], 0, I8, [(0.5, 1), (0.5, 1)], (0.5, 2))
    elif what == "int16_zero_point":
        ins, outs, opt = concat([S, S], 0, I16, [(0.5, 1), (0.5, 1)])
    else:
        ins, outs, opt = concat([S, S], 0)
        opt["fused_activation_function"] = 1
    feeds = [data(s["shape"], s["dtype"]) for s in ins]
    check_both_fail("CONCATENATION", ins, outs, feeds, opt)
