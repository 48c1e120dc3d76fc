"""PTQ on what published models contain: float16 / sparse weights behind DEQUANTIZE / DENSIFY,
constants shared by several operators, the legacy metadata_buffer, signature defs.

Every converted file is also checked by tests/conftest.py (our verifier + LiteRT runs it)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

import eightbit
from eightbit.ir.builder import ModelBuilder
from eightbit.quantize.converter import OpsSet, Optimize, TFLiteConverter
from tests.oracle import run_eightbit, run_litert

MP = Path(__file__).resolve().parents[1] / "data" / "mediapipe"
SHORT = MP / "face_detection_short_range.tflite"
SPARSE = MP / "face_detection_full_range_sparse.tflite"


def convert(model, mode, data=None):
    conv = TFLiteConverter.from_model(model if isinstance(model, eightbit.Model) else eightbit.load(model))
    conv.optimizations = [Optimize.DEFAULT]
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    if mode in ("int8", "int16x8"):
        conv.representative_dataset = lambda: ([x] for x in data)
    if mode == "int16x8":
        conv.target_spec.supported_ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                                          OpsSet.TFLITE_BUILTINS]
    return conv.convert(), conv.report


def ops(model_bytes):
    return sorted({op.op_type for op in eightbit.load(model_bytes).main.operators})


def _float16_conv_model():
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    x = b.tensor("x", (1, 6, 6, 8))
    w16 = b.const("w_f16", rng.normal(0, 0.3, (16, 3, 3, 8)).astype(np.float16))  # >= 1024 elements
    w = b.tensor("w", (16, 3, 3, 8))
    b.op("DEQUANTIZE", [w16], [w], version=3, options_type="DequantizeOptions")
    bias = b.const("bias", rng.normal(0, 0.1, 16).astype(np.float32))
    y = b.tensor("y", (1, 6, 6, 16))
    b.op("CONV_2D", [x, w, bias], [y], {"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": 0,
                                        "dilation_w_factor": 1, "dilation_h_factor": 1}, options_type="Conv2DOptions")
    return b.inputs(x).outputs(y).build(), [rng.uniform(-1, 1, (1, 6, 6, 8)).astype(np.float32) for _ in range(8)]


@pytest.mark.parametrize("mode", ["dynamic", "float16", "int8", "int16x8"])
def test_float16_weights_behind_dequantize_are_quantized(mode):
    model, data = _float16_conv_model()
    out, rep = convert(model, mode, data)
    assert rep.passes["fold_stored_weights"] == 1
    m = eightbit.load(out)
    conv = next(op for op in m.main.operators if op.op_type == "CONV_2D")
    weight = m.main.tensors[conv.inputs[1]]
    if mode == "float16":
        # TF's float16 model: float16 constant, DEQUANTIZE, float CONV_2D
        assert ops(out) == ["CONV_2D", "DEQUANTIZE"] and not weight.is_constant
    else:
        assert weight.is_constant and weight.type == "INT8"  # quantized, not left float
        assert not any("not constant" in why for _, _, why in rep.float_ops)
    x = data[0]
    ours = run_eightbit(out, [x])[0]
    np.testing.assert_allclose(ours, run_litert(out, [x])[0], atol=1e-5 * float(np.abs(ours).max()) + 1e-6)


def test_dynamic_range_sees_float16_weights_of_a_real_model():
    out, rep = convert(SHORT, "dynamic")
    assert rep.passes["fold_stored_weights"] == 74 and len(rep.quantized_weights) >= 16
    assert not any("unchanged" in w for w in rep.warnings)


def test_sparse_weights_behind_densify_are_folded():
    from eightbit.passes.fold_weights import fold_stored_weights

    model = eightbit.load(SPARSE)
    assert fold_stored_weights(model) == 46 + 182  # DENSIFY + DEQUANTIZE
    x = np.random.default_rng(1).uniform(-1, 1, (1, 192, 192, 3)).astype(np.float32)
    # the folded float model computes what the sparse float16 one does, in LiteRT itself
    for g, w in zip(run_litert(model.to_bytes(), [x]), run_litert(SPARSE.read_bytes(), [x])):
        np.testing.assert_allclose(g, w, atol=1e-5 * float(np.abs(w).max()))
    out, rep = convert(SPARSE, "dynamic")
    assert "DENSIFY" not in ops(out) and len(rep.quantized_weights) > 0
    for g, w in zip(run_eightbit(out, [x]), run_litert(out, [x])):
        np.testing.assert_allclose(g, w, atol=1e-4 * float(np.abs(w).max()))


@pytest.mark.parametrize("mode", ["dynamic", "float16", "int8"])
def test_metadata_buffer_and_metadata_survive(mode):
    src = eightbit.load(SHORT)
    data = [np.random.default_rng(k).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32) for k in range(2)]
    out, _ = convert(src, mode, data)
    m = eightbit.load(out)  # used to raise: metadata_buffer[0] past the last buffer
    assert [b.data for b in m.extra["metadata_buffer"]] == [b.data for b in src.extra["metadata_buffer"]]
    by_name = {md.name: md.buffer.data for md in m.metadata}
    assert by_name["TFLITE_METADATA"] == next(md.buffer.data for md in src.metadata if md.name == "TFLITE_METADATA")


def _shared_clamp_model():
    """One constant 0.05 feeds three MAXIMUM ops whose outputs have very different ranges."""
    b = ModelBuilder()
    x = b.tensor("x", (1, 16))
    c = b.const("floor", np.full((1, 16), 0.05, np.float32))
    outs = []
    for k, gain in enumerate((1.0, 40.0, 0.2)):
        g = b.const(f"gain{k}", np.full((1, 16), gain, np.float32))
        s, y = b.tensor(f"s{k}", (1, 16)), b.tensor(f"y{k}", (1, 16))
        b.op("MUL", [x, g], [s], {"fused_activation_function": 0}, options_type="MulOptions")
        b.op("MAXIMUM", [s, c], [y], options_type="MaximumMinimumOptions")
        outs.append(y)
    data = [np.random.default_rng(k).uniform(-1, 1, (1, 16)).astype(np.float32) for k in range(16)]
    return b.inputs(x).outputs(*outs).build(), data


@pytest.mark.parametrize("mode", ["int8", "int16x8"])
def test_shared_constant_gets_a_copy_per_reader(mode):
    model, data = _shared_clamp_model()
    out, rep = convert(model, mode, data)
    assert rep.passes["split_shared_constants"] == 2
    m = eightbit.load(out)
    sg = m.main
    readers = [op for op in sg.operators if op.op_type == "MAXIMUM"]
    consts = [sg.tensors[i] for op in readers for i in op.inputs if sg.tensors[i].is_constant]
    assert len({id(t) for t in consts}) == 3
    for t in consts:  # each copy, read under its own parameters, is the clamp value to one step
        qp = t.quantization
        real = (t.data.astype(np.float64) - qp.zero_point[0]) * qp.scale[0]
        assert np.abs(real - 0.05).max() <= qp.scale[0] * 0.5 + 1e-9
    for x in data[:4]:
        for g, w in zip(run_eightbit(out, [x]), run_litert(out, [x])):
            np.testing.assert_array_equal(g, w)


def test_identical_quantized_copies_share_one_buffer():
    b = ModelBuilder()
    x = b.tensor("x", (1, 8))
    w = b.const("w", np.random.default_rng(0).normal(0, 1, (8, 8)).astype(np.float32))
    h, y = b.tensor("h", (1, 8)), b.tensor("y", (1, 8))
    b.op("FULLY_CONNECTED", [x, w], [h], {"fused_activation_function": 0}, options_type="FullyConnectedOptions")
    b.op("FULLY_CONNECTED", [h, w], [y], {"fused_activation_function": 0}, options_type="FullyConnectedOptions")
    data = [np.random.default_rng(k).uniform(-1, 1, (1, 8)).astype(np.float32) for k in range(8)]
    out, rep = convert(b.inputs(x).outputs(y).build(), "int8", data)
    m = eightbit.load(out)
    fcs = [op for op in m.main.operators if op.op_type == "FULLY_CONNECTED"]
    w0, w1 = (m.main.tensors[op.inputs[1]] for op in fcs)
    assert w0 is not w1 and w0.buffer is w1.buffer  # per-channel int8 weights are equal: one buffer


def test_float16_warns_once_about_values_it_changes(caplog):
    b = ModelBuilder()
    x = b.tensor("x", (1, 2048))
    eps = b.const("eps", np.full((1, 2048), 1e-10, np.float32))
    big = b.const("big", np.full((1, 2048), 1e6, np.float32))
    s, y = b.tensor("s", (1, 2048)), b.tensor("y", (1, 2048))
    b.op("ADD", [x, eps], [s], {"fused_activation_function": 0}, options_type="AddOptions")
    b.op("MUL", [s, big], [y], {"fused_activation_function": 0}, options_type="MulOptions")
    with caplog.at_level(logging.WARNING, logger="eightbit"):
        _, rep = convert(b.inputs(x).outputs(y).build(), "float16")
    lossy = [w for w in rep.warnings if w.startswith("float16 weights change results")]
    assert len(lossy) == 1 and "become 0 in 1 constant(s) (eps)" in lossy[0] and "infinite in 1 constant(s) (big)" in lossy[0]


def test_signature_defs_follow_the_rewrites():
    from ai_edge_litert.interpreter import Interpreter

    src = Path(__file__).resolve().parents[1] / "data" / "conformance" / "models" / "cnn__float32.tflite"
    data = [np.random.default_rng(k).uniform(-1, 1, (1, 8, 8, 1)).astype(np.float32) for k in range(4)]
    for mode in ("dynamic", "float16", "int8"):
        out, _ = convert(src, mode, data)
        it = Interpreter(model_content=out)
        runner = it.get_signature_runner()
        (name,) = runner.get_input_details()
        result = runner(**{name: data[0]})
        m = eightbit.load(out)
        sd = m.signature_defs[0]
        assert [m.main.tensors[e["tensor_index"]].name for e in sd["inputs"]] == \
            [m.main.tensors[i].name for i in m.main.inputs]
        assert set(result) == {e["name"] for e in sd["outputs"]}
