"""The fast 8-bit DEPTHWISE_CONV_2D (fast/depthwise.py's depthwise_quant) against the reference
kernel, table-driven over geometry, depth multipliers, types and requantization cases: identical
bit for bit, and the path each case should take is the one taken."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.kernels.fast import HAVE_NUMBA
from tests.fuzz.fast_vs_reference import identical
from tests.kernels.test_depthwise_conv import RELU, RELU6, SAME, VALID, dw_case
from tests.oracle import run_eightbit, single_op_model

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones")

# name: (kind, input shape, kernel, depth multiplier, dw_case options, path): path "no_wrap" /
# "wrapping" (depthwise_quant with that requantization) or "int" (depthwise_int: float32 sums inexact)
CASES = {
    "int8_3x3_s1_relu6_b2_c37": ("int8", (2, 9, 8, 37), 3, 1, dict(in_q=(0.05, -128), out_q=(0.04, -128), act=RELU6),
                                 "no_wrap"),
    "int8_3x3_s2_c20": ("int8", (1, 11, 10, 20), 3, 1, dict(stride=(2, 2), in_q=(0.05, 3), out_q=(0.1, -7)),
                        "no_wrap"),
    "int8_3x3_s2_valid_dm2": ("int8", (2, 9, 9, 3), 3, 2, dict(stride=(2, 2), padding=VALID, in_q=(0.05, 127)),
                              "no_wrap"),
    "int8_3x3_strides_1_2": ("int8", (1, 8, 9, 5), 3, 1, dict(stride=(1, 2), in_q=(0.03, -4)), "no_wrap"),
    "int8_3x3_strides_2_1_dilated": ("int8", (1, 12, 11, 6), 3, 1, dict(stride=(2, 1), dilation=(2, 3)),
                                     "no_wrap"),
    "int8_3x3_dilated_s2": ("int8", (2, 13, 13, 7), 3, 1, dict(stride=(2, 2), dilation=(2, 2), act=RELU),
                            "no_wrap"),
    "int8_dilation_7_one_slot_per_tap_row": ("int8", (2, 16, 9, 5), 3, 1, dict(dilation=(7, 2), in_q=(0.05, 9)),
                                             "no_wrap"),
    "int8_5x5_dm3_dilated": ("int8", (1, 10, 9, 2), 5, 3, dict(dilation=(2, 1), in_q=(0.02, 5)), "no_wrap"),
    "int8_7x7_c5_valid": ("int8", (2, 12, 10, 5), 7, 1, dict(padding=VALID, in_q=(0.05, -100)), "no_wrap"),
    "int8_5x3_s3": ("int8", (1, 11, 13, 9), (5, 3), 1, dict(stride=(3, 3), act=RELU6), "no_wrap"),
    "int8_1x1": ("int8", (1, 4, 5, 17), 1, 2, dict(), "no_wrap"),
    "int8_kernel_larger_than_input": ("int8", (1, 3, 2, 4), 5, 1, dict(), "no_wrap"),
    "int8_two_column_tiles": ("int8", (1, 5, 70, 64), 3, 1, dict(in_q=(0.05, -128)), "no_wrap"),
    "int8_tile_of_odd_channels": ("int8", (1, 4, 40, 129), 3, 1, dict(in_q=(0.05, -128)), "no_wrap"),
    "int8_left_shift": ("int8", (1, 5, 5, 2), 3, 1, dict(w_scale=[0.4, 0.9], in_q=(0.5, 0), out_q=(0.001, 0)),
                        "wrapping"),
    "int8_large_bias_no_wrap": ("int8", (1, 5, 5, 2), 3, 1, dict(w_scale=[1e-6, 3e-7], in_q=(1e-3, 0),
                                                                 out_q=(0.3, 2), bias_range=10 ** 9), "no_wrap"),
    "uint8_legacy": ("uint8", (1, 6, 6, 3), 3, 1, dict(w_scale=0.02, w_zp=130, in_q=(0.04, 128), out_q=(0.05, 10),
                                                       act=RELU), "no_wrap"),
    "uint8_dm2_zp_extremes_b2": ("uint8", (2, 5, 5, 2), 3, 2, dict(w_scale=0.01, w_zp=255, in_q=(0.05, 0),
                                                                   out_q=(0.07, 255)), "no_wrap"),
    "uint8_s2_same": ("uint8", (1, 9, 10, 33), 3, 1, dict(stride=(2, 2), w_scale=0.01, w_zp=3, in_q=(0.05, 200)),
                      "no_wrap"),
    "int8_more_channels_than_a_table_row": ("int8", (1, 3, 4, 2100), 3, 1, dict(), "int"),
    "int8_26x26_inexact_in_float32": ("int8", (1, 27, 28, 3), 26, 1, dict(in_q=(0.05, -128)), "int"),
}


def _run(model, x, kernels, threads=1):
    it = eightbit.Interpreter(model_content=model, kernels=kernels, num_threads=threads)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]), it.get_subgraph_runner().params


def _path(params) -> str:
    (p,) = [p for p in params if type(p).__name__ in ("FastDepthwiseParams", "Fallback")]
    assert type(p).__name__ == "FastDepthwiseParams", "the fast path was not taken"
    if p.tiles is None:
        return "int"
    return "no_wrap" if p.tiles[3] else "wrapping"


@pytest.mark.parametrize("name", list(CASES))
def test_depthwise_quant_bit_identical(name):
    kind, shape, k, dm, opts, path = CASES[name]
    model, x = dw_case(kind, shape, k, dm, seed=len(name), **opts)
    got, params = _run(model, x, "fast")
    want, _ = _run(model, x, "reference")
    assert identical(got, want), f"{int(np.sum(got != want))} of {want.size} differ"
    assert _path(params) == path


@pytest.mark.parametrize("name", ["int8_3x3_s1_relu6_b2_c37", "int8_5x5_dm3_dilated", "uint8_s2_same",
                                  "int8_left_shift"])
def test_two_threads_same_bits(name, monkeypatch):
    from eightbit.kernels.fast import jit

    monkeypatch.setattr(jit, "MIN_PARALLEL_WORK", 1)  # every layer split, even these small ones
    kind, shape, k, dm, opts, _ = CASES[name]
    model, x = dw_case(kind, shape, k, dm, seed=3, **opts)
    got, _ = _run(model, x, "fast", threads=2)
    want, _ = _run(model, x, "reference")
    assert identical(got, want)


def test_windows_far_apart_run_the_skipping_loop(monkeypatch):
    """Past MAX_SCRATCH bytes of converted rows, the loop that skips outside taps runs instead."""
    from eightbit.kernels.fast import depthwise_conv

    monkeypatch.setattr(depthwise_conv, "MAX_SCRATCH", 0)
    for name in ("int8_3x3_s2_valid_dm2", "uint8_legacy", "int8_left_shift"):
        kind, shape, k, dm, opts, _ = CASES[name]
        model, x = dw_case(kind, shape, k, dm, seed=4, **opts)
        got, _ = _run(model, x, "fast")
        want, _ = _run(model, x, "reference")
        assert identical(got, want), name


def test_input_of_another_shape_at_run_time():
    """The geometry is worked out again for an input resized after prepare (batch and size)."""
    model, _ = dw_case("int8", (1, 8, 8, 6), 3, 1, stride=(2, 2), in_q=(0.05, -128))
    x = np.random.default_rng(5).integers(-128, 128, (3, 11, 7, 6)).astype(np.int8)
    outs = [run_eightbit(model, [x], kernels)[0] for kernels in ("fast", "reference")]
    assert outs[0].shape == (3, 6, 4, 6) and identical(outs[0], outs[1])


@pytest.mark.parametrize("bias", [2 ** 31 - 1, -2 ** 31, 2 ** 31 - 200_000])
def test_accumulator_wrapping_past_int32(bias):
    """acc + bias leaves int32 (a bias at the type's end): the wrapping requantization, which
    wraps as the C++ int32 sum does."""
    x = np.random.default_rng(1).integers(-128, 128, (1, 6, 6, 2)).astype(np.int8)
    w = np.full((1, 3, 3, 2), 127, np.int8)
    w[..., 1] = -127
    opts = dict(padding=SAME, stride_h=1, stride_w=1, depth_multiplier=1, fused_activation_function=0)
    model = single_op_model("DEPTHWISE_CONV_2D", [
        dict(shape=x.shape, dtype=np.int8, scale=0.05, zero_point=-128),
        dict(shape=w.shape, dtype=np.int8, data=w, scale=[1e-6, 1e-6], zero_point=[0, 0], quantized_dimension=3),
        dict(shape=(2,), dtype=np.int32, data=np.array([bias, bias], np.int32), scale=[5e-8, 5e-8],
             zero_point=[0, 0])], [dict(shape=x.shape, dtype=np.int8, scale=0.01, zero_point=0)], options=opts,
        version=3)
    got, params = _run(model, x, "fast")
    want, _ = _run(model, x, "reference")
    assert identical(got, want) and _path(params) == "wrapping"


def test_extreme_inputs_and_filters():
    """Every input at the type's end far from the zero point and every weight +-127: the largest
    sums the float32 taps hold, exactly."""
    for sign in (1, -1):
        model, x = dw_case("int8", (1, 6, 6, 8), 3, 1, in_q=(0.05, 127 if sign > 0 else -128),
                           out_q=(30.0, 0))
        x = np.full_like(x, -128 if sign > 0 else 127)
        got, _ = _run(model, x, "fast")
        want, _ = _run(model, x, "reference")
        assert identical(got, want)
