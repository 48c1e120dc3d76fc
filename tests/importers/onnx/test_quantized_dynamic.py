"""onnxruntime's quantize_dynamic models (DynamicQuantizeLinear + MatMulInteger / ConvInteger)
convert to TFLite's hybrid operators: int8 weights, float activations quantized per row at run time.

Oracles: onnxruntime runs the dynamic-quantized ONNX model; LiteRT's reference kernels run ours.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.importers.onnx.test_quantized import CNN, MLP, digits, export, trained
from tests.oracle import run_eightbit, run_litert

ort = pytest.importorskip("onnxruntime")
Q = pytest.importorskip("onnxruntime.quantization")

import eightbit  # noqa: E402


@pytest.mark.parametrize("cls, per_channel, hybrids", [
    (MLP, False, {"FULLY_CONNECTED": 3}),
    (MLP, True, {"FULLY_CONNECTED": 3}),
    (CNN, True, {"CONV_2D": 4, "DEPTHWISE_CONV_2D": 1, "FULLY_CONNECTED": 1}),  # 2 for the grouped conv
])
def test_quantize_dynamic_models_become_hybrid_ops(tmp_path, cls, per_channel, hybrids):
    float_path, path = str(tmp_path / "f.onnx"), str(tmp_path / "d.onnx")
    export(trained(cls, steps=60), float_path)
    Q.quantize_dynamic(float_path, path, weight_type=Q.QuantType.QInt8, per_channel=per_channel)
    conv = eightbit.TFLiteConverter.from_onnx(path)
    data = conv.convert()
    notes = conv.report.notes
    assert not [n for n in notes if n.startswith("left float")], notes
    sg = eightbit.load(data).main
    found = {}
    for op in sg.operators:
        types = [sg.tensors[t].type for t in op.inputs if t >= 0]
        if "INT8" in types:
            assert types[0] == "FLOAT32" and sg.tensors[op.outputs[0]].type == "FLOAT32", op.op_type
            found[op.op_type] = found.get(op.op_type, 0) + 1
    assert found == hybrids
    # the MUL by the scales and the ADD of the bias were absorbed into the hybrid ops (except
    # after a grouped convolution's CONCATENATION of its groups)
    producers = {t: op.op_type for op in sg.operators for t in op.outputs}
    assert all(producers.get(op.inputs[0]) == "CONCATENATION" for op in sg.operators if op.op_type == "MUL")
    assert sum(n.startswith("hybrid ") for n in notes) == sum(hybrids.values())
    x, _, _ = digits()
    x = x[:100]
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    want = np.concatenate([session.run(None, {"x": s[None]})[0] for s in x])
    nhwc = tuple(sg.tensors[sg.inputs[0]].shape) == (1, 8, 8, 1)
    feeds = [s[None].transpose(0, 2, 3, 1) if nhwc else s[None] for s in x]
    got = np.concatenate([run_litert(data, [f])[0] for f in feeds])
    ours = np.concatenate([run_eightbit(data, [f])[0] for f in feeds])
    scale = float(np.max(np.abs(want)))
    np.testing.assert_allclose(ours, got, rtol=0, atol=1e-5 * scale)
    assert np.max(np.abs(got - want)) <= 0.01 * scale
    assert np.mean(got.argmax(-1) == want.argmax(-1)) >= 0.99
