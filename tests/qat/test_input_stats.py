"""TFLiteConverter.quantized_input_stats (TF1's converter attribute, TOCO's --mean_values /
--std_dev_values): an integer input described by mean / std gets scale 1 / std and zero point
mean (TOCO nudges the range [(0 - mean) / std, (255 - mean) / std], so 127.5 rounds to 128), and
LiteRT reads the pinned input as the model's integer input; the PyTorch importer's rule for
torch.fake_quantize_per_tensor_affine with tensor parameters."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import eightbit  # noqa: E402
from tests.oracle import run_litert  # noqa: E402


def cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64, 5)).eval()


def ptq_converter(input_type, stats):
    conv = eightbit.TFLiteConverter.from_torch(cnn(), (torch.randn(1, 3, 6, 6),))
    rng = np.random.default_rng(0)
    conv.optimizations = [eightbit.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([rng.uniform(-1, 1, (1, 6, 6, 3)).astype(np.float32)] for _ in range(8))
    conv.inference_input_type = input_type
    conv.quantized_input_stats = stats
    return conv


@pytest.mark.parametrize("input_type, mean, std, zp", [(np.uint8, 127.5, 127.5, 128), (np.uint8, 0.0, 255.0, 0),
                                                       (np.int8, -1.0, 128.0, -1)])
def test_stats_pin_the_integer_input(input_type, mean, std, zp):
    data = ptq_converter(input_type, {"input": (mean, std)}).convert()
    sg = eightbit.load(data).main
    t = sg.tensors[sg.inputs[0]]
    assert t.name == "input" and t.type == np.dtype(input_type).name.upper()
    assert t.quantization.zero_point.tolist() == [zp] and t.quantization.scale[0] == np.float32(1 / std)
    info = np.iinfo(input_type)
    x = np.random.default_rng(1).integers(info.min, info.max + 1, (1, 6, 6, 3)).astype(input_type)
    float_model = eightbit.TFLiteConverter.from_torch(cnn(), (torch.randn(1, 3, 6, 6),)).convert()
    want = run_litert(float_model, [((x.astype(np.float32) - zp) / np.float32(std)).astype(np.float32)])[0]
    got = run_litert(data, [x])[0]
    assert np.max(np.abs(got - want)) < 0.05 * np.max(np.abs(want))  # the quantized model reads the same reals


def test_stats_errors():
    with pytest.raises(ValueError, match="not inputs"):
        ptq_converter(np.uint8, {"image": (127.5, 127.5)}).convert()
    with pytest.raises(ValueError, match="integer input"):
        ptq_converter(np.float32, {"input": (127.5, 127.5)}).convert()
    with pytest.raises(ValueError, match="outside"):
        ptq_converter(np.uint8, {"input": (300.0, 1.0)}).convert()


def test_fake_quantize_with_tensor_qparams_imports_as_qdq():
    """torch.fake_quantize_per_tensor_affine(x, tensor scale, tensor zero point) exports as
    _fake_quantize_per_tensor_affine_cachemask_tensor_qparams: QUANTIZE / DEQUANTIZE with them."""

    class M(torch.nn.Module):
        def forward(self, x):
            return torch.fake_quantize_per_tensor_affine(x, torch.tensor(0.05), torch.tensor(3, dtype=torch.int32), 0, 255)

    x = torch.linspace(-1, 12, 60).reshape(1, 60)
    data = eightbit.TFLiteConverter.from_torch(M(), (x,)).convert()
    sg = eightbit.load(data).main
    q = next(op for op in sg.operators if op.op_type == "QUANTIZE")
    qt = sg.tensors[q.outputs[0]]
    assert qt.quantization.scale[0] == np.float32(0.05) and qt.quantization.zero_point.tolist() == [3 - 128]
    got = run_litert(data, [x.numpy()])[0]
    v = x.numpy() / np.float32(0.05)
    want = (np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5) + 3, 0, 255) - 3) * np.float32(0.05)  # TFLite rounds away
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_qdq_around_conv_and_relu_folds_to_one_fused_conv():
    """A conv quantized only after its ReLU (fake quantization as QAT places it) becomes one
    integer CONV_2D with a fused RELU, equal to torch's fake-quantized forward within one step."""

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.c = torch.nn.Conv2d(1, 4, 3)

        def forward(self, x):
            x = torch.fake_quantize_per_tensor_affine(x, 0.02, 0, -128, 127)
            scale = self.c.weight.detach().abs().amax((1, 2, 3)) / 127
            w = torch.fake_quantize_per_channel_affine(self.c.weight, scale, torch.zeros(4, dtype=torch.int32), 0,
                                                       -127, 127)
            y = torch.relu(torch.nn.functional.conv2d(x, w, self.c.bias))
            return torch.fake_quantize_per_tensor_affine(y, 0.01, -128, -128, 127)

    m = M().eval()
    x = torch.rand(1, 1, 6, 6) * 2 - 1
    data = eightbit.TFLiteConverter.from_torch(m, (x,)).convert()
    sg = eightbit.load(data).main
    kinds = [(op.op_type, sg.tensors[op.outputs[0]].type) for op in sg.operators]
    assert kinds == [("QUANTIZE", "INT8"), ("CONV_2D", "INT8"), ("DEQUANTIZE", "FLOAT32")]
    conv = sg.operators[1]
    assert conv.options["fused_activation_function"] == 1
    got = run_litert(data, [x.permute(0, 2, 3, 1).numpy()])[0]
    with torch.no_grad():
        want = m(x).permute(0, 2, 3, 1).numpy()
    assert np.max(np.abs(got - want)) <= 0.01 + 1e-6
