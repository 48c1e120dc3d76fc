"""`eightbit convert`: ONNX (float, quantized on the way), Keras files, tflite_convert's flags, refusals.

ONNX models are exported from small torch modules here; torch is the oracle for float outputs,
LiteRT's reference kernels for quantized ones (identical to ours).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import eightbit
from eightbit.cli import main
from tests.oracle import run_eightbit, run_litert

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")


class SmallCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.dw = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        y = torch.nn.functional.avg_pool2d(torch.relu(self.dw(y)), 2)
        return self.fc(y.mean(dim=(2, 3)))


@pytest.fixture(scope="module")
def onnx_cnn(tmp_path_factory):
    torch.manual_seed(0)
    module = SmallCNN().eval()
    path = tmp_path_factory.mktemp("onnx") / "cnn.onnx"
    x = torch.randn(1, 3, 8, 8)
    torch.onnx.export(module, (x,), str(path), input_names=["image"], output_names=["logits"], dynamo=False,
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    return path, module


def _torch(module, x_nchw):
    with torch.no_grad():
        return module(torch.from_numpy(x_nchw)).numpy()


def test_float_onnx(onnx_cnn, tmp_path, capsys):
    path, module = onnx_cnn
    out = tmp_path / "cnn.tflite"
    assert main(["convert", str(path), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "float32" in text and "CONV_2D v1 x1" in text and "input image: FLOAT32 [1, 8, 8, 3]" in text
    x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    want = _torch(module, x)
    data = out.read_bytes()
    for got in (run_eightbit(data, [x.transpose(0, 2, 3, 1)])[0], run_litert(data, [x.transpose(0, 2, 3, 1)])[0]):
        np.testing.assert_allclose(got, want, atol=1e-4 * max(1, np.abs(want).max()))


def test_io_layout_keep_and_input_shape(onnx_cnn, tmp_path, capsys):
    path, _ = onnx_cnn
    out = tmp_path / "keep.tflite"
    assert main(["convert", str(path), "-o", str(out), "--io-layout", "keep", "--input-shape", "image=2,3,8,8"]) == 0
    assert "input image: FLOAT32 [2, 3, 8, 8]" in capsys.readouterr().out


@pytest.mark.parametrize("calib_layout", ["NCHW", "NHWC"])
def test_int8_with_calibration_in_either_layout(onnx_cnn, tmp_path, capsys, calib_layout):
    path, module = onnx_cnn
    rng = np.random.default_rng(1)
    samples = rng.standard_normal((16, 3, 8, 8)).astype(np.float32)
    npz = tmp_path / "calib.npz"
    np.savez(npz, image=samples if calib_layout == "NCHW" else samples.transpose(0, 2, 3, 1))
    out = tmp_path / "int8.tflite"
    assert main(["convert", str(path), "-o", str(out), "--quantize", "int8", "--data", str(npz), "--io", "int8"]) == 0
    text = capsys.readouterr().out
    assert "16 calibration samples" in text and "quantized operators:" in text
    data = out.read_bytes()
    x = rng.integers(-128, 128, (1, 8, 8, 3)).astype(np.int8)
    np.testing.assert_array_equal(run_eightbit(data, [x])[0], run_litert(data, [x])[0])
    m = eightbit.load(data)
    assert m.main.tensors[m.main.inputs[0]].type == "INT8"


def test_tflite_convert_flags(onnx_cnn, tmp_path, capsys):
    path, _ = onnx_cnn
    npz = tmp_path / "calib.npz"
    np.savez(npz, input_0=np.random.default_rng(2).standard_normal((4, 3, 8, 8)).astype(np.float32))
    out = tmp_path / "q.tflite"
    assert main(["convert", str(path), "--output_file", str(out), "--inference_type", "INT8",
                 "--inference_input_type", "INT8", "--inference_output_type", "INT8", "--data", str(npz)]) == 0
    m = eightbit.load(out.read_bytes())
    assert m.main.tensors[m.main.outputs[0]].type == "INT8"


@pytest.mark.parametrize("mode", ["dynamic", "float16"])
def test_weight_only_modes(onnx_cnn, tmp_path, capsys, mode):
    path, _ = onnx_cnn
    out = tmp_path / f"{mode}.tflite"
    assert main(["convert", str(path), "-o", str(out), "--quantize", mode]) == 0
    assert f"({mode}" in capsys.readouterr().out
    assert eightbit.load(out.read_bytes()).main.operators


@pytest.mark.parametrize("argv, message", [
    (["--saved_model_dir", "sm"], "SavedModels need TensorFlow"),
    (["model.pb"], "no such file"),
    (["{onnx}", "--quantize", "int8"], "needs calibration data"),
    (["{onnx}", "--input-shape", "image"], "NAME=D0,D1"),
    (["{txt}"], "cannot tell the model's format"),
    (["{onnx}", "--data", "{txt}"], "--data is calibration data"),
])
def test_refusals(onnx_cnn, tmp_path, capsys, argv, message):
    txt = tmp_path / "model.txt"
    txt.write_text("x")
    argv = [a.format(onnx=onnx_cnn[0], txt=txt) for a in argv]
    assert main(["convert", *argv, "-o", str(tmp_path / "o.tflite")]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_never_overwrites_without_force(onnx_cnn, tmp_path, capsys):
    out = tmp_path / "exists.tflite"
    out.write_bytes(b"keep")
    assert main(["convert", str(onnx_cnn[0]), "-o", str(out)]) == 1
    assert out.read_bytes() == b"keep" and "--force" in capsys.readouterr().err
    assert main(["convert", str(onnx_cnn[0]), "-o", str(out), "--force"]) == 0
    assert os.path.getsize(out) > 100


def test_keras_model_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((6, 6, 2), name="img"), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(3)])
    path = tmp_path / "m.keras"
    model.save(path)
    out = tmp_path / "k.tflite"
    assert main(["convert", "--keras_model_file", str(path), "--output_file", str(out)]) == 0
    x = np.random.default_rng(3).standard_normal((1, 6, 6, 2)).astype(np.float32)
    want = np.asarray(model.predict(x, verbose=0))
    np.testing.assert_allclose(run_eightbit(out.read_bytes(), [x])[0], want, atol=1e-4 * max(1, np.abs(want).max()))


def test_onnxruntime_quantized_model_converts_integer_with_its_parameters(onnx_cnn, tmp_path, capsys):
    quantization = pytest.importorskip("onnxruntime.quantization")
    import onnxruntime as ort

    path, _ = onnx_cnn
    rng = np.random.default_rng(5)
    calib = [{"image": rng.standard_normal((1, 3, 8, 8)).astype(np.float32)} for _ in range(8)]

    class Reader(quantization.CalibrationDataReader):
        def __init__(self):
            self.it = iter(calib)

        def get_next(self):
            return next(self.it, None)

    qdq = tmp_path / "qdq.onnx"
    quantization.quantize_static(str(path), str(qdq), Reader(), quant_format=quantization.QuantFormat.QDQ,
                                 per_channel=True, activation_type=quantization.QuantType.QInt8,
                                 weight_type=quantization.QuantType.QInt8)
    out = tmp_path / "qdq.tflite"
    assert main(["convert", str(qdq), "-o", str(out), "--io", "int8"]) == 0
    assert "(quantized source)" in capsys.readouterr().out
    data = out.read_bytes()
    m = eightbit.load(data)
    assert {m.main.tensors[i].type for i in m.main.inputs + m.main.outputs} == {"INT8"}
    assert "TRANSPOSE" not in {op.op_type for op in m.main.operators}
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    qin = m.main.tensors[m.main.inputs[0]].quantization
    xq = np.clip(np.round(x.transpose(0, 2, 3, 1) / qin.scale[0]) + qin.zero_point[0], -128, 127).astype(np.int8)
    got = run_eightbit(data, [xq])[0]
    np.testing.assert_array_equal(got, run_litert(data, [xq])[0])
    qout = m.main.tensors[m.main.outputs[0]].quantization
    want = ort.InferenceSession(str(qdq), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    real = (got.astype(np.float32) - qout.zero_point[0]) * qout.scale[0]
    assert np.max(np.abs(real - want)) <= 2 * qout.scale[0] + 1e-6


@pytest.mark.parametrize("io_type, mean, std", [("QUANTIZED_UINT8", "128", "127.5"), ("INT8", "-3", "40")])
def test_mean_and_std_values_pin_the_input_quantization(onnx_cnn, tmp_path, capsys, io_type, mean, std):
    path, _ = onnx_cnn
    npz = tmp_path / "calib.npz"
    np.savez(npz, image=np.random.default_rng(6).standard_normal((8, 3, 8, 8)).astype(np.float32))
    out = tmp_path / "pinned.tflite"
    assert main(["convert", str(path), "--output_file", str(out), "--inference_type", "INT8", "--inference_input_type",
                 io_type, "--mean_values", mean, "--std_dev_values", std, "--data", str(npz)]) == 0
    data = out.read_bytes()
    m = eightbit.load(data)
    qp = m.main.tensors[m.main.inputs[0]].quantization
    assert m.main.tensors[m.main.inputs[0]].name == "image"
    assert qp.zero_point.tolist() == [int(mean)] and np.isclose(qp.scale[0], 1 / float(std))
    dtype = np.uint8 if io_type == "QUANTIZED_UINT8" else np.int8
    x = np.random.default_rng(7).integers(np.iinfo(dtype).min, np.iinfo(dtype).max + 1, (1, 8, 8, 3)).astype(dtype)
    np.testing.assert_array_equal(run_eightbit(data, [x])[0], run_litert(data, [x])[0])
