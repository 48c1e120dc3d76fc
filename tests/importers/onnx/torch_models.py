"""Small PyTorch architectures standing for what users export: CNN classifiers, a UNet, a
transformer encoder block, a 1-D audio net, a detector with several outputs."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def conv_bn(cin, cout, k=3, stride=1, groups=1, act=nn.ReLU6):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, act()) if act else nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(conv_bn(cin, mid, 1), conv_bn(mid, mid, 3, stride, groups=mid),
                                   conv_bn(mid, cout, 1, act=None))

    def forward(self, x):
        return x + self.block(x) if self.use_res else self.block(x)


class MobileNetV2ish(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 8, 3, 2), InvertedResidual(8, 8, 1, 1), InvertedResidual(8, 12, 2, 4),
                                      InvertedResidual(12, 12, 1, 4), InvertedResidual(12, 16, 2, 4), conv_bn(16, 32, 1))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = conv_bn(cin, cout, 3, stride, act=nn.ReLU)
        self.c2 = conv_bn(cout, cout, 3, 1, act=None)
        self.down = conv_bn(cin, cout, 1, stride, act=None) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return F.relu(self.c2(self.c1(x)) + self.down(x))


class ResNetish(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        self.layers = nn.Sequential(BasicBlock(8, 8, 1), BasicBlock(8, 16, 2), BasicBlock(16, 24, 2))
        self.fc = nn.Linear(24, classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))


class UNetish(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.e1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.e2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.e3 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.d2 = nn.Sequential(nn.Conv2d(48, 16, 3, padding=1), nn.ReLU())
        self.up1 = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.d1 = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, classes, 1))

    def forward(self, x):
        a = self.e1(x)
        b = self.e2(a)
        c = self.e3(b)
        up = F.interpolate(c, scale_factor=2, mode="bilinear", align_corners=False)
        d = self.d2(torch.cat([up, b], dim=1))
        e = self.d1(torch.cat([self.up1(d), a], dim=1))
        return e + F.interpolate(F.avg_pool2d(e, 2), scale_factor=2, mode="nearest")


class EncoderBlock(nn.Module):
    """Pre-norm transformer encoder block with hand-written attention (Einsum-free, MatMul/Softmax)."""

    def __init__(self, dim=32, heads=4, mlp=64):
        super().__init__()
        self.heads = heads
        self.n1, self.n2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.n1(x)).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5, dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.mlp(self.n2(x))


class TorchEncoder(nn.Module):
    """torch's own nn.TransformerEncoderLayer (exports its fused attention differently)."""

    def __init__(self, dim=32):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(dim, 4, 64, dropout=0.0, activation="gelu", batch_first=True)
        self.head = nn.Linear(dim, 5)

    def forward(self, x):
        return self.head(self.layer(x).mean(dim=1))


class AudioNet(nn.Module):
    def __init__(self, classes=6):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(1, 8, 9, stride=2, padding=4), nn.BatchNorm1d(8), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(8, 16, 5, padding=2), nn.BatchNorm1d(16), nn.LeakyReLU(0.1),
            nn.Conv1d(16, 16, 3, padding=2, dilation=2, groups=16), nn.Conv1d(16, 24, 1), nn.Hardswish(),
            nn.AvgPool1d(2))
        self.fc = nn.Linear(24, classes)

    def forward(self, x):
        return torch.log_softmax(self.fc(self.net(x).mean(dim=-1)), dim=-1)


class Detector(nn.Module):
    """Backbone + FPN-ish neck + class and box heads at two scales: four outputs."""

    def __init__(self, classes=4, anchors=2):
        super().__init__()
        self.a = anchors
        self.s1 = nn.Sequential(conv_bn(3, 8, 3, 2, act=nn.SiLU), conv_bn(8, 16, 3, 2, act=nn.SiLU))
        self.s2 = conv_bn(16, 24, 3, 2, act=nn.SiLU)
        self.lat = nn.Conv2d(24, 16, 1)
        self.cls = nn.ModuleList([nn.Conv2d(16, anchors * classes, 3, padding=1) for _ in range(2)])
        self.box = nn.ModuleList([nn.Conv2d(16, anchors * 4, 3, padding=1) for _ in range(2)])

    def forward(self, x):
        p3 = self.s1(x)
        p4 = self.s2(p3)
        p3 = p3 + F.interpolate(self.lat(p4), scale_factor=2.0, mode="nearest")
        outs = []
        for level, feat in enumerate((p3, self.lat(p4))):
            n = feat.shape[0]
            cls = self.cls[level](feat).permute(0, 2, 3, 1).reshape(n, -1, self.cls[level].out_channels // self.a)
            box = self.box[level](feat).permute(0, 2, 3, 1).reshape(n, -1, 4)
            outs += [torch.sigmoid(cls), box]
        return tuple(outs)


ARCHITECTURES = {
    # name: (constructor, input shape)
    "mobilenetv2": (MobileNetV2ish, (1, 3, 32, 32)),
    "resnet": (ResNetish, (1, 3, 32, 32)),
    "unet": (UNetish, (1, 3, 16, 16)),
    "encoder": (EncoderBlock, (2, 8, 32)),
    "torch_encoder": (TorchEncoder, (1, 8, 32)),
    "audio1d": (AudioNet, (1, 1, 256)),
    "detector": (Detector, (1, 3, 32, 32)),
}


def build(name: str, seed: int = 0) -> tuple[nn.Module, torch.Tensor]:
    """The model in eval mode with non-trivial BatchNorm statistics, and an example input."""
    ctor, shape = ARCHITECTURES[name]
    torch.manual_seed(seed)
    model = ctor()
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model.eval(), torch.randn(*shape)


def export(model: nn.Module, example: torch.Tensor, dynamo: bool, path=None):
    """torch.onnx.export with the TorchScript (dynamo=False) or the dynamo exporter: a ModelProto."""
    import io

    import onnx

    n_out = len(model(example)) if isinstance(model(example), tuple) else 1
    names = ["output"] if n_out == 1 else [f"output{k}" for k in range(n_out)]
    if dynamo:
        program = torch.onnx.export(model, (example,), dynamo=True, input_names=["input"], output_names=names)
        return program.model_proto
    buf = io.BytesIO()
    torch.onnx.export(model, (example,), buf, dynamo=False, input_names=["input"], output_names=names, opset_version=17)
    return onnx.load_from_string(buf.getvalue())
