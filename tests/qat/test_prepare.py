"""prepare's training graph against PyTorch's own layers (the oracle): BatchNorm folding for
training (Jacob et al. 3.2) gives BatchNorm's batch-statistics output and running statistics,
evaluation equals conv + BatchNorm with running statistics; per-channel symmetric weights;
per-layer bit widths; clear errors for bad configurations."""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from eightbit.qat import FusedLayer, QATConfig, prepare  # noqa: E402


def conv_bn_relu():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 6, 3), nn.BatchNorm2d(6), nn.ReLU())
    with torch.no_grad():
        m[1].weight.uniform_(0.5, 2.0)
        m[1].bias.uniform_(-1, 1)
        m[1].running_mean.uniform_(-1, 1)
        m[1].running_var.uniform_(0.5, 2.0)
    return m


@pytest.mark.parametrize("layer", [nn.Conv2d(3, 6, 3), nn.Linear(5, 6)], ids=["conv", "linear"])
def test_bn_folding_for_training_equals_batchnorm(layer):
    """With weight quantization delayed, the fused layer in train mode is conv -> BN(batch stats)
    -> ReLU exactly, and updates the running statistics as BatchNorm does."""
    torch.manual_seed(1)
    bn = nn.BatchNorm2d(6) if isinstance(layer, nn.Conv2d) else nn.BatchNorm1d(6)
    ref = nn.Sequential(layer, bn, nn.ReLU())
    fused = FusedLayer(copy.deepcopy(layer), copy.deepcopy(bn), "relu", quant_delay=10)
    ref.train()
    fused.train()
    x = torch.randn(16, 3, 7, 7) if isinstance(layer, nn.Conv2d) else torch.randn(16, 5)
    np.testing.assert_allclose(fused(x).detach().numpy(), ref(x).detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fused.bn.running_mean.numpy(), bn.running_mean.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fused.bn.running_var.numpy(), bn.running_var.numpy(), rtol=1e-4, atol=1e-6)
    ref.eval()
    fused.eval()  # eval quantizes the folded weights: within the weight rounding of the float layers
    got, want = fused(x).detach().numpy(), ref(x).detach().numpy()
    assert np.max(np.abs(got - want)) < 0.02 * np.max(np.abs(want))


def test_frozen_bn_uses_running_statistics():
    m = conv_bn_relu()
    fused = FusedLayer(copy.deepcopy(m[0]), copy.deepcopy(m[1]), "relu", quant_delay=100, freeze_bn_delay=0)
    fused.train()
    x = torch.randn(8, 3, 6, 6)
    m.eval()
    np.testing.assert_allclose(fused(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(fused.bn.running_mean.numpy(), m[1].running_mean.numpy())  # not updated


@pytest.mark.parametrize("bits", [8, 4, 2])
def test_weights_are_per_channel_symmetric_narrow(bits):
    m = conv_bn_relu()
    q = prepare(m, (torch.randn(1, 3, 6, 6),), QATConfig(weight_bits=bits))
    fused = next(x for x in q.modules() if isinstance(x, FusedLayer))
    q.eval()
    w = fused.layer.weight * (fused.bn.weight / torch.sqrt(fused.bn.running_var + fused.bn.eps)).reshape(-1, 1, 1, 1)
    wq = fused.quantize_weight(w).detach()
    levels = (1 << (bits - 1)) - 1
    for c in range(w.shape[0]):
        scale = w[c].abs().max().item() / levels
        k = wq[c].numpy() / scale
        np.testing.assert_allclose(k, np.round(k), atol=1e-3)  # on the channel's grid
        assert np.abs(k).max() <= levels + 1e-3 and np.abs(k).max() >= levels - 1e-3


def test_relu_is_fused_and_quantized_after_it():
    q = prepare(conv_bn_relu(), (torch.randn(1, 3, 6, 6),))
    kinds = [type(m).__name__ for _, m in q.named_children()]
    assert kinds.count("FusedLayer") == 1 and "ReLU" not in kinds and "BatchNorm2d" not in kinds
    assert kinds.count("ActQuant") == 2  # the input and the fused layer's output


def test_per_layer_bits_and_errors():
    m = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 3))
    q = prepare(m, (torch.randn(1, 1, 8, 8),), QATConfig(layers={"3": {"weight_bits": 4}}))
    bits = sorted(x.weight_bits for x in q.modules() if isinstance(x, FusedLayer))
    assert bits == [4, 8]
    with pytest.raises(ValueError, match="does not have"):
        prepare(m, (torch.randn(1, 1, 8, 8),), QATConfig(layers={"fc": {"weight_bits": 4}}))
    with pytest.raises(ValueError, match="unknown option"):
        QATConfig(layers={"3": {"weight_bit": 4}})
    with pytest.raises(ValueError, match="activation_bits"):
        QATConfig(activation_bits=12)
    with pytest.raises(ValueError, match="scheme"):
        QATConfig(scheme="uint8")


class ShapeBranch(nn.Module):
    """Python control flow on a shape: torch.fx cannot trace it, torch.export resolves it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.fc = nn.Linear(8 * 16, 10)

    def forward(self, x):
        y = self.conv(x)
        if y.shape[-1] > 4:
            y = nn.functional.max_pool2d(y, 2)
        return self.fc(y.flatten(1))


def test_prepare_exports_control_flow_fx_cannot_trace():
    from tests.qat.test_export import assert_exact_export, train_qat

    with pytest.raises(Exception):  # noqa: B017 - fx's error type varies; the point is that it fails
        torch.fx.symbolic_trace(ShapeBranch())
    q, xte = train_qat(ShapeBranch, steps=20)
    assert sum(isinstance(m, FusedLayer) for m in q.modules()) == 2
    assert_exact_export(q, xte)


def test_unfused_batchnorm_and_dropout_train():
    """torch.export freezes BatchNorm and dropout in eval form; prepare calls the modules again."""
    m = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.BatchNorm2d(4), nn.Dropout(0.5), nn.Flatten(), nn.Linear(4 * 36, 3))
    q = prepare(m, (torch.randn(1, 1, 8, 8),))
    bn = next(x for x in q.modules() if isinstance(x, nn.BatchNorm2d))
    before = bn.running_mean.clone()
    q.train()
    x = torch.randn(16, 1, 8, 8)
    a, b = q(x), q(x)
    assert not torch.equal(bn.running_mean, before)  # batch statistics in training
    assert not torch.equal(a, b)  # dropout active
    q.eval()
    torch.testing.assert_close(q(x), q(x))
