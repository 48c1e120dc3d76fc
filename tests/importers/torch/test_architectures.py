"""Architectures written by hand (torchvision does not import beside this torch) convert with
from_torch and match PyTorch within 1e-4 of the output's max magnitude, in eightbit and LiteRT;
the same models through from_onnx give the same results; int8 PTQ runs in LiteRT as in eightbit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from tests.importers.onnx import torch_models  # noqa: E402
from tests.importers.torch.helpers import back, check_against_torch, convert, nhwc, torch_outputs  # noqa: E402
from tests.oracle import run_eightbit, run_litert  # noqa: E402


class ShuffleUnit(nn.Module):
    """ShuffleNetV2's unit: split, branch, concat, channel shuffle (view / transpose / view)."""

    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.branch = nn.Sequential(nn.Conv2d(h, h, 1), nn.BatchNorm2d(h), nn.ReLU(),
                                    nn.Conv2d(h, h, 3, padding=1, groups=h), nn.BatchNorm2d(h),
                                    nn.Conv2d(h, h, 1), nn.ReLU())

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        y = torch.cat([a, self.branch(b)], 1)
        n, c, hh, w = y.shape
        return y.view(n, 2, c // 2, hh, w).transpose(1, 2).reshape(n, c, hh, w)


class ShuffleNetish(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.units = nn.Sequential(ShuffleUnit(16), ShuffleUnit(16))
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        return self.head(self.units(self.stem(x)).mean((2, 3)))


class EffLiteBlock(nn.Module):
    """EfficientNet-lite: MBConv with ReLU6 and no squeeze-excite."""

    def __init__(self, c, e=4):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c * e, 1, bias=False), nn.BatchNorm2d(c * e), nn.ReLU6(),
                                  nn.Conv2d(c * e, c * e, 5, padding=2, groups=c * e, bias=False),
                                  nn.BatchNorm2d(c * e), nn.ReLU6(), nn.Conv2d(c * e, c, 1, bias=False),
                                  nn.BatchNorm2d(c))

    def forward(self, x):
        return x + self.body(x)


class EffNetLiteish(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.blocks = nn.Sequential(EffLiteBlock(8), EffLiteBlock(8))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(8, 5))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


class ResNet18ish(nn.Module):
    """ResNet-18's layout (stem, max pool, two BasicBlocks per stage, four stages) at small width."""

    def __init__(self, w=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, w, 7, 2, 3, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        blocks, c = [], w
        for stage, out in enumerate((w, 2 * w, 4 * w, 8 * w)):
            for k in range(2):
                blocks.append(torch_models.BasicBlock(c, out, 2 if k == 0 and stage else 1))
                c = out
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, 10)

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1), 1))


EXTRA = {"shufflenet": (ShuffleNetish, (1, 3, 32, 32)), "efficientnet_lite": (EffNetLiteish, (1, 3, 32, 32)),
         "resnet18": (ResNet18ish, (1, 3, 64, 64))}


def build(name):
    if name in EXTRA:
        ctor, shape = EXTRA[name]
        torch.manual_seed(0)
        model = ctor()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
        return model.eval(), torch.randn(*shape)
    return torch_models.build(name)


FAST = ["mobilenetv2", "resnet18", "shufflenet", "efficientnet_lite", "unet", "audio1d", "encoder", "detector"]
SLOW = ["resnet", "torch_encoder", "vit", "mobilenetv3", "efficientnet", "pixel_shuffle", "bert_tokens", "yolo",
        "misc_ops", "audio_transposed"]


def _check(name):
    model, x = build(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_against_torch(model, (x,))


@pytest.mark.parametrize("name", FAST)
def test_matches_pytorch_in_eightbit_and_litert(name):
    _check(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_more_architectures_match_pytorch(name):
    _check(name)


@pytest.mark.parametrize("name", ["mobilenetv2", "unet", "encoder"])
def test_from_torch_and_from_onnx_agree(name):
    model, x = build(name)
    from eightbit.converter import TFLiteConverter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = convert(model, (x,))
        b = TFLiteConverter.from_onnx(torch_models.export(model, x, dynamo=False)).convert()
    xa = nhwc(x.numpy(), run_shape(a))
    xb = nhwc(x.numpy(), run_shape(b))
    for ga, gb in zip(run_eightbit(a, [xa]), run_eightbit(b, [xb])):
        scale = max(float(np.abs(gb).max()), 1e-6)
        assert ga.shape == gb.shape and float(np.abs(ga - gb).max()) <= 1e-4 * scale


def run_shape(data):
    from eightbit import Interpreter

    return Interpreter(model_content=data).get_input_details()[0]["shape"]


@pytest.mark.parametrize("name", ["mobilenetv2", "resnet18", "unet"])
def test_int8_ptq_runs_in_litert_like_eightbit(name):
    from eightbit import Optimize

    model, x = build(name)
    rng = np.random.default_rng(0)
    samples = [[nhwc(rng.standard_normal(tuple(x.shape)).astype(np.float32), (0,) * 9)] for _ in range(8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = convert(model, (x,), optimizations=[Optimize.DEFAULT], representative_dataset=lambda: iter(samples),
                       inference_input_type=np.int8, inference_output_type=np.int8)
    xin = rng.integers(-128, 128, run_shape(data), dtype=np.int8)
    for a, b in zip(run_eightbit(data, [xin]), run_litert(data, [xin])):
        np.testing.assert_array_equal(a, b)
    assert back is not None and torch_outputs is not None
