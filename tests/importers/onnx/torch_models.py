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


class SE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, c // 4, 1), nn.Conv2d(c // 4, c, 1)
    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * F.hardsigmoid(self.fc2(F.relu(self.fc1(s))))


class MobileNetV3ish(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.Hardswish())
        self.dw = nn.Sequential(nn.Conv2d(16, 16, 5, 1, 2, groups=16), nn.BatchNorm2d(16), nn.Hardswish(), SE(16))
        self.pw = nn.Conv2d(16, 24, 1)
        self.head = nn.Sequential(nn.Linear(24, 32), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(32, 10))
    def forward(self, x):
        x = self.pw(self.dw(self.stem(x)))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class EffNetish(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, 2, 1)
        self.c2 = nn.Conv2d(8, 8, 3, 1, 1, groups=8)
        self.se = SE(8)
        self.gn = nn.GroupNorm(2, 8)
        self.pool = nn.AdaptiveAvgPool2d((2, 2))
        self.fc = nn.Linear(32, 5)
    def forward(self, x):
        x = F.silu(self.c1(x))
        x = self.gn(F.silu(self.c2(x)) * torch.sigmoid(x.mean((2, 3), keepdim=True)))
        return self.fc(self.pool(x).flatten(1))


class ViTish(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, 4)
        self.cls = nn.Parameter(torch.randn(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, 17, dim))
        self.attn = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 64), nn.GELU(approximate="tanh"), nn.Linear(64, dim))
        self.head = nn.Linear(dim, 10)
    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        h = self.norm(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        x = x + self.mlp(self.norm(x))
        return self.head(x[:, 0])


class BERTish(nn.Module):
    def __init__(self, vocab=50, dim=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(16, dim)
        self.norm = nn.LayerNorm(dim)
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.out = nn.Linear(dim, 2)
    def forward(self, ids):
        t = ids.shape[1]
        pos = torch.arange(t).unsqueeze(0)
        x = self.norm(self.emb(ids) + self.pos(pos))
        mask = (ids != 0).unsqueeze(1).float()
        att = self.q(x) @ self.k(x).transpose(1, 2) / 32 ** 0.5
        att = att.masked_fill(mask == 0, -1e4).softmax(-1)
        y = att @ self.v(x)
        return self.out(F.normalize(y[:, 0], dim=-1))


class YOLOish(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, 2, 1)
        self.c2 = nn.Conv2d(8, 8, 3, 1, 1)
        self.c3 = nn.Conv2d(24, 16, 1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.det = nn.Conv2d(16, 3 * 7, 1)
    def forward(self, x):
        x = F.silu(self.c1(x))
        a, b = x.chunk(2, 1)
        b = F.silu(self.c2(b))
        y = self.c3(torch.cat([a, b, F.max_pool2d(b, 5, 1, 2)], 1))
        y = y + self.up(F.max_pool2d(y, 2))
        p = self.det(y)
        n, _, h, w = p.shape
        p = p.view(n, 3, 7, h, w).permute(0, 1, 3, 4, 2).contiguous()
        xy, wh, conf = p.split((2, 2, 3), dim=-1)
        return torch.cat([xy.sigmoid() * 2, wh.exp(), conf.sigmoid()], -1).view(n, -1, 7)


class PixelShuffleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 12, 3, padding=1)
        self.r = nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")
        self.p = nn.PReLU(3)
    def forward(self, x):
        y = F.pixel_shuffle(self.c(x), 2)
        y = self.p(self.r(y))
        z = F.interpolate(y, size=(20, 20), mode="bilinear", align_corners=True)
        return torch.clamp(z, -1.0, 1.0), F.pixel_unshuffle(y, 2).std(dim=(2, 3))


class Misc(nn.Module):
    def forward(self, x):
        a = torch.stack([x.amax(1), x.amin(1)], 1)
        b = torch.where(x > 0, x, 0.1 * x).cumsum(-1)
        c = F.log_softmax(x, dim=1)
        d = x.flip(-1)[..., 1:-1:2]
        e = F.elu(x, 0.7) + F.selu(x) + F.softplus(x) + F.mish(x) + F.hardtanh(x, -0.5, 0.5)
        return a.sum(), b, c, d, e.permute(0, 2, 3, 1), torch.argmax(x, dim=1)


class Audio(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(2, 8, 5, padding="same")
        self.t = nn.ConvTranspose1d(8, 4, 4, stride=2, padding=1)
        self.gru_like = nn.Linear(4, 4)
        self.ln = nn.LayerNorm(4)
        self.in_ = nn.InstanceNorm1d(8, affine=True)
    def forward(self, x):
        y = F.gelu(self.in_(self.c(x)))
        y = F.avg_pool1d(self.t(y), 3, 2, 1, count_include_pad=False)
        y = self.ln(y.transpose(1, 2))
        return torch.tanh(self.gru_like(y)), F.adaptive_max_pool1d(y.transpose(1, 2), 1)


# More of what users export, checked in `make test-all` (slow): SE blocks, GroupNorm, adaptive
# pooling, nn.MultiheadAttention, token ids with Embedding and masks, chunk/split heads, pixel
# shuffle, reflect padding, PReLU, cumsum, flips, 1-D transposed conv, InstanceNorm1d.
MORE_ARCHITECTURES = {
    "mobilenetv3": (MobileNetV3ish, (1, 3, 32, 32)),
    "efficientnet": (EffNetish, (1, 3, 16, 16)),
    "vit": (ViTish, (1, 3, 16, 16)),
    "bert_tokens": (BERTish, (1, 12)),
    "yolo": (YOLOish, (1, 3, 32, 32)),
    "pixel_shuffle": (PixelShuffleNet, (1, 3, 10, 10)),
    "misc_ops": (Misc, (1, 3, 4, 6)),
    "audio_transposed": (Audio, (1, 2, 32)),
}
TOKEN_INPUTS = {"bert_tokens": 50}  # integer inputs: token ids below this vocabulary size


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
    ctor, shape = ARCHITECTURES[name] if name in ARCHITECTURES else MORE_ARCHITECTURES[name]
    torch.manual_seed(seed)
    model = ctor()
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    if name in TOKEN_INPUTS:
        return model.eval(), torch.randint(0, TOKEN_INPUTS[name], shape)
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
