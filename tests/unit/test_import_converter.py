"""eightbit.TFLiteConverter's import plumbing, on hand-built ImportedGraphs (what importers return).

Float conversion must match torch (the oracle for the hand-built NCHW graph) in eightbit and in
LiteRT, carry TF's versions, min_runtime_version and a serving_default signature; PTQ of an import
must run in LiteRT's reference kernels equal to ours; a QDQ import converts quantized without
optimizations.
"""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.converter import ImporterUnavailableError, ImportReport, TFLiteConverter
from eightbit.importers.common import ImportedGraph
from tests.oracle import run_eightbit, run_litert
from tests.passes.layout_net import Net


def _imported(seed=0):
    n = Net(seed=seed)
    x = n.input((1, 3, 8, 8), name="image")
    y = n.conv(x, 6, act=1)
    y = n.pool(n.depthwise(y), "MAX")
    y = n.reshape(y, (1, 6 * 4 * 4))
    logits = n.fc(y, 4)
    model = n.build([x], [logits])
    model.main.tensors[logits].name = "logits"
    return n, x, logits, ImportedGraph(model, layout="NCHW", notes=["example note"])


def test_float_import_matches_torch_with_versions_and_signature():
    n, x, logits, imported = _imported()
    conv = TFLiteConverter.from_imported(imported)
    data = conv.convert()
    model = eightbit.load(data)
    assert model.min_runtime_version
    assert model.signature_defs[0]["signature_key"] == "serving_default"
    assert [e["name"] for e in model.signature_defs[0]["inputs"]] == ["image"]
    assert [e["name"] for e in model.signature_defs[0]["outputs"]] == ["logits"]
    assert model.main.tensors[model.main.inputs[0]].shape == (1, 8, 8, 3)
    feed = [n.v(x).numpy().transpose(0, 2, 3, 1)]
    want = n.v(logits).numpy()
    for got in (run_eightbit(data, feed)[0], run_litert(data, feed)[0]):
        np.testing.assert_allclose(got, want, atol=1e-4 * max(1, np.abs(want).max()))
    runner = eightbit.Interpreter(model_content=data).get_signature_runner()
    np.testing.assert_allclose(runner(image=feed[0])["logits"], want, atol=1e-4 * max(1, np.abs(want).max()))
    assert isinstance(conv.report, ImportReport) and conv.report.notes == ["example note"]
    assert "TRANSPOSE" not in {op.op_type for op in model.main.operators}  # flatten -> FC: weights reordered
    assert "import: example note" in conv.summary()


def test_keep_io_layout():
    n, x, _, imported = _imported()
    model = eightbit.load(TFLiteConverter.from_imported(imported, io_layout="keep").convert())
    assert model.main.tensors[model.main.inputs[0]].shape == (1, 3, 8, 8)


def test_ptq_of_an_import_runs_in_litert_equal_to_ours():
    n, x, _, imported = _imported(seed=2)
    conv = TFLiteConverter.from_imported(imported)
    rng = np.random.default_rng(0)
    conv.optimizations = [eightbit.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([rng.standard_normal((1, 8, 8, 3)).astype(np.float32)] for _ in range(8))
    conv.target_spec.supported_ops = [eightbit.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = np.int8
    data = conv.convert()
    assert conv.report.mode == "int8" and conv.report.quantized_ops.get("CONV_2D") == 1
    feed = [rng.integers(-128, 128, (1, 8, 8, 3)).astype(np.int8)]
    np.testing.assert_array_equal(run_eightbit(data, feed)[0], run_litert(data, feed)[0])


def _qdq_imported():
    """input -> Q -> DQ -> CONV (int8 per-channel weight -> DQ) -> Q -> DQ -> output, NCHW."""
    from eightbit.ir.builder import ModelBuilder

    b = ModelBuilder()
    rng = np.random.default_rng(4)
    x = b.tensor("x", (1, 2, 4, 4))
    xq = b.tensor("x_q", (1, 2, 4, 4), np.int8, scale=0.02, zero_point=3)
    xd = b.tensor("x_dq", (1, 2, 4, 4))
    w = b.tensor("w", (3, 2, 3, 3), np.int8, data=rng.integers(-127, 128, (3, 2, 3, 3)), scale=[0.01, 0.02, 0.03],
                 zero_point=[0, 0, 0], quantized_dimension=0)
    wd = b.tensor("w_dq", (3, 2, 3, 3))
    bias = b.const("bias", np.zeros(3, np.float32))
    y = b.tensor("y", (1, 3, 4, 4))
    yq = b.tensor("y_q", (1, 3, 4, 4), np.int8, scale=0.05, zero_point=-2)
    yd = b.tensor("out", (1, 3, 4, 4))
    b.op("QUANTIZE", [x], [xq])
    b.op("DEQUANTIZE", [xq], [xd])
    b.op("DEQUANTIZE", [w], [wd])
    b.op("CONV_2D", [xd, wd, bias], [y], {"padding": 0, "stride_w": 1, "stride_h": 1}, "Conv2DOptions",
         extra={"layout": "NCHW"})
    b.op("QUANTIZE", [y], [yq])
    b.op("DEQUANTIZE", [yq], [yd])
    return ImportedGraph(b.inputs(x).outputs(yd).build(), layout="NCHW", quantized=True)


def test_quantized_import_converts_quantized_without_optimizations():
    conv = TFLiteConverter.from_imported(_qdq_imported())
    data = conv.convert()
    model = eightbit.load(data)
    convs = [op for op in model.main.operators if op.op_type == "CONV_2D"]
    assert len(convs) == 1
    sg = model.main
    assert sg.tensors[convs[0].inputs[0]].type == "INT8"
    w = sg.tensors[convs[0].inputs[1]]
    assert w.shape == (3, 3, 3, 2) and w.quantization.quantized_dimension == 0
    assert np.allclose(w.quantization.scale, [0.01, 0.02, 0.03])
    assert sg.tensors[convs[0].outputs[0]].quantization.zero_point.tolist() == [-2]
    feed = [np.random.default_rng(1).uniform(-2, 2, (1, 4, 4, 2)).astype(np.float32)]
    np.testing.assert_array_equal(run_eightbit(data, feed)[0], run_litert(data, feed)[0])


def test_from_torch_wants_a_module():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        TFLiteConverter.from_torch(object(), ())


def test_saved_model_needs_tensorflow():
    with pytest.raises(ImporterUnavailableError, match="ONNX"):
        TFLiteConverter.from_saved_model("saved_model_dir")


def test_bad_io_layout():
    with pytest.raises(ValueError, match="io_layout"):
        TFLiteConverter.from_imported(_imported()[3], io_layout="NCHW")


def test_package_exports_the_importing_converter():
    assert eightbit.TFLiteConverter is TFLiteConverter
    assert hasattr(eightbit.TFLiteConverter, "from_tflite")


def test_quantized_import_with_integer_io_keeps_edge_names():
    conv = TFLiteConverter.from_imported(_qdq_imported())
    conv.inference_input_type = conv.inference_output_type = np.int8
    data = conv.convert()
    sg = eightbit.load(data).main
    assert [(sg.tensors[i].name, sg.tensors[i].type) for i in sg.inputs + sg.outputs] == [("x", "INT8"), ("out", "INT8")]
    assert [op.op_type for op in sg.operators] == ["CONV_2D"]
    assert sg.tensors[sg.inputs[0]].quantization.zero_point.tolist() == [3]
    feed = [np.random.default_rng(2).integers(-128, 128, (1, 4, 4, 2)).astype(np.int8)]
    np.testing.assert_array_equal(run_eightbit(data, feed)[0], run_litert(data, feed)[0])
    conv.inference_input_type = conv.inference_output_type = np.float32  # the converter is reusable
    assert eightbit.load(conv.convert()).main.tensors[0].type == "FLOAT32"
    conv.inference_input_type = np.uint8
    with pytest.raises(ValueError, match="not quantized to uint8"):
        conv.convert()
