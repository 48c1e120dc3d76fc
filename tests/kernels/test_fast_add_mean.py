"""The fast 8-bit ADD (a table of the reference kernel's results over every input pair) and the
fast quantized MEAN (sums and requantization in one compiled pass) against the reference kernels:
identical bit for bit, and the fast path taken."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.kernels.fast import HAVE_NUMBA
from tests.fuzz.fast_vs_reference import identical
from tests.oracle import single_op_model

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones")


def _run(model, inputs, kernels, threads=1):
    it = eightbit.Interpreter(model_content=model, kernels=kernels, num_threads=threads)
    it.allocate_tensors()
    for det, x in zip(it.get_input_details(), inputs):
        it.set_tensor(det["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]), it.get_subgraph_runner().params


ADD_CASES = [  # dtype, (scale, zp) of input 1, input 2, output, fused activation
    (np.int8, (0.05, -128), (0.05, -128), (0.1, -128), 0),
    (np.int8, (0.02, 3), (0.5, -7), (0.3, 10), 1),  # very different input scales, RELU
    (np.int8, (0.01, 0), (0.011, 5), (0.02, -3), 3),  # RELU6
    (np.int8, (0.4, 127), (0.001, -128), (0.25, 0), 2),  # RELU_N1_TO_1, zero points at the ends
    (np.uint8, (0.05, 128), (0.07, 100), (0.1, 120), 0),
    (np.uint8, (0.1, 0), (0.1, 255), (0.06, 0), 3),
]


@pytest.mark.parametrize("dtype, q1, q2, qo, act", ADD_CASES)
@pytest.mark.parametrize("shape, threads", [((2, 128, 256), 1), ((2, 128, 256), 2), ((4, 16384), 1),
                                            ((4, 16384), 2)])
def test_add_every_input_pair(dtype, q1, q2, qo, act, shape, threads, monkeypatch):
    """Every (a, b) pair once: a tensor past TABLE_MIN_SIZE (the table), and four of them below
    it, one per row of `shape` (the compiled rescaling)."""
    from eightbit.kernels.fast import add, jit

    monkeypatch.setattr(jit, "MIN_PARALLEL_WORK", 1)
    runs = 1 if shape[0] == 2 else shape[0]
    one = shape if runs == 1 else shape[1:]
    values = np.arange(256, dtype=np.uint8).view(dtype)
    pairs = [v.reshape(runs, *one) for v in np.meshgrid(values, values, indexing="ij")]
    model = single_op_model("ADD", [dict(shape=one, dtype=dtype, scale=q1[0], zero_point=q1[1]),
                                    dict(shape=one, dtype=dtype, scale=q2[0], zero_point=q2[1])],
                            [dict(shape=one, dtype=dtype, scale=qo[0], zero_point=qo[1])],
                            {"fused_activation_function": act})
    for k in range(runs):
        a, b = pairs[0][k], pairs[1][k]
        got, params = _run(model, [a, b], "fast", threads)
        want, _ = _run(model, [a, b], "reference")
        assert identical(got, want), f"{int(np.sum(got != want))} of {want.size} differ"
        (p,) = [p for p in params if type(p).__name__ == "FastAddParams"]
        assert (p.table is not None) == (a.size >= add.TABLE_MIN_SIZE)


MEAN_CASES = [  # dtype, shape, axes, (in scale, zp), (out scale, zp)
    (np.int8, (1, 7, 7, 1280), [1, 2], (0.05, -128), (0.02, -128)),  # MobileNetV2's
    (np.int8, (2, 5, 5, 3), [1, 2], (0.5, 3), (0.004, -5)),  # multiplier > 1: a left shift
    (np.int8, (3, 1000, 2), [1], (0.02, 100), (0.02, -100)),  # n past 2^9
    (np.uint8, (2, 9, 9, 7), [1, 2], (0.1, 128), (0.03, 100)),
    (np.uint8, (4, 70000), [1], (0.3, 0), (0.001, 255)),  # n past 2^16: the multiplier's s clamps
    (np.uint8, (2, 70000), [1], (1e-6, 0), (100.0, 0)),  # shift past -31: the numpy requantization
    (np.int16, (2, 6, 6, 8), [1, 2], (1e-3, 0), (5e-4, 0)),
]


@pytest.mark.parametrize("dtype, shape, axes, qin, qout", MEAN_CASES)
def test_quantized_mean(dtype, shape, axes, qin, qout):
    rng = np.random.default_rng(shape[-1])
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(shape))
    model = single_op_model("MEAN", [dict(shape=shape, dtype=dtype, scale=qin[0], zero_point=qin[1]),
                                     dict(shape=(len(axes),), dtype=np.int32, data=np.array(axes, np.int32))],
                            [dict(shape=out_shape, dtype=dtype, scale=qout[0], zero_point=qout[1])], {"keep_dims": True})
    info = np.iinfo(dtype)
    for x in (rng.integers(info.min, info.max + 1, shape).astype(dtype), np.full(shape, info.max, dtype),
              np.full(shape, info.min, dtype)):
        got, _ = _run(model, [x], "fast")
        want, _ = _run(model, [x], "reference")
        assert identical(got, want), f"{int(np.sum(got != want))} of {want.size} differ"
