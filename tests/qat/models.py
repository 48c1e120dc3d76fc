"""Small models covering what TFLite quantizes differently (used by the QAT export tests)."""

import numpy as np
import torch
from torch import nn

import eightbit

DIGITS = __import__("pathlib").Path(eightbit.__file__).parent / "data" / "digits.npz"


def digits():
    """(train x, train y, held-out x, held-out y) as NCHW float32 tensors from eightbit/data/digits.npz."""
    with np.load(DIGITS) as d:
        x = torch.from_numpy(d["eval_0"][:, 0].transpose(0, 3, 1, 2).copy())
        y = torch.from_numpy(d["labels"])
        held = torch.from_numpy(d["heldout"])
    return x[~held], y[~held], x[held], y[held]


def conv_bn(cin, cout, act=None, **kw):
    layers = [nn.Conv2d(cin, cout, 3, padding=1, **kw), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, *([act] if act is not None else []))


class DigitsCNN(nn.Module):
    """conv+BN+ReLU, max pooling, conv+BN+ReLU6, average pooling, linear."""

    def __init__(self, width=8):
        super().__init__()
        self.features = nn.Sequential(conv_bn(1, width, nn.ReLU()), nn.MaxPool2d(2),
                                      conv_bn(width, 2 * width, nn.ReLU6()), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(2 * width, 10)

    def forward(self, x):
        return self.fc(self.features(x))


class Residual(nn.Module):
    """ADD of two branches with a ReLU after it (TFLite: ADD with fused RELU)."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(1, 8, nn.ReLU())
        self.a = conv_bn(8, 8, nn.ReLU())
        self.b = conv_bn(8, 8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.stem(x)
        y = torch.relu(x + self.b(self.a(x)))
        return self.fc(y.mean(dim=(2, 3)))


class Concat(nn.Module):
    """CONCATENATION of branches with different ranges (TFLite requantizes them to one)."""

    def __init__(self):
        super().__init__()
        self.a = conv_bn(1, 4, nn.ReLU())
        self.b = conv_bn(1, 6)
        self.fc = nn.Linear(10 * 16, 10)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x)], dim=1)
        return self.fc(torch.flatten(nn.functional.max_pool2d(y, 2), 1))


class TanhSigmoid(nn.Module):
    """TANH and a SIGMOID gate (fixed output ranges) multiplied (MUL has its own range)."""

    def __init__(self, act=None):
        super().__init__()
        self.c1 = conv_bn(1, 8, act or nn.ReLU())
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 16, 10)

    def forward(self, x):
        y = self.c1(x)
        y = torch.tanh(self.c2(y)) * torch.sigmoid(y)
        return self.fc(torch.flatten(nn.functional.avg_pool2d(y, 2), 1))


class SoftmaxHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = DigitsCNN()

    def forward(self, x):
        return torch.softmax(self.body(x), dim=-1)


class HardSwish(TanhSigmoid):
    """HARD_SWISH (its own output range) after a fused conv+BN."""

    def __init__(self):
        super().__init__(nn.Hardswish())
