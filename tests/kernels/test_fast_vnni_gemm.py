"""int8 CONV_2D and FULLY_CONNECTED on the VNNI integer GEMM (fast/vnni.py) against the numpy
reference kernels, bit for bit: K from 1 to past 2000 (odd, not multiples of 4), rows that leave
partial 12-row tiles, channel counts that are not multiples of 16, per-channel and per-tensor
multipliers (left shifts included), clamps, KxK geometry, batches, 2 threads; each case also
with EIGHTBIT_DISABLE_VNNI=1 (the float-GEMM path) and checked to have taken the path it
should."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eightbit.kernels.fast import HAVE_NUMBA, gemm_vnni
from tests.kernels.test_conv import NONE, RELU, RELU6, SAME, VALID, conv_case
from tests.kernels.test_fully_connected import fc_case
from tests.oracle import run_eightbit, single_op_model

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones")


def _run(model, x, kernels, threads=1):
    return run_eightbit(model, [x], kernels, threads)[0]


@pytest.fixture(params=["vnni", "float_gemm"])
def path(request, monkeypatch):
    """Both fast paths; counts the layers the VNNI GEMM ran."""
    monkeypatch.setenv("EIGHTBIT_DISABLE_VNNI", "0" if request.param == "vnni" else "1")
    monkeypatch.setenv("EIGHTBIT_GRAPH_RUNNER", "0")  # single-layer models would run on the whole-graph runner
    calls = []
    for name in ("conv_eval", "fc_eval"):
        real = getattr(gemm_vnni, name)
        monkeypatch.setattr(gemm_vnni, name, lambda *a, _real=real: calls.append(1) or _real(*a))
    return request.param, calls


def _check(path, model, x, threads=1, vnni=True):
    mode, calls = path
    want = _run(model, x, "reference")
    got = _run(model, x, "fast", threads)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want), f"{int(np.sum(got != want))} of {want.size} differ"
    assert bool(calls) == (vnni and gemm_vnni.enabled()), mode  # enabled(): False under EIGHTBIT_DISABLE_VNNI=1


PER_CH = np.array([0.004, 0.011, 0.02, 0.0007, 0.015, 0.009, 0.03, 0.002], np.float32)


def _scales(oc, base=PER_CH):
    return np.resize(base, oc)


# name: (x shape, (OC, KH, KW), conv_case options)
CONV = {
    "1x1_k1_oc1": ((1, 3, 5, 1), (1, 1, 1), {}),
    "1x1_k3_oc5": ((1, 5, 7, 3), (5, 1, 1), dict(act=RELU)),
    "1x1_k37_oc40_b2": ((2, 6, 5, 37), (40, 1, 1), dict(in_q=(0.05, -7), out_q=(0.1, 3))),
    "1x1_k16_oc16_m13": ((1, 1, 13, 16), (16, 1, 1), dict(act=RELU6, out_q=(0.05, -128))),
    "1x1_k64_oc48_m49": ((1, 7, 7, 64), (48, 1, 1), dict(in_q=(0.02, 127))),
    "1x1_k2101_oc20": ((1, 2, 3, 2101), (20, 1, 1), dict(out_q=(2.0, 5))),
    "1x1_s2": ((1, 9, 8, 6), (33, 1, 1), dict(stride=(2, 2), padding=VALID)),
    "1x1_s2_same_odd": ((2, 7, 7, 5), (17, 1, 1), dict(stride=(2, 3))),
    "3x3_s2_same_relu6": ((1, 9, 9, 8), (17, 3, 3), dict(stride=(2, 2), act=RELU6, in_q=(0.05, 11))),
    "3x3_dil2_valid": ((1, 9, 10, 5), (33, 3, 3), dict(dilation=(2, 2), padding=VALID)),
    "3x3_k27_mobilenet_first": ((1, 15, 15, 3), (32, 3, 3), dict(stride=(2, 2), act=RELU6, in_q=(0.0078, -1))),
    "5x3_s3x1_same_b3": ((3, 11, 8, 7), (24, 5, 3), dict(stride=(3, 1), in_q=(0.05, -128))),
    "3x3_k6300": ((1, 4, 4, 700), (19, 3, 3), dict(out_q=(5.0, 0))),
    "2x2_dil_stride_same": ((2, 8, 9, 4), (16, 2, 2), dict(stride=(2, 1), dilation=(1, 3))),
}


@pytest.mark.parametrize("name", CONV)
@pytest.mark.parametrize("per_channel", [True, False])
def test_conv(name, per_channel, path):
    x_shape, (oc, kh, kw), opts = CONV[name]
    w_scale = _scales(oc) if per_channel else np.float32(0.01)
    model, x = conv_case("int8", x_shape, (oc, kh, kw, x_shape[3]), w_scale=w_scale, seed=len(name), **opts)
    _check(path, model, x)


@pytest.mark.parametrize("out_scale", [1e-4, 3e-3, 40.0])  # left shifts, ordinary, large right shifts
def test_conv_shift_ranges(out_scale, path):
    model, x = conv_case("int8", (1, 4, 5, 19), (21, 1, 1, 19), w_scale=_scales(21), out_q=(out_scale, -5),
                         bias_range=100000)
    _check(path, model, x)


def test_conv_extreme_operands(path):
    """Inputs and weights at -128 / 127 (the packed u8 at 0 / 255, weights at -128)."""
    rng = np.random.default_rng(3)
    w = rng.choice(np.array([-128, 127, -127, 0], np.int8), (35, 3, 3, 45))
    model, x = conv_case("int8", (1, 6, 6, 45), (35, 3, 3, 45), w_data=w, w_scale=_scales(35), in_q=(0.05, 127),
                         padding=SAME)
    x[...] = np.where(rng.random(x.shape) < 0.5, -128, 127)
    _check(path, model, x)


@pytest.fixture
def split(monkeypatch):
    """The most ranges a VNNI layer was split into."""
    most = [0]
    real = gemm_vnni._tile_ranges

    def counted(*a):
        ranges = real(*a)
        most[0] = max(most[0], len(ranges))
        return ranges

    monkeypatch.setattr(gemm_vnni, "_tile_ranges", counted)
    return most


def test_conv_two_threads(path, split):
    model, x = conv_case("int8", (2, 32, 32, 128), (68, 1, 1, 128), w_scale=_scales(68), in_q=(0.05, 3), act=RELU)
    _check(path, model, x, threads=2)
    model, x = conv_case("int8", (1, 48, 48, 32), (40, 3, 3, 32), w_scale=_scales(40), stride=(1, 1))
    _check(path, model, x, threads=2)
    assert (split[0] > 1) == gemm_vnni.enabled()


def test_conv_depth_past_the_int32_bound_falls_back(path):
    """K * 255 * 128 >= 2^31: vpdpbusd could wrap, the float-GEMM path runs."""
    model, x = conv_case("int8", (1, 1, 1, 66000), (3, 1, 1, 66000), w_scale=_scales(3), out_q=(50.0, 0))
    _check(path, model, x, vnni=False)


def test_uint8_conv_keeps_the_float_gemm(path):
    model, x = conv_case("uint8", (1, 5, 5, 8), (16, 1, 1, 8), in_q=(0.05, 128), w_zp=120, out_q=(0.1, 128))
    _check(path, model, x, vnni=False)


# name: (x shape, units, fc_case options)
FC = {
    "d1_u1": ((1, 1), 1, {}),
    "d37_u19_r3": ((3, 37), 19, dict(act=RELU)),
    "d1280_u1000_r1": ((1, 1280), 1000, dict(in_q=(0.02, -128), out_q=(0.05, -20))),
    "d2001_u40_r5": ((5, 2001), 40, dict(act=RELU6, out_q=(1.0, 0))),
    "d16_u16_r13": ((13, 16), 16, dict(in_q=(0.05, 9))),
    "keep_dims_3d": ((2, 3, 24), 33, dict(keep_num_dims=True)),
    "per_channel": ((4, 50), 21, dict(w_scale=_scales(21), version=11)),
}


@pytest.mark.parametrize("name", FC)
def test_fully_connected(name, path):
    x_shape, units, opts = FC[name]
    model, x = fc_case("int8", x_shape, units, seed=len(name), **opts)
    _check(path, model, x)


def test_fully_connected_two_threads(path, split):
    model, x = fc_case("int8", (256, 515), 250, in_q=(0.05, 4))
    _check(path, model, x, threads=2)
    assert (split[0] > 1) == gemm_vnni.enabled()


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), h=st.integers(1, 9), w=st.integers(1, 9), c=st.integers(1, 70), oc=st.integers(1, 50),
       k=st.sampled_from([1, 2, 3]), stride=st.integers(1, 2), dil=st.integers(1, 2),
       padding=st.sampled_from([SAME, VALID]), act=st.sampled_from([NONE, RELU, RELU6]),
       in_zp=st.integers(-128, 127), out_zp=st.integers(-128, 127), out_scale=st.sampled_from([1e-3, 0.05, 3.0]),
       per_channel=st.booleans(), seed=st.integers(0, 1000))
def test_conv_random(n, h, w, c, oc, k, stride, dil, padding, act, in_zp, out_zp, out_scale, per_channel, seed):
    if padding == VALID and min(h, w) < (k - 1) * dil + 1:
        return  # no output
    model, x = conv_case("int8", (n, h, w, c), (oc, k, k, c), stride=(stride, stride), dilation=(dil, dil),
                         padding=padding, act=act, in_q=(0.05, in_zp), out_q=(out_scale, out_zp), seed=seed,
                         w_scale=_scales(oc) if per_channel else np.float32(0.01))
    want = _run(model, x, "reference")
    assert np.array_equal(_run(model, x, "fast"), want)


def test_without_vnni_on_the_cpu_nothing_changes(monkeypatch):
    monkeypatch.setattr(gemm_vnni, "_cpu_has_vnni", lambda: False)
    calls = []
    monkeypatch.setattr(gemm_vnni, "conv_eval", lambda *a: calls.append(1))
    model, x = conv_case("int8", (1, 5, 5, 8), (16, 1, 1, 8), w_scale=_scales(16))
    assert np.array_equal(_run(model, x, "fast"), _run(model, x, "reference")) and not calls


def test_kernels_that_fail_their_self_test_are_not_used(monkeypatch):
    from eightbit.kernels.fast import vnni_layout as vnni

    def broken():
        raise RuntimeError("LLVM ERROR: Cannot select intrinsic")

    monkeypatch.setattr(vnni, "self_test", broken)
    gemm_vnni._kernels_work.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="VNNI integer GEMM failed to compile.*Cannot select"):
            assert not gemm_vnni._kernels_work()
        monkeypatch.setattr(vnni, "self_test", lambda: False)
        gemm_vnni._kernels_work.cache_clear()
        with pytest.warns(RuntimeWarning, match="wrong results"):
            assert not gemm_vnni._kernels_work()
    finally:
        gemm_vnni._kernels_work.cache_clear()


def test_conv_input_resized_at_run_time(path):
    """Params prepared for one input shape, run on another (batch 3, larger image)."""
    model, _ = conv_case("int8", (1, 6, 6, 10), (20, 3, 3, 10), w_scale=_scales(20), stride=(2, 2), in_q=(0.05, -9))
    x = np.random.default_rng(5).integers(-128, 128, (3, 9, 11, 10)).astype(np.int8)
    got = [run_eightbit(model, [x], kernels)[0] for kernels in ("fast", "reference")]
    assert got[0].shape == (3, 5, 6, 20) and np.array_equal(got[0], got[1])
    assert bool(path[1]) == gemm_vnni.enabled()


def test_conv_depth_at_the_int32_bound(path):
    """K = 65793, the largest with K * 255 * 128 < 2^31: all-extreme operands reach -2^31 + 128
    in the accumulator without wrapping (the output scale keeps the result off the clamps)."""
    k = 65793
    w = np.full((2, 1, 1, k), -128, np.int8)
    w[1, 0, 0, ::2] = 127
    model, x = conv_case("int8", (1, 1, 2, k), (2, 1, 1, k), w_data=w, w_scale=np.float32(0.01), in_q=(0.05, -128),
                         out_q=(20000.0, 0), bias_range=0)
    x[0, 0, 0] = 127
    _check(path, model, x)


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 30), depth=st.integers(1, 300), units=st.integers(1, 70), act=st.sampled_from([NONE, RELU]),
       in_zp=st.integers(-128, 127), out_zp=st.integers(-128, 127), out_scale=st.sampled_from([1e-3, 0.05, 3.0]),
       seed=st.integers(0, 1000))
def test_fully_connected_random(rows, depth, units, act, in_zp, out_zp, out_scale, seed):
    model, x = fc_case("int8", (rows, depth), units, act=act, in_q=(0.05, in_zp), out_q=(out_scale, out_zp), seed=seed)
    assert np.array_equal(_run(model, x, "fast"), _run(model, x, "reference"))


def test_layers_without_bias(path):
    rng = np.random.default_rng(8)
    x_shape, w_shape = (1, 7, 6, 13), (18, 3, 3, 13)
    model = single_op_model("CONV_2D", [
        dict(shape=x_shape, dtype=np.int8, scale=0.05, zero_point=-3),
        dict(shape=w_shape, dtype=np.int8, data=rng.integers(-128, 128, w_shape), scale=_scales(18),
             zero_point=[0] * 18), None],
        [dict(shape=(1, 7, 6, 18), dtype=np.int8, scale=0.02, zero_point=4)],
        options=dict(padding=SAME, stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1,
                     fused_activation_function=NONE), version=3)
    _check(path, model, rng.integers(-128, 128, x_shape).astype(np.int8))
    path[1].clear()
    model, x = fc_case("int8", (3, 45), 17, bias=False, in_q=(0.05, 6))
    _check(path, model, x)
