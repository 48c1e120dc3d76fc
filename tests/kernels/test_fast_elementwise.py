"""Fast MUL, MEAN and SOFTMAX against the reference kernels, table-driven over every type and
option branch: identical bit for bit (floats included), and the fast path really taken."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.kernels.fast import HAVE_NUMBA
from eightbit.kernels.fast.reduce import _block
from tests.fuzz.fast_vs_reference import identical
from tests.oracle import single_op_model

pytestmark = [pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]

INFO = {np.int8: (-128, 127), np.uint8: (0, 255), np.int16: (-32768, 32767)}


def _run(model, inputs, kernels):
    it = eightbit.Interpreter(model_content=model, kernels=kernels)
    it.allocate_tensors()
    for det, x in zip(it.get_input_details(), inputs):
        it.set_tensor(det["index"], x)
    it.invoke()
    params = it.get_subgraph_runner().params
    return it.get_tensor(it.get_output_details()[0]["index"]), params


def _check(model, inputs, fast_params: str):
    got, params = _run(model, inputs, "fast")
    want, _ = _run(model, inputs, "reference")
    assert identical(got, want), f"{int(np.sum(got != want))} of {want.size} differ"
    assert any(type(p).__name__ == fast_params for p in params), "the fast path was not taken"


def _qdata(rng, dtype, shape):
    lo, hi = INFO[dtype]
    return rng.integers(lo, hi + 1, shape).astype(dtype)


MUL_CASES = [  # dtype, shape1, shape2, activation, scales (s1, s2, so), zero points
    (np.int8, (2, 5, 5, 8), (2, 5, 5, 8), 0, (0.05, 0.02, 0.01), (3, -7, 5)),
    (np.int8, (2, 5, 5, 8), (1, 1, 1, 8), 1, (0.1, 0.003, 0.02), (-128, 0, -20)),  # broadcast, RELU
    (np.int8, (3, 7), (1,), 3, (0.5, 0.5, 0.01), (0, 10, -128)),  # scalar, RELU6: multiplier > 1
    (np.uint8, (4, 9), (4, 9), 0, (0.02, 0.04, 0.001), (128, 100, 0)),
    (np.uint8, (1, 6, 6, 3), (6, 1, 3), 2, (0.2, 0.1, 0.3), (0, 255, 130)),  # RELU_N1_TO_1
    (np.int16, (2, 16, 8), (2, 16, 8), 0, (1e-3, 2e-3, 5e-5), (0, 0, 0)),
    (np.int16, (2, 16, 8), (8,), 1, (1e-4, 1e-4, 1e-9), (0, 0, 0)),  # tiny output scale: big multiplier
]


@pytest.mark.parametrize("dtype, s1, s2, act, scales, zps", MUL_CASES)
def test_mul(dtype, s1, s2, act, scales, zps):
    rng = np.random.default_rng(len(s1) + act)
    out_shape = np.broadcast_shapes(s1, s2)
    model = single_op_model("MUL", [dict(shape=s1, dtype=dtype, scale=scales[0], zero_point=zps[0]),
                                    dict(shape=s2, dtype=dtype, scale=scales[1], zero_point=zps[1])],
                            [dict(shape=out_shape, dtype=dtype, scale=scales[2], zero_point=zps[2])],
                            {"fused_activation_function": act})
    _check(model, [_qdata(rng, dtype, s1), _qdata(rng, dtype, s2)], "FastMulParams")


MEAN_CASES = [  # dtype, shape, axes, keep_dims, (in scale, zp), (out scale, zp)
    (np.float32, (2, 7, 7, 16), [1, 2], True, None, None),
    (np.float32, (3, 5, 11), [-1], False, None, None),
    (np.float32, (4, 6, 5), [0, 1], False, None, None),
    (np.float32, (2, 3, 4, 5), [2, 1], True, None, None),  # axes in any order
    (np.int8, (2, 7, 7, 16), [1, 2], True, (0.05, 3), (0.02, -5)),
    (np.int8, (2, 9, 9, 4), [1, 2], False, (0.05, -128), (0.05, -128)),
    (np.uint8, (3, 5, 11), [2], False, (0.1, 128), (0.03, 100)),
    (np.uint8, (1, 300, 2), [1], True, (0.01, 0), (0.5, 3)),
    (np.int16, (2, 6, 6, 8), [1, 2], True, (1e-3, 0), (5e-4, 0)),
    (np.int16, (5, 33), [1], False, (2e-4, 0), (1e-3, 0)),
]


@pytest.mark.parametrize("dtype, shape, axes, keep, qin, qout", MEAN_CASES)
def test_mean(dtype, shape, axes, keep, qin, qout):
    rng = np.random.default_rng(len(shape) * 7 + len(axes))
    red = {a % len(shape) for a in axes}
    out_shape = tuple(1 if i in red else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in red)
    q_in = {} if qin is None else {"scale": qin[0], "zero_point": qin[1]}
    q_out = {} if qout is None else {"scale": qout[0], "zero_point": qout[1]}
    model = single_op_model("MEAN", [dict(shape=shape, dtype=dtype, **q_in),
                                     dict(shape=(len(axes),), dtype=np.int32, data=np.array(axes, np.int32))],
                            [dict(shape=out_shape, dtype=dtype, **q_out)], {"keep_dims": keep})
    if dtype == np.float32:
        x = (rng.normal(size=shape) * 100).astype(np.float32)
        x.reshape(-1)[::13] *= -1e-6  # mixed magnitudes: the summation order shows in the last bits
    else:
        x = _qdata(rng, dtype, shape)
    got, _ = _run(model, [x], "fast")
    want, _ = _run(model, [x], "reference")
    assert identical(got, want), f"{int(np.sum(got != want))} of {want.size} differ"
    assert _block(shape, tuple(sorted(red))) is not None  # the compiled path applies


SOFTMAX_CASES = [  # in dtype, out dtype, shape, beta, in scale, in zp
    (np.int8, np.int8, (4, 10), 1.0, 0.1, 0),
    (np.int8, np.int8, (2, 3, 1000), 1.0, 0.25, -20),
    (np.int8, np.int8, (6, 17), 0.5, 1.0, 0),  # large range: many differences below diff_min
    (np.int8, np.int16, (3, 33), 1.0, 0.05, 5),
    (np.uint8, np.uint8, (5, 12), 1.0, 0.08, 128),
    (np.uint8, np.int16, (2, 64), 2.0, 0.02, 0),
]


@pytest.mark.parametrize("din, dout, shape, beta, scale, zp", SOFTMAX_CASES)
def test_softmax(din, dout, shape, beta, scale, zp):
    rng = np.random.default_rng(shape[-1])
    out_q = {np.int8: (1 / 256, -128), np.uint8: (1 / 256, 0), np.int16: (1 / 32768, 0)}[dout]
    model = single_op_model("SOFTMAX", [dict(shape=shape, dtype=din, scale=scale, zero_point=zp)],
                            [dict(shape=shape, dtype=dout, scale=out_q[0], zero_point=out_q[1])], {"beta": beta})
    x = _qdata(rng, din, shape)
    if shape[-1] < 256:  # (1000 equal values: a row sum out of TFLite's range, an error in both)
        x.reshape(-1, shape[-1])[0] = INFO[din][1]  # one row all equal
    _check(model, [x], "FastSoftmaxParams")


LUT_CASES = [  # op, dtype, (in scale, zp), (out scale, zp)
    ("HARD_SWISH", np.int8, (0.05, 3), (0.03, -10)),
    ("HARD_SWISH", np.int8, (0.2, -128), (0.02, 0)),
    ("HARD_SWISH", np.uint8, (0.04, 128), (0.025, 40)),
    ("LOGISTIC", np.int8, (0.08, 0), (1 / 256, -128)),
    ("LOGISTIC", np.uint8, (0.1, 120), (1 / 256, 0)),
    ("TANH", np.int8, (0.03, -5), (1 / 128, 0)),
    ("TANH", np.uint8, (0.06, 128), (1 / 128, 128)),
]


@pytest.mark.parametrize("op, dtype, qin, qout", LUT_CASES)
def test_lut_activations(op, dtype, qin, qout):
    rng = np.random.default_rng(qin[1] + 300)
    shape = (2, 5, 7, 9)
    model = single_op_model(op, [dict(shape=shape, dtype=dtype, scale=qin[0], zero_point=qin[1])],
                            [dict(shape=shape, dtype=dtype, scale=qout[0], zero_point=qout[1])])
    x = _qdata(rng, dtype, shape)
    x.reshape(-1)[:256] = np.arange(256, dtype=np.uint8).view(dtype)  # every value once
    _check(model, [x], "Lut8Params")


@pytest.mark.parametrize("act", [0, 1, 2, 3])  # none, RELU, RELU_N1_TO_1, RELU6
def test_float_add(act):
    rng = np.random.default_rng(act)
    shape = (2, 6, 6, 5)
    model = single_op_model("ADD", [dict(shape=shape), dict(shape=shape)], [dict(shape=shape)],
                            {"fused_activation_function": act})
    a, b = (rng.normal(size=shape) * 4).astype(np.float32), (rng.normal(size=shape) * 4).astype(np.float32)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 3.4e38, -3.4e38, 6.0], np.float32)
    a.reshape(-1)[:64] = np.repeat(specials, 8)
    b.reshape(-1)[:64] = np.tile(specials, 8)
    _check(model, [a, b], "FastAddFloatParams")


def _specials_f32(rng, shape, scale=4.0):
    x = (rng.normal(size=shape) * scale).astype(np.float32)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 3.4e38, -3.4e38, 6.0, -3.0, 3.0], np.float32)
    k = min(x.size, specials.size)
    x.reshape(-1)[:k] = specials[:k]
    return x


@pytest.mark.parametrize("s1, s2, act", [((2, 6, 6, 5), (2, 6, 6, 5), 0), ((2, 6, 6, 5), (1, 1, 1, 5), 1),
                                         ((3, 7), (1,), 3), ((4, 1, 3), (5, 1), 2)])
def test_float_mul(s1, s2, act):
    rng = np.random.default_rng(len(s1) + act)
    out = np.broadcast_shapes(s1, s2)
    model = single_op_model("MUL", [dict(shape=s1), dict(shape=s2)], [dict(shape=out)],
                            {"fused_activation_function": act})
    a, b = _specials_f32(rng, s1), _specials_f32(rng, s2)
    got, _ = _run(model, [a, b], "fast")
    want, _ = _run(model, [a, b], "reference")
    assert identical(got, want), f"{int(np.sum(got != want))} of {want.size} differ"


def test_float_hard_swish():
    rng = np.random.default_rng(11)
    shape = (2, 9, 9, 7)
    model = single_op_model("HARD_SWISH", [dict(shape=shape)], [dict(shape=shape)])
    x = _specials_f32(rng, shape)
    x.reshape(-1)[10:20] = np.array([-3.0000002, -2.9999998, 2.9999998, 3.0000002, -1e-45, 1e-45, -6, 7, 1e-30,
                                     -1e30], np.float32)
    got, _ = _run(model, [x], "fast")
    want, _ = _run(model, [x], "reference")
    assert identical(got, want), f"{int(np.sum(got != want))} of {want.size} differ"
