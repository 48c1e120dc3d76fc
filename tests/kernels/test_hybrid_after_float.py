"""A hybrid (dynamic-range) operator after a float CONV_2D, on many random inputs, bit for bit
against LiteRT's reference kernels.

The hybrid operator quantizes its float input on the fly, so any last-bit difference in the float
CONV_2D before it becomes a whole quantum in its output (TF's dynamic-range MobileNetV2 showed
~0.3% of a hybrid CONV_2D's outputs off by up to 1.5e-2 in a full-model run). The float CONV_2D
therefore sums in TFLite's reference order (kernels/float_sequential.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eightbit.ir.builder import ModelBuilder
from eightbit.quantize.converter import Optimize, TFLiteConverter
from tests.oracle import run_eightbit, run_litert

CONV = {"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": 0,
        "dilation_w_factor": 1, "dilation_h_factor": 1}


def _dynamic_range_chain(per_channel: bool, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.tensor("x", (2, 9, 9, 6))
    w1 = b.const("w1", rng.normal(0, 0.4, (8, 3, 3, 6)).astype(np.float32))  # 432 < 1024: stays float
    b1 = b.const("b1", rng.normal(0, 0.1, 8).astype(np.float32))
    h = b.tensor("h", (2, 9, 9, 8))
    b.op("CONV_2D", [x, w1, b1], [h], CONV, options_type="Conv2DOptions", version=1)
    w2 = b.const("w2", rng.normal(0, 0.2, (24, 3, 3, 8)).astype(np.float32))  # 1728: hybrid
    b2 = b.const("b2", rng.normal(0, 0.1, 24).astype(np.float32))
    y = b.tensor("y", (2, 9, 9, 24))
    b.op("CONV_2D", [h, w2, b2], [y], {**CONV, "fused_activation_function": 1}, options_type="Conv2DOptions")
    wf = b.const("wf", rng.normal(0, 0.1, (10, 24 * 81)).astype(np.float32))
    flat = b.tensor("flat", (2, 24 * 81))
    b.op("RESHAPE", [y, b.const("shape", np.array([2, 24 * 81], np.int32))], [flat], options_type="ReshapeOptions")
    z = b.tensor("z", (2, 10))
    b.op("FULLY_CONNECTED", [flat, wf], [z], {"fused_activation_function": 0}, options_type="FullyConnectedOptions")
    conv = TFLiteConverter.from_model(b.inputs(x).outputs(y, z).build())
    conv.optimizations = [Optimize.DEFAULT]
    conv.per_channel = per_channel
    out = conv.convert()
    assert len(conv.report.quantized_weights) == 2  # the second CONV_2D and the FULLY_CONNECTED
    return out


@pytest.mark.parametrize("per_channel", [True, False])
def test_hybrid_after_float_conv_is_bit_exact_on_many_inputs(per_channel):
    model = _dynamic_range_chain(per_channel)
    rng = np.random.default_rng(1)
    for k in range(24):
        scale = [1.0, 255.0, 1e-3, 40.0][k % 4]
        x = (rng.normal(size=(2, 9, 9, 6)) * scale).astype(np.float32)
        for j, (got, want) in enumerate(zip(run_eightbit(model, [x]), run_litert(model, [x]))):
            bad = int((got != want).sum())
            assert bad == 0, f"input {k}: output {j}: {bad} of {want.size} differ, max {np.abs(got - want).max()}"


def test_float_conv_sums_in_reference_order():
    from eightbit.kernels.float_sequential import matmul_sequential

    rng = np.random.default_rng(3)
    a = (rng.normal(size=(50, 300)) * 10).astype(np.float32)
    b = rng.normal(size=(300, 7)).astype(np.float32)
    got = matmul_sequential(a, b)
    want = np.zeros((50, 7), np.float32)
    for t in range(300):  # the reference loop, one float32 rounding per product and per sum
        want = (want + (a[:, t, None] * b[None, t, :]).astype(np.float32)).astype(np.float32)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op, shapes", [
    ("FULLY_CONNECTED", [(4, 1280), (100, 1280)]),
    ("BATCH_MATMUL", [(2, 30, 200), (2, 200, 20)]),
    ("BATCH_MATMUL", [(3, 1, 16, 64), (5, 64, 8)]),  # broadcast batch dimensions
])
def test_float_matrix_products_are_bit_exact(op, shapes):
    """The reference kernels bit for bit; the fast path of an all-float model (no value quantized
    at run time) sums through BLAS: within the fast-vs-reference float tolerance."""
    import eightbit
    from tests.fuzz.fast_vs_reference import close
    from tests.oracle import single_op_model

    rng = np.random.default_rng(len(shapes[0]))
    a = (rng.normal(size=shapes[0]) * 3).astype(np.float32)
    b = rng.normal(size=shapes[1]).astype(np.float32)
    if op == "FULLY_CONNECTED":
        model = single_op_model(op, [dict(shape=a.shape), dict(shape=b.shape, data=b)],
                                [dict(shape=(a.shape[0], b.shape[0]))], {"fused_activation_function": 0})
        inputs = [a]
    else:
        out = np.matmul(a, b).shape
        model = single_op_model(op, [dict(shape=a.shape), dict(shape=b.shape)], [dict(shape=out)],
                                {"adj_x": False, "adj_y": False})
        inputs = [a, b]
    want = run_litert(model, inputs)[0]
    got = {}
    for kernels in ("reference", "fast"):
        it = eightbit.Interpreter(model_content=model, kernels=kernels)
        it.allocate_tensors()
        for det, x in zip(it.get_input_details(), inputs):
            it.set_tensor(det["index"], x)
        it.invoke()
        got[kernels] = it.get_tensor(it.get_output_details()[0]["index"])
    np.testing.assert_array_equal(got["reference"], want)
    assert close(got["fast"], want)


BENCH = Path(__file__).resolve().parents[3] / "shared" / "bench" / "mobilenetv2_1.0_224_float32.tflite"


@pytest.mark.slow
@pytest.mark.skipif(not BENCH.exists(), reason="shared/bench is not beside the repository")
def test_dynamic_range_mobilenet_v2_every_tensor_bit_exact():
    """The issue's case: dynamic-range MobileNetV2 on inputs unlike the corpus samples; every
    tensor up to the float SOFTMAX equals LiteRT's reference kernels bit for bit."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    import eightbit

    conv = TFLiteConverter.from_tflite(str(BENCH))
    conv.optimizations = [Optimize.DEFAULT]
    model = conv.convert()
    ref = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                      experimental_preserve_all_tensors=True)
    ours = eightbit.Interpreter(model_content=model, experimental_preserve_all_tensors=True)
    for it in (ref, ours):
        it.allocate_tensors()
    sg = eightbit.load(model).main
    checked = [op.outputs[0] for op in sg.operators if op.op_type != "SOFTMAX"]
    rng = np.random.default_rng(11)
    for k in range(3):
        x = [rng.uniform(-1, 1, (1, 224, 224, 3)), rng.uniform(0, 255, (1, 224, 224, 3)),
             rng.normal(0, 2, (1, 224, 224, 3))][k].astype(np.float32)
        for it in (ref, ours):
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
        for i in checked:
            np.testing.assert_array_equal(ours.get_tensor(i), ref.get_tensor(i), err_msg=f"input {k}, tensor {i}")
