"""Imported float ONNX models go through int8 PTQ to .tflite files that LiteRT's reference kernels
run with outputs equal to eightbit's (integer arithmetic, bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest

from eightbit.converter import Optimize, TFLiteConverter
from tests.importers.onnx.test_architectures import exported, to_tflite_inputs
from tests.oracle import assert_same_as_litert, run_eightbit

pytest.importorskip("torch")


def quantize(proto, samples, int8_io: bool):
    conv = TFLiteConverter.from_onnx(proto)
    conv.optimizations = [Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([s] for s in samples)
    if int8_io:
        conv.inference_input_type = np.int8
        conv.inference_output_type = np.int8
    return conv.convert()


@pytest.mark.parametrize("name, int8_io", [("mobilenetv2", False), ("resnet", True), ("unet", False),
                                           ("audio1d", True), ("encoder", False), ("detector", False)])
def test_ptq_of_imported_model_runs_in_litert_like_eightbit(name, int8_io):
    proto, x = exported(name, dynamo=False)
    float_data = TFLiteConverter.from_onnx(proto).convert()
    rng = np.random.default_rng(0)
    samples = [to_tflite_inputs(float_data, rng.standard_normal(x.shape).astype(np.float32)) for _ in range(8)]
    data = quantize(proto, samples, int8_io)
    from eightbit import load

    types = {load(data).main.tensors[op.outputs[0]].type for op in load(data).main.operators}
    assert "INT8" in types
    xin = samples[0]
    if int8_io:
        from eightbit import Interpreter

        det = Interpreter(model_content=data).get_input_details()[0]
        scale, zp = det["quantization"]
        xin = np.clip(np.round(xin / scale) + zp, -128, 127).astype(np.int8)
    assert_same_as_litert(data, [xin])
    # and the quantized model still computes the float model's function (loosely: 8-bit)
    if not int8_io:
        want = run_eightbit(float_data, [xin])
        got = run_eightbit(data, [xin])
        for g, w in zip(got, want):
            assert np.max(np.abs(g - w)) <= 0.15 * max(np.max(np.abs(w)), 1e-3) + 0.05
