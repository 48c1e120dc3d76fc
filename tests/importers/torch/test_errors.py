"""from_torch's edges: unsupported ops listed at once with module paths, train mode, data-dependent
control flow, a dynamic batch dimension, fake quantization becoming QUANTIZE / DEQUANTIZE."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import eightbit  # noqa: E402
from tests.importers.torch.helpers import convert  # noqa: E402
from tests.oracle import run_eightbit, run_litert  # noqa: E402


class Sorts(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 4)

    def forward(self, x):
        a = torch.sort(x, dim=-1).values
        b = torch.sort(self.head(x), dim=-1).values
        return a + b + torch.linalg.det(x.reshape(2, 2)).reshape(1, 1)


def test_every_unsupported_aten_op_is_listed_once_with_module_paths():
    with pytest.raises(eightbit.UnsupportedOpError) as e:
        convert(Sorts().eval(), (torch.randn(1, 4),))
    assert e.value.unsupported == [("aten.sort", 1, 2, "used in (root) (Sorts)"),
                                   ("aten._linalg_det", 1, 1, "used in (root) (Sorts)")]
    assert str(e.value).startswith("model uses 2 unsupported operator(s): aten.sort v1 x2")


def test_train_mode_converts_in_eval_semantics_with_a_warning():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.5))
    model[1].running_mean.uniform_(-1, 1)
    model.train()
    x = torch.randn(1, 3, 8, 8)
    with pytest.warns(UserWarning, match="train mode"):
        data = convert(model, (x,), io_layout="keep")
    assert model.training  # the user's module is left as it was
    with torch.no_grad():
        want = model.eval()(x).numpy()
    got = run_eightbit(data, [x.numpy()])[0]
    np.testing.assert_allclose(got, want, atol=1e-5)


class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x * 2
        return x - 1


def test_data_dependent_control_flow_says_what_to_do():
    with pytest.raises(eightbit.ModelError, match="torch.export failed.*torch.where"):
        convert(Branchy(), (torch.randn(1, 4),))


def test_dynamic_batch_becomes_shape_signature_and_resizes():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 2)).eval()
    batch = torch.export.Dim("batch", min=1, max=64)
    data = convert(model, (torch.randn(2, 3, 8, 8),), dynamic_shapes=({0: batch},))
    m = eightbit.load(data)
    assert m.main.tensors[m.main.inputs[0]].shape_signature[0] == -1
    it = eightbit.Interpreter(model_content=data)
    d = it.get_input_details()[0]
    assert d["shape_signature"][0] == -1
    x = torch.randn(5, 3, 8, 8)
    it.resize_tensor_input(d["index"], [5, 8, 8, 3])
    it.allocate_tensors()
    it.set_tensor(d["index"], x.permute(0, 2, 3, 1).numpy())
    it.invoke()
    got = it.get_tensor(it.get_output_details()[0]["index"])
    with torch.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), atol=1e-5)


class FakeQuantized(nn.Module):
    """What a QAT export looks like: fake-quantized weights (per channel) and activations."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.register_buffer("w_scale", self.fc.weight.detach().abs().amax(1) / 127)
        self.register_buffer("w_zp", torch.zeros(4, dtype=torch.int32))

    def forward(self, x):
        x = torch.fake_quantize_per_tensor_affine(x, 0.02, 3, -128, 127)
        w = torch.fake_quantize_per_channel_affine(self.fc.weight, self.w_scale, self.w_zp, 0, -127, 127)
        y = nn.functional.linear(x, w, self.fc.bias)
        return torch.fake_quantize_per_tensor_affine(y, 0.05, -10, -128, 127)


def test_fake_quantization_becomes_an_integer_model_with_those_parameters():
    model = FakeQuantized().eval()
    x = torch.randn(1, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = convert(model, (x,))
    m = eightbit.load(data)
    fc = next(op for op in m.main.operators if op.op_type == "FULLY_CONNECTED")
    xin, w, out = (m.main.tensors[i] for i in (fc.inputs[0], fc.inputs[1], fc.outputs[0]))
    assert xin.type == w.type == out.type == "INT8"
    assert xin.quantization.scale.tolist() == [np.float32(0.02)] and xin.quantization.zero_point.tolist() == [3]
    assert out.quantization.scale.tolist() == [np.float32(0.05)] and out.quantization.zero_point.tolist() == [-10]
    assert w.quantization.scale.size == 4
    with torch.no_grad():
        want = model(x).numpy()
    got = run_eightbit(data, [x.numpy()])[0]
    assert np.max(np.abs(got - want)) <= 2 * 0.05 + 1e-6  # within two output steps of the simulation
    np.testing.assert_array_equal(got, run_litert(data, [x.numpy()])[0])
