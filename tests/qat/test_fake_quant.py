"""fake_quant against values worked out by hand from TF's FakeQuantWithMinMaxVars definition
(core/kernels/fake_quant_ops_functor.h: Nudge, then floor(x / scale + 0.5) on the nudged grid)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from eightbit.qat import FakeQuant, fake_quant, nudge  # noqa: E402

# (min, max, num_bits, narrow_range, inputs, expected outputs); every scale here is 1 so the
# expected values are exact small integers a reader can check by hand.
CASES = [
    # plain [0, 255]: clamp at both ends, ties (x.5) round up
    (0.0, 255.0, 8, False, [-1.0, 0.0, 0.5, 1.4999, 254.5, 300.0], [0.0, 0.0, 1.0, 1.0, 255.0, 255.0]),
    # zero point 10: ties round up, not away from zero (-2.5 -> -2, 2.5 -> 3)
    (-10.0, 245.0, 8, False, [-2.5, 2.5, -10.4, -11.0], [-2.0, 3.0, -10.0, -10.0]),
    # nudging: zero_point_from_min 0.3 rounds to 0, so the range moves to [0, 255]
    (-0.3, 254.7, 8, False, [-0.3, 254.7, 255.0], [0.0, 255.0, 255.0]),
    # zero_point_from_min 0.5 is a tie: std::round takes it away from zero (to 1): range [-1, 254]
    (-0.5, 254.5, 8, False, [-3.0, -1.0, 254.5, 300.0], [-1.0, -1.0, 254.0, 254.0]),
    # narrow range: grid 1..255, zero point 128, range [-127, 127]
    (-127.0, 127.0, 8, True, [-200.0, -127.0, 0.4, 126.6, 200.0], [-127.0, -127.0, 0.0, 127.0, 127.0]),
    # 2 bits: levels 0..3
    (0.0, 3.0, 2, False, [-1.0, 1.7, 2.5, 5.0], [0.0, 2.0, 3.0, 3.0]),
    # 16 bits: levels 0..65535
    (0.0, 65535.0, 16, False, [1234.5, 70000.0], [1235.0, 65535.0]),
    # min > 0: zero point clamps to 0, the range becomes [0, max - min]
    (2.0, 257.0, 8, False, [1.0, -5.0, 300.0], [1.0, 0.0, 255.0]),
    # max < 0: zero point clamps to 255, the range becomes [min - max, 0]
    (-257.0, -2.0, 8, False, [5.0, -300.0, -3.2], [0.0, -255.0, -3.0]),
]


@pytest.mark.parametrize("lo,hi,bits,narrow,x,expected", CASES)
def test_values_match_tf_definition(lo, hi, bits, narrow, x, expected):
    y = fake_quant(torch.tensor(x), lo, hi, num_bits=bits, narrow_range=narrow)
    np.testing.assert_array_equal(y.numpy(), np.array(expected, np.float32))


def test_nudge_non_integer_scale():
    # min -1, max 1, 8 bits: scale = 2/255 in float32; zero_point_from_min = 1 / scale, which
    # float32 makes 127.49999 (not 127.5), so it rounds to 127:
    # nudged_min = -127 * scale, nudged_max = 128 * scale (TF computes all of this in float32)
    s = np.float32(2.0) / np.float32(255.0)
    assert np.float32(1.0) / s < np.float32(127.5)
    nmin, nmax, scale, zp = nudge(torch.tensor(-1.0), torch.tensor(1.0))
    assert float(zp) == 127.0
    assert scale.item() == s
    assert nmin.item() == np.float32(-127.0) * s and nmax.item() == np.float32(128.0) * s
    # 0 maps exactly to 0; -1 clamps to the nudged min; 1.0 lies inside [nudged_min, nudged_max]
    # and lands on grid step 255 (TF's float32 formula, evaluated here step by step with numpy)
    y = fake_quant(torch.tensor([0.0, 1.0, -1.0]), -1.0, 1.0)
    f32 = np.float32
    nmin32 = f32(-127.0) * s
    step = np.floor((f32(1.0) - nmin32) / s + f32(0.5))
    assert step == 255.0
    assert y[0].item() == 0.0
    assert y[1].item() == f32(step * s + nmin32) and y[2].item() == nmin32


def test_straight_through_gradient_and_range_gradients():
    x = torch.tensor([-1.0, 0.0, 100.0, 255.0, 256.0, 300.0], requires_grad=True)
    lo = torch.tensor(0.0, requires_grad=True)
    hi = torch.tensor(255.0, requires_grad=True)
    g = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    fake_quant(x, lo, hi).backward(g)
    # inside the nudged range (both ends included) the gradient passes, outside it is 0
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 3.0, 4.0, 0.0, 0.0])
    assert lo.grad.item() == 1.0  # the element below min
    assert hi.grad.item() == 11.0  # the elements above max: 5 + 6


def test_per_channel_on_axis_0():
    x = torch.tensor([[0.4, 300.0], [-3.0, 2.5]])
    lo = torch.tensor([0.0, -10.0])
    hi = torch.tensor([255.0, 245.0])
    y = fake_quant(x, lo, hi, axis=0)
    np.testing.assert_array_equal(y.numpy(), [[0.0, 255.0], [-3.0, 3.0]])
    lo.requires_grad_(True)
    hi.requires_grad_(True)
    x2 = torch.tensor([[-1.0, 300.0], [-20.0, 250.0]], requires_grad=True)
    fake_quant(x2, lo, hi, axis=0).sum().backward()
    np.testing.assert_array_equal(lo.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(hi.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("bad", [1, 17, 8.0])
def test_num_bits_checked(bad):
    with pytest.raises(ValueError, match="num_bits"):
        fake_quant(torch.zeros(2), -1.0, 1.0, num_bits=bad)


def test_per_channel_size_checked():
    with pytest.raises(ValueError, match="needs 3 min/max"):
        fake_quant(torch.zeros(3, 2), torch.zeros(2), torch.ones(2), axis=0)


def test_degenerate_range_stays_finite():
    y = fake_quant(torch.tensor([0.0, 1.0, -1.0]), 0.0, 0.0)
    assert torch.isfinite(y).all()
    assert y[0].item() == 0.0


def test_module_ema_tracks_range_including_zero_and_honours_quant_delay():
    fq = FakeQuant(mode="ema", ema_decay=0.5, quant_delay=1)
    fq.train()
    x1 = torch.tensor([1.0, 3.0])  # batch range [1, 3] -> [0, 3] (0 always included)
    assert torch.equal(fq(x1), x1)  # step 1 <= quant_delay: pass through, range learned
    assert fq.min_val.item() == 0.0 and fq.max_val.item() == 3.0
    x2 = torch.tensor([-2.0, 5.0])
    fq(x2)  # EMA with decay 0.5: min 0*0.5 + -2*0.5 = -1, max 3*0.5 + 5*0.5 = 4
    assert fq.min_val.item() == -1.0 and fq.max_val.item() == 4.0
    fq.eval()
    before = (fq.min_val.clone(), fq.max_val.clone())
    fq(torch.tensor([-100.0, 100.0]))  # eval: range frozen
    assert torch.equal(fq.min_val, before[0]) and torch.equal(fq.max_val, before[1])


def test_module_symmetric_per_channel_weights():
    fq = FakeQuant(mode="last_value", axis=0, symmetric=True, narrow_range=True, channels=2)
    w = torch.tensor([[127.0, -50.0], [-254.0, 100.0]])
    y = fq(w)
    # channel 0: range [-127, 127], scale 1; channel 1: [-254, 254], scale 2 (254 / 127)
    np.testing.assert_array_equal(fq.min_val.numpy(), [-127.0, -254.0])
    np.testing.assert_array_equal(y.numpy(), [[127.0, -50.0], [-254.0, 100.0]])
    fq(torch.tensor([[0.6, 0.0], [3.0, -1.0]]))  # last value: the range follows the newest weights
    np.testing.assert_array_equal(fq.max_val.numpy(), np.array([0.6, 3.0], np.float32))
