"""scheme="tf1_uint8": TF1 contrib quantize + TOCO's legacy uint8 model. The exported file has
uint8 activations, per-tensor asymmetric uint8 weights on 1..255 (create_training_graph's
narrow_range) with int32 biases at input_scale * weight_scale, an input described by mean / std,
and LiteRT's reference kernels compute what the eval-mode forward simulated."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import eightbit  # noqa: E402
from eightbit.qat import QATConfig, convert  # noqa: E402
from tests.qat import models  # noqa: E402
from tests.qat.test_export import litert_batch, train_qat  # noqa: E402

STATS = {"x": (127.5, 127.5)}
SLOW = pytest.mark.slow


def uint8_agreement(q, x, data):
    """Feed LiteRT the uint8 image TFLite's QUANTIZE would make (round half away from zero) and
    the simulation its dequantized values; compare the dequantized uint8 outputs."""
    sg = eightbit.load(data).main
    inp, out = sg.tensors[sg.inputs[0]], sg.tensors[sg.outputs[0]]
    s, z = np.float32(inp.quantization.scale[0]), int(inp.quantization.zero_point[0])
    v = x.permute(0, 2, 3, 1).numpy() / s
    xq = np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5) + z, 0, 255).astype(np.uint8)
    with torch.no_grad():
        want = q(torch.from_numpy((xq.astype(np.float32) - z) * s).permute(0, 3, 1, 2)).numpy()
    so, zo = float(out.quantization.scale[0]), int(out.quantization.zero_point[0])
    got = (litert_batch(data, xq).reshape(want.shape).astype(np.float32) - zo) * so
    return np.mean(got.argmax(-1) == want.argmax(-1)), np.mean(np.abs(got - want) / so <= 2 + 1e-3)


def export(q, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return convert(q, (x[:1],))


def assert_legacy_layout(data):
    """The layout of the corpus's cnn__uint8_legacy (TOCO): every tensor integer, uint8 in and
    out, weights uint8 per tensor, biases int32 with zero point 0."""
    sg = eightbit.load(data).main
    assert "DEQUANTIZE" not in [op.op_type for op in sg.operators]  # QUANTIZE only requantizes uint8 (CONCATENATION)
    inp = sg.tensors[sg.inputs[0]]
    assert inp.type == sg.tensors[sg.outputs[0]].type == "UINT8"
    assert np.isclose(inp.quantization.scale[0], 1 / 127.5) and inp.quantization.zero_point.tolist() == [128]
    weights = 0
    for op in sg.operators:
        assert sg.tensors[op.outputs[0]].type == "UINT8", op.op_type
        if op.op_type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            x, w, b = (sg.tensors[i] for i in op.inputs[:3])
            assert w.type == "UINT8" and w.quantization.scale.size == 1
            assert w.data.min() >= 1 and 1 <= w.quantization.zero_point[0] <= 255  # narrow range 1..255
            assert b.type == "INT32" and b.quantization.zero_point.tolist() == [0]
            np.testing.assert_allclose(b.quantization.scale, x.quantization.scale * w.quantization.scale, rtol=1e-6)
            weights += 1
    assert weights >= 2


@pytest.mark.parametrize("make", [models.Residual, pytest.param(models.DigitsCNN, marks=SLOW),
                                  pytest.param(models.Concat, marks=SLOW), pytest.param(models.TanhSigmoid, marks=SLOW),
                                  pytest.param(models.HardSwish, marks=SLOW)], ids=lambda f: f.__name__)
def test_legacy_uint8_export_matches_eval_simulation(make):
    q, xte = train_qat(make, steps=40, config=QATConfig(scheme="tf1_uint8", quantized_input_stats=STATS))
    data = export(q, xte)
    assert_legacy_layout(data)
    top1, within = uint8_agreement(q, xte, data)
    print(f"top-1 agreement {top1:.3f}, within 2 steps {within:.4f}")
    assert top1 >= 0.995 and within >= 0.99, (top1, within)


def test_weights_are_per_tensor_asymmetric_narrow():
    q, _ = train_qat(models.DigitsCNN, steps=3, config=QATConfig(scheme="tf1_uint8"))
    fused = next(m for m in q.modules() if type(m).__name__ == "FusedLayer")
    w = fused.folded_weight(fused.layer.weight).detach()
    wq = fused.quantize_weight(w).detach()
    lo, hi = min(w.min().item(), 0.0), max(w.max().item(), 0.0)
    scale = (hi - lo) / 254  # TF's nudge on [1, 255]: one scale for the tensor
    zp = np.floor(1 - lo / scale + 0.5)
    k = wq.numpy() / scale + zp
    np.testing.assert_allclose(k, np.round(k), atol=2e-3)
    assert k.min() >= 1 - 1e-3 and k.max() <= 255 + 1e-3


def test_float_edges_and_errors():
    q, xte = train_qat(models.DigitsCNN, steps=3, config=QATConfig(scheme="tf1_uint8", quantized_input_stats=STATS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = convert(q, (xte[:1],), inference_input_type=np.float32, inference_output_type=np.float32)
    sg = eightbit.load(data).main
    assert sg.tensors[sg.inputs[0]].type == "FLOAT32"
    assert [op.op_type for op in sg.operators][0] == "QUANTIZE"
    with pytest.raises(ValueError, match="8-bit"):
        QATConfig(scheme="tf1_uint8", activation_bits=16)
    with pytest.raises(ValueError, match="std > 0"):
        QATConfig(quantized_input_stats={"x": (0.0, 0.0)})
    with pytest.raises(ValueError, match="not inputs"):
        train_qat(models.DigitsCNN, steps=1, config=QATConfig(quantized_input_stats={"input": (127.5, 127.5)}))
