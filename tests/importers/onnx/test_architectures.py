"""Architectures exported from PyTorch with both exporters match onnxruntime within 1e-4 of the
output's max magnitude, in eightbit's interpreter and in LiteRT (TFLite NHWC inputs)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.importers.onnx.helpers import assert_close, convert, litert_outputs, run_ort
from tests.oracle import run_eightbit

torch = pytest.importorskip("torch")
torch_models = pytest.importorskip("tests.importers.onnx.torch_models")

_CACHE: dict = {}


def exported(name: str, dynamo: bool):
    """(ModelProto, example input) exported once per test session."""
    key = (name, dynamo)
    if key not in _CACHE:
        model, x = torch_models.build(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CACHE[key] = (torch_models.export(model, x, dynamo), x.numpy())
    return _CACHE[key]


def to_tflite_inputs(data: bytes, x: np.ndarray) -> np.ndarray:
    """The ONNX input as the converted model wants it (NHWC when the converter moved it)."""
    from eightbit import Interpreter

    shape = tuple(Interpreter(model_content=data).get_input_details()[0]["shape"])
    if shape == x.shape:
        return x
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    assert shape == tuple(x.shape[p] for p in perm), f"input shape {shape} vs ONNX {x.shape}"
    return np.transpose(x, perm)


def from_tflite_outputs(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    if got.shape == want.shape or got.ndim < 3:
        return got
    inv = (0, got.ndim - 1) + tuple(range(1, got.ndim - 1))
    return np.transpose(got, inv)


def check_architecture(name: str, dynamo: bool, io_layout: str = "NHWC"):
    proto, x = exported(name, dynamo)
    want = run_ort(proto, {proto.graph.input[0].name: x})
    data = convert(proto, io_layout=io_layout)
    xin = to_tflite_inputs(data, x)
    for engine, outs in (("eightbit", run_eightbit(data, [xin])), ("LiteRT", litert_outputs(data, [xin]))):
        assert len(outs) == len(want)
        for j, (g, w) in enumerate(zip(outs, want)):
            assert_close(from_tflite_outputs(g, w), w, 1e-4, f"{name} ({'dynamo' if dynamo else 'torchscript'}) "
                                                              f"{engine} output {j}")
    return data


@pytest.mark.parametrize("name", sorted(torch_models.ARCHITECTURES))
def test_torchscript_export_matches_onnxruntime(name):
    check_architecture(name, dynamo=False)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(torch_models.ARCHITECTURES))
def test_dynamo_export_matches_onnxruntime(name):
    check_architecture(name, dynamo=True)


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", sorted(torch_models.MORE_ARCHITECTURES))
def test_more_architectures_match_onnxruntime(name, dynamo):
    check_architecture(name, dynamo)


@pytest.mark.parametrize("name", ["unet", "detector"])
def test_keep_io_layout(name):
    check_architecture(name, dynamo=False, io_layout="keep")


def test_erf_gelu_pattern_becomes_one_gelu():
    from eightbit.importers.onnx import import_onnx

    proto, _ = exported("encoder", dynamo=False)
    assert "Erf" in {n.op_type for n in proto.graph.node}
    imported = import_onnx(proto)
    ops = [op.op_type for op in imported.model.main.operators]
    assert ops.count("GELU") == 1 and "EXP" not in ops
    assert any("GELU" in n for n in imported.notes)


class _TanhGelu(torch.nn.Module):
    def forward(self, x):
        return torch.nn.functional.gelu(x, approximate="tanh") - 1


class _GeluNew(torch.nn.Module):  # GPT-2's gelu_new, written out
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(0.7978845608028654 * (x + 0.044715 * torch.pow(x, 3.0))))


@pytest.mark.parametrize("module", [_TanhGelu, _GeluNew])
def test_tanh_gelu_pattern_becomes_one_approximate_gelu(module):
    import io

    import onnx

    from eightbit.importers.onnx import import_onnx
    from tests.importers.onnx.helpers import check_against_ort

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module(), (torch.randn(2, 5),), buf, dynamo=False, opset_version=17, input_names=["x"])
    proto = onnx.load_from_string(buf.getvalue())
    assert "Tanh" in {n.op_type for n in proto.graph.node}
    gelus = [op for op in import_onnx(proto).model.main.operators if op.op_type == "GELU"]
    assert len(gelus) == 1 and gelus[0].options["approximate"]
    check_against_ort(proto, {"x": np.random.default_rng(0).uniform(-4, 4, (2, 5)).astype(np.float32)})
