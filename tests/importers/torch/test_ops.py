"""One small module per ATen op family, converted with from_torch and compared with PyTorch in
eightbit and LiteRT (table-driven: name, module factory, input shapes)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

from tests.importers.torch.helpers import check_against_torch  # noqa: E402


class Fn(nn.Module):
    def __init__(self, fn, *modules):
        super().__init__()
        self.fn = fn
        self.mods = nn.ModuleList(modules)

    def forward(self, *xs):
        return self.fn(self, *xs)


def fn(f, *modules):
    return lambda: Fn(f, *modules)


X4 = (1, 4, 6, 6)
CASES = [
    # activations
    ("relu6", fn(lambda s, x: F.relu6(x)), [X4]),
    ("hardtanh", fn(lambda s, x: F.hardtanh(x, -0.5, 0.7)), [X4]),
    ("leaky_relu", fn(lambda s, x: F.leaky_relu(x, 0.2)), [X4]),
    ("prelu", fn(lambda s, x: s.mods[0](x), nn.PReLU(4)), [X4]),
    ("elu", fn(lambda s, x: F.elu(x, 0.7)), [X4]),
    ("selu", fn(lambda s, x: F.selu(x)), [X4]),
    ("gelu", fn(lambda s, x: F.gelu(x)), [X4]),
    ("gelu_tanh", fn(lambda s, x: F.gelu(x, approximate="tanh")), [X4]),
    ("silu", fn(lambda s, x: F.silu(x)), [X4]),
    ("mish", fn(lambda s, x: F.mish(x)), [X4]),
    ("hardswish", fn(lambda s, x: F.hardswish(x)), [X4]),
    ("hardsigmoid", fn(lambda s, x: F.hardsigmoid(x)), [X4]),
    ("sigmoid_tanh", fn(lambda s, x: torch.sigmoid(x) * torch.tanh(x)), [X4]),
    ("softplus", fn(lambda s, x: F.softplus(x)), [X4]),
    # arithmetic
    ("arith", fn(lambda s, x, y: (x + y * 2 - 1) / (y.abs() + 1)), [X4, X4]),
    ("pow_sqrt", fn(lambda s, x: torch.sqrt(x.abs() + 0.1) + torch.rsqrt(x.abs() + 1) + x.pow(2)), [X4]),
    ("exp_log", fn(lambda s, x: torch.exp(-x.abs()) + torch.log(x.abs() + 1) - (-x)), [X4]),
    ("clamp_min_max", fn(lambda s, x, y: torch.clamp(x, -0.5, 0.5) + torch.minimum(x, y) + torch.maximum(x, y)),
     [X4, X4]),
    ("where_compare", fn(lambda s, x, y: torch.where(x > y, x, y * 0.5) + (x <= 0.1).float() + (x != y).float()),
     [X4, X4]),
    ("broadcast", fn(lambda s, x, y: x * y + y), [X4, (4, 1, 1)]),
    # structure
    ("cat_split", fn(lambda s, x: torch.cat(torch.split(x, [1, 3], dim=1)[::-1], 1)), [X4]),
    ("chunk_stack", fn(lambda s, x: torch.stack(x.chunk(2, dim=1), dim=1).sum(1)), [X4]),
    ("unbind", fn(lambda s, x: sum(x.unbind(1))), [X4]),
    ("view_permute", fn(lambda s, x: x.permute(0, 2, 3, 1).reshape(1, -1, 4).transpose(1, 2)), [X4]),
    ("flatten", fn(lambda s, x: torch.flatten(x, 1)), [X4]),
    ("squeeze_unsqueeze", fn(lambda s, x: x.mean(1, keepdim=True).squeeze(1).unsqueeze(-1)), [X4]),
    ("expand_repeat", fn(lambda s, x: x[:, :1].expand(1, 4, 6, 6) + x.repeat(1, 1, 1, 1)), [X4]),
    ("slice_steps", fn(lambda s, x: x[:, 1:4:2, ::2, 1:-1]), [X4]),
    ("index_select", fn(lambda s, x: torch.index_select(x, 1, torch.tensor([3, 0, 2]))), [X4]),
    ("select", fn(lambda s, x: x[:, 2] * 2), [X4]),
    ("channel_shuffle", fn(lambda s, x: x.view(1, 2, 2, 6, 6).transpose(1, 2).reshape(1, 4, 6, 6)), [X4]),
    # pooling, reductions
    ("max_pool", fn(lambda s, x: F.max_pool2d(x, 3, 2, 1)), [X4]),
    ("max_pool_ceil", fn(lambda s, x: F.max_pool2d(x, 2, 2, ceil_mode=True)), [(1, 4, 7, 7)]),
    ("avg_pool", fn(lambda s, x: F.avg_pool2d(x, 3, 2, 1) + F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
     [X4]),
    ("adaptive_avg", fn(lambda s, x: F.adaptive_avg_pool2d(x, 2) + F.adaptive_avg_pool2d(x, 1)), [X4]),
    ("reductions", fn(lambda s, x: x.mean((2, 3)) + x.sum(-1).sum(-1) + x.amax((2, 3)) + x.amin((2, 3))), [X4]),
    ("softmax", fn(lambda s, x: F.softmax(x, 1) + F.log_softmax(x, -1)), [X4]),
    # matrix products
    ("matmul_bmm", fn(lambda s, x, y: torch.matmul(x, y) + torch.bmm(x, y)), [(2, 3, 5), (2, 5, 4)]),
    ("einsum", fn(lambda s, x, y: torch.einsum("bij,bjk->bik", x, y)), [(2, 3, 5), (2, 5, 4)]),
    ("linear_3d", fn(lambda s, x: s.mods[0](x), nn.Linear(5, 7)), [(2, 3, 5)]),
    ("sdpa", fn(lambda s, q, k: F.scaled_dot_product_attention(q, k, k)), [(1, 2, 5, 8), (1, 2, 5, 8)]),
    ("mha", fn(lambda s, x: s.mods[0](x, x, x, need_weights=False)[0], nn.MultiheadAttention(8, 2, batch_first=True)),
     [(1, 5, 8)]),
    # convolutions and normalization
    ("conv_groups_dilation", fn(lambda s, x: s.mods[0](x), nn.Conv2d(4, 8, 3, padding=2, dilation=2, groups=2)),
     [X4]),
    ("conv_same", fn(lambda s, x: s.mods[0](x), nn.Conv2d(4, 4, 3, padding="same")), [X4]),
    ("conv_reflect", fn(lambda s, x: s.mods[0](x), nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect")), [X4]),
    ("conv1d", fn(lambda s, x: s.mods[0](x), nn.Conv1d(4, 6, 5, stride=2, padding=2)), [(1, 4, 20)]),
    ("conv_transpose", fn(lambda s, x: s.mods[0](x), nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1,
                                                                      output_padding=1)), [X4]),
    ("layer_norm", fn(lambda s, x: s.mods[0](x), nn.LayerNorm(6)), [X4]),
    ("group_norm", fn(lambda s, x: s.mods[0](x), nn.GroupNorm(2, 4)), [X4]),
    ("batch_norm", fn(lambda s, x: s.mods[0](x), nn.BatchNorm2d(4)), [X4]),
    # resizing and padding
    ("interp_nearest", fn(lambda s, x: F.interpolate(x, scale_factor=2, mode="nearest")), [X4]),
    ("interp_bilinear", fn(lambda s, x: F.interpolate(x, size=(9, 11), mode="bilinear", align_corners=False)), [X4]),
    ("interp_bilinear_ac", fn(lambda s, x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)),
     [X4]),
    ("pad_modes", fn(lambda s, x: F.pad(x, (1, 2, 0, 1), value=0.5) [..., :7, :9].sum() + F.pad(x, (2, 1, 1, 2),
                                                                                              mode="reflect").sum()
                     + F.pad(x, (1, 1, 2, 0), mode="replicate").sum()), [X4]),
    ("dropout_eval", fn(lambda s, x: s.mods[0](x) * 2, nn.Dropout(0.5)), [X4]),
    ("embedding", fn(lambda s, i: s.mods[0](i), nn.Embedding(10, 4)), [("int", (2, 3))]),
]


def _inputs(shapes, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for s in shapes:
        if isinstance(s, tuple) and s and s[0] == "int":
            out.append(torch.randint(0, 10, s[1], generator=g))
        else:
            out.append(torch.randn(*s, generator=g))
    return tuple(out)


@pytest.mark.parametrize("name,factory,shapes", CASES, ids=[c[0] for c in CASES])
def test_op_matches_pytorch(name, factory, shapes):
    torch.manual_seed(0)
    module = factory().eval()
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_against_torch(module, _inputs(shapes), io_layout="keep")


def test_outputs_are_float_in_nhwc_by_default_and_names_follow_forward():
    import eightbit
    from tests.importers.torch.helpers import convert

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, image, scale):
            return self.c(image) * scale

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = convert(Two().eval(), (torch.randn(1, 3, 8, 8), torch.randn(1, 4, 1, 1)))
    it = eightbit.Interpreter(model_content=data)
    names = [d["name"] for d in it.get_input_details()]
    assert names == ["image", "scale"]
    assert list(it.get_input_details()[0]["shape"]) == [1, 8, 8, 3]
    sig = eightbit.load(data).signature_defs[0]
    assert [i["name"] for i in sig["inputs"]] == ["image", "scale"]
    assert np.array_equal(it.get_output_details()[0]["shape"], [1, 8, 8, 4])


def test_hardswish_stays_one_builtin():
    import eightbit
    from tests.importers.torch.helpers import convert

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = convert(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Hardswish()).eval(), (torch.randn(1, 3, 8, 8),))
    assert [op.op_type for op in eightbit.load(data).main.operators] == ["CONV_2D", "HARD_SWISH"]
