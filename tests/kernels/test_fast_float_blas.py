"""Which float32 GEMMs the fast path sums through BLAS (fastpath.choose_kernels), and what that
keeps: a model in which a float value is quantized at run time keeps TFLite's summation order
everywhere (bit-exact on every tensor); an all-float model runs BLAS, within the fast-vs-reference
float tolerance."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.interpreter import fastpath
from eightbit.ir.builder import ModelBuilder
from eightbit.kernels.fast import HAVE_NUMBA
from eightbit.kernels.registry import get_kernel
from tests.fuzz.fast_vs_reference import close, identical
from tests.kernels.test_hybrid_after_float import _dynamic_range_chain

CONV = {"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": 0,
        "dilation_w_factor": 1, "dilation_h_factor": 1}


def _float_net(tail: str | None = None, seed=0):
    """x -> CONV_2D 3x3 -> CONV_2D 1x1 (RELU6) -> FULLY_CONNECTED, then `tail`: None, "quantize"
    (QUANTIZE float -> int8), "hybrid" (FULLY_CONNECTED with int8 weights), "custom", "cast"."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.tensor("x", (2, 8, 8, 5))
    h1 = b.tensor("h1", (2, 8, 8, 12))
    b.op("CONV_2D", [x, b.const("w1", rng.normal(0, 0.3, (12, 3, 3, 5)).astype(np.float32)),
                     b.const("b1", rng.normal(0, 0.1, 12).astype(np.float32))], [h1], CONV,
         options_type="Conv2DOptions")
    h2 = b.tensor("h2", (2, 8, 8, 16))
    b.op("CONV_2D", [h1, b.const("w2", rng.normal(0, 0.3, (16, 1, 1, 12)).astype(np.float32)), -1], [h2],
         {**CONV, "fused_activation_function": 3, "padding": 1}, options_type="Conv2DOptions")
    flat = b.tensor("flat", (2, 1024))
    b.op("RESHAPE", [h2, b.const("shape", np.array([2, 1024], np.int32))], [flat], options_type="ReshapeOptions")
    y = b.tensor("y", (2, 10))
    b.op("FULLY_CONNECTED", [flat, b.const("wf", rng.normal(0, 0.05, (10, 1024)).astype(np.float32))], [y],
         {"fused_activation_function": 0}, options_type="FullyConnectedOptions")
    outs = [y]
    if tail == "quantize":
        q = b.tensor("q", (2, 10), np.int8, scale=0.05, zero_point=3)
        b.op("QUANTIZE", [y], [q])
        outs = [q]
    elif tail == "hybrid":
        z = b.tensor("z", (2, 4))
        w = b.tensor("wq", (4, 10), np.int8, data=rng.integers(-127, 128, (4, 10)).astype(np.int8), scale=0.02,
                     zero_point=0)
        b.op("FULLY_CONNECTED", [y, w], [z], {"fused_activation_function": 0}, options_type="FullyConnectedOptions")
        outs = [z]
    elif tail in ("custom", "mediapipe"):
        z = b.tensor("z", (2, 10))
        b.op("CUSTOM", [y], [z], custom_code="Whatever" if tail == "custom" else "Convolution2DTransposeBias")
        outs = [z]
    elif tail == "cast":
        z = b.tensor("z", (2, 10), np.int8)
        b.op("CAST", [y], [z], options_type="CastOptions")
        outs = [z]
    return b.inputs(x).outputs(*outs).build()


@pytest.mark.parametrize("tail, blas", [(None, True), ("quantize", False), ("hybrid", False), ("custom", False),
                                        ("cast", False), ("mediapipe", True)])
def test_floats_stay_float(tail, blas):
    assert fastpath.floats_stay_float(_float_net(tail)) is blas


def test_dynamic_range_model_is_not_blas():
    assert not fastpath.floats_stay_float(eightbit.load(_dynamic_range_chain(True)))


def _chosen(model, mode="fast", with_model=True):
    ops = model.subgraphs[0].operators
    kernels = fastpath.choose_kernels(ops, [get_kernel(op.op_type) for op in ops], mode,
                                      model=model if with_model else None)
    return {op.op_type: k.__name__ for op, k in zip(ops, kernels) if op.op_type in ("CONV_2D", "FULLY_CONNECTED")}


def test_kernel_choice():
    model = _float_net()
    assert _chosen(model) == {"CONV_2D": "FastConv2DBlas", "FULLY_CONNECTED": "FastFullyConnectedBlas"}
    assert _chosen(model, with_model=False) == {"CONV_2D": "FastConv2D", "FULLY_CONNECTED": "FastFullyConnected"}
    assert _chosen(_float_net("quantize")) == {"CONV_2D": "FastConv2D", "FULLY_CONNECTED": "FastFullyConnected"}
    assert _chosen(model, "reference") == {"CONV_2D": "Conv2D", "FULLY_CONNECTED": "FullyConnected"}


def _every_tensor(model_bytes, x, kernels):
    it = eightbit.Interpreter(model_content=model_bytes, kernels=kernels, experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return {d["index"]: it.get_tensor(d["index"]) for d in it.get_tensor_details()}


@pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones")
@pytest.mark.parametrize("tail", [None, "quantize", "hybrid"])
def test_fast_against_reference_on_every_tensor(tail):
    """All-float: BLAS, close (and not all identical: the BLAS path really runs); a float value
    quantized at the end: the ordered sum everywhere, identical bit for bit."""
    data = _float_net(tail).to_bytes()
    rng = np.random.default_rng(5)
    differ = 0
    for k in range(6):
        x = (rng.normal(size=(2, 8, 8, 5)) * [1.0, 30.0, 1e-3][k % 3]).astype(np.float32)
        fast, ref = _every_tensor(data, x, "fast"), _every_tensor(data, x, "reference")
        for i in ref:
            if tail is None:
                assert close(fast[i], ref[i]), f"input {k}, tensor {i}"
                differ += not identical(fast[i], ref[i])
            else:
                assert identical(fast[i], ref[i]), f"input {k}, tensor {i}"
    if tail is None:
        assert differ > 0


def _float16_weights_net(tail: str | None, seed=1):
    """float16 weights DEQUANTIZEd at run time (MediaPipe's models) into CONV_2D, DEPTHWISE_CONV_2D
    and FULLY_CONNECTED: the fast kernels take the filters from their inputs at eval."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()

    def runtime(name, value):
        half = b.const(name + "16", value.astype(np.float16))
        full = b.tensor(name, value.shape)
        b.op("DEQUANTIZE", [half], [full])
        return full

    x = b.tensor("x", (2, 7, 7, 4))
    h1 = b.tensor("h1", (2, 7, 7, 6))
    b.op("CONV_2D", [x, runtime("w1", rng.normal(0, 0.3, (6, 3, 3, 4))), runtime("b1", rng.normal(0, 0.1, 6))],
         [h1], CONV, options_type="Conv2DOptions")
    h2 = b.tensor("h2", (2, 7, 7, 6))
    b.op("DEPTHWISE_CONV_2D", [h1, runtime("w2", rng.normal(0, 0.3, (1, 3, 3, 6))), runtime("b2", rng.normal(0, .1, 6))],
         [h2], {**CONV, "depth_multiplier": 1, "fused_activation_function": 3}, options_type="DepthwiseConv2DOptions")
    flat = b.tensor("flat", (2, 294))
    b.op("RESHAPE", [h2, b.const("shape", np.array([2, 294], np.int32))], [flat], options_type="ReshapeOptions")
    y = b.tensor("y", (2, 10))
    b.op("FULLY_CONNECTED", [flat, runtime("wf", rng.normal(0, 0.05, (10, 294)))], [y],
         {"fused_activation_function": 0}, options_type="FullyConnectedOptions")
    outs = [y]
    if tail == "quantize":
        q = b.tensor("q", (2, 10), np.int8, scale=0.05, zero_point=3)
        b.op("QUANTIZE", [y], [q])
        outs = [q]
    return b.inputs(x).outputs(*outs).build()


@pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones")
@pytest.mark.parametrize("tail", [None, "quantize"])
def test_weights_computed_at_run_time(tail):
    model = _float16_weights_net(tail)
    params = eightbit.Interpreter(model_content=model.to_bytes())
    params.allocate_tensors()
    names = {type(p).__name__ for p in params.get_subgraph_runner().params}
    assert {"FastConvParams", "FastDepthwiseParams", "FastFCParams"} <= names
    rng = np.random.default_rng(2)
    for k in range(3):
        x = (rng.normal(size=(2, 7, 7, 4)) * [1.0, 20.0, 1e-3][k]).astype(np.float32)
        fast, ref = _every_tensor(model.to_bytes(), x, "fast"), _every_tensor(model.to_bytes(), x, "reference")
        for i in ref:
            ok = close(fast[i], ref[i]) if tail is None else identical(fast[i], ref[i])
            assert ok, f"input {k}, tensor {i}"


@pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones")
def test_run_time_weights_reused_across_invokes(monkeypatch):
    """The DEQUANTIZEd constants come back as the same read-only arrays, and the layers keep their
    layout of them: invoke after invoke, the same results as fresh reference runs."""
    monkeypatch.setenv("EIGHTBIT_GRAPH_RUNNER", "0")  # the plan's fast kernels, not the graph runner
    data = _float16_weights_net("quantize").to_bytes()
    it = eightbit.Interpreter(model_content=data)
    it.allocate_tensors()
    rng = np.random.default_rng(4)
    for k in range(3):
        x = rng.normal(size=(2, 7, 7, 4)).astype(np.float32)
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        got = it.get_tensor(it.get_output_details()[0]["index"])
        ref = _every_tensor(data, x, "reference")
        assert identical(got, ref[it.get_output_details()[0]["index"]]), f"invoke {k}"
    layers = ("FastConvParams", "FastDepthwiseParams", "FastFCParams")
    memos = [p.memo for p in it.get_subgraph_runner().params if type(p).__name__ in layers]
    assert len(memos) == 3 and all("params" in m for m in memos)


@pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones")
@pytest.mark.parametrize("tail", [None, "quantize"])
def test_thread_count_changes_no_bit(tail, monkeypatch):
    """Every layer split over 2 threads (even the small ones): the same bits as 1 thread, BLAS
    GEMMs included (their row blocks do not depend on the thread count)."""
    from eightbit.kernels.fast import jit

    monkeypatch.setattr(jit, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(fastpath_conv(), "FLOAT_BLOCK_ROWS", 16)  # several BLAS blocks per layer
    data = _float_net(tail).to_bytes()
    x = np.random.default_rng(9).normal(size=(2, 8, 8, 5)).astype(np.float32)
    outs = []
    for threads in (1, 2):
        it = eightbit.Interpreter(model_content=data, num_threads=threads)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs.append(it.get_tensor(it.get_output_details()[0]["index"]))
    assert identical(outs[0], outs[1])


def fastpath_conv():
    from eightbit.kernels.fast import conv

    return conv
