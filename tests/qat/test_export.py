"""QAT export is exact: the .tflite run in LiteRT's reference kernels computes what the prepared
model's eval-mode forward simulated (same top-1 on >= 99.5% of held-out samples, dequantized
outputs within 2 output steps on >= 99% of elements), for the model shapes TFLite quantizes
differently: fused conv+BN+ReLU, pooling, ADD, CONCATENATION, HARD_SWISH, TANH / SIGMOID / SOFTMAX."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import eightbit  # noqa: E402
from eightbit.qat import QATConfig, convert, prepare  # noqa: E402
from tests.qat import models  # noqa: E402

SEED = int(__import__("os").environ.get("QAT_TEST_SEED", "0"))


def train_qat(make, steps=30, config=None, seed=SEED):
    torch.manual_seed(seed)
    model = make()
    xtr, ytr, xte, _ = models.digits()
    q = prepare(model, (xtr[:1],), config)
    q.train()
    opt = torch.optim.Adam(q.parameters(), 1e-2)
    for _ in range(steps):
        idx = torch.randint(0, len(xtr), (32,))
        loss = torch.nn.functional.cross_entropy(q(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return q.eval(), xte


def output_scale(data: bytes) -> float:
    m = eightbit.load(data)
    sg = m.main
    dq = next(op for op in sg.operators if op.outputs[0] == sg.outputs[0])
    assert dq.op_type == "DEQUANTIZE"
    return float(sg.tensors[dq.inputs[0]].quantization.scale[0])


def litert_batch(data: bytes, xs: np.ndarray) -> np.ndarray:
    """LiteRT's reference kernels one sample at a time (the graph has a fixed batch of 1)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    rows = []
    for x in xs:
        it.set_tensor(inp, x[None])
        it.invoke()
        rows.append(it.get_tensor(out).copy())
    return np.concatenate(rows)


def agreement(q, x, data):
    with torch.no_grad():
        want = q(x).numpy()
    got = litert_batch(data, x.permute(0, 2, 3, 1).numpy()).reshape(want.shape)
    top1 = np.mean(got.argmax(-1) == want.argmax(-1))
    steps = np.abs(got - want) / output_scale(data)
    return top1, np.mean(steps <= 2 + 1e-3), got, want


def assert_exact_export(q, x, config_note="", within_steps=0.99):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = convert(q, (x[:1],))
    m = eightbit.load(data)
    floats = [op.op_type for op in m.main.operators if op.op_type not in ("QUANTIZE", "DEQUANTIZE")
              and m.main.tensors[op.outputs[0]].type == "FLOAT32"]
    assert floats == [], f"operators left float{config_note}: {floats}"
    top1, within, _, _ = agreement(q, x, data)
    print(f"top-1 agreement {top1:.3f}, within 2 steps {within:.4f}")
    assert top1 >= 0.995 and within >= within_steps, (top1, within)
    return data


SLOW = pytest.mark.slow


@pytest.mark.parametrize("make", [models.DigitsCNN, models.Residual, models.Concat,
                                  pytest.param(models.TanhSigmoid, marks=SLOW),
                                  pytest.param(models.SoftmaxHead, marks=SLOW)], ids=lambda f: f.__name__)
def test_export_matches_eval_simulation(make):
    q, xte = train_qat(make, steps=40)
    assert_exact_export(q, xte)


def test_hard_swish_exports_as_one_integer_op():
    """torch.export decomposes hardswish; convert restores TFLite's HARD_SWISH (own output range)."""
    q, xte = train_qat(models.HardSwish, steps=40)
    data = assert_exact_export(q, xte)
    assert "HARD_SWISH" in [op.op_type for op in eightbit.load(data).main.operators]


def test_sixteen_bit_activations_export_exactly():
    q, xte = train_qat(models.DigitsCNN, steps=15, config=QATConfig(activation_bits=16))
    # the simulation includes the int16 kernels' 16-bit reduced requantization multiplier
    data = assert_exact_export(q, xte)
    m = eightbit.load(data)
    conv = next(op for op in m.main.operators if op.op_type == "CONV_2D")
    assert m.main.tensors[conv.outputs[0]].type == "INT16"


def test_integer_model_edges():
    """inference_input_type / inference_output_type int8: the same integer model without the edge
    QUANTIZE / DEQUANTIZE (LiteRT on quantized inputs gives the float model's output integers)."""
    q, xte = train_qat(models.Residual, steps=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        floats = convert(q, (xte[:1],))
        ints = convert(q, (xte[:1],), inference_input_type=np.int8, inference_output_type=np.int8)
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=ints, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    (s_in, z_in), (s_out, z_out) = inp["quantization"], out["quantization"]
    x = xte[:8].permute(0, 2, 3, 1).numpy()
    v = x / np.float32(s_in)  # TFLite QUANTIZE: float32 division, round half away from zero
    xq = np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5) + z_in, -128, 127).astype(np.int8)
    got = []
    for row in xq:
        it.set_tensor(inp["index"], row[None])
        it.invoke()
        got.append((it.get_tensor(out["index"]).astype(np.float32) - z_out) * s_out)
    np.testing.assert_array_equal(np.concatenate(got), litert_batch(floats, x))


def test_keep_float_layer_stays_float():
    """A keep_float conv trains with float weights and exports as a FLOAT32 CONV_2D between
    DEQUANTIZE / QUANTIZE; the rest stays integer and exact."""
    q, xte = train_qat(models.DigitsCNN, steps=20, config=QATConfig(keep_float=("features.2.0",)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = convert(q, (xte[:1],))
    sg = eightbit.load(data).main
    kinds = [(op.op_type, sg.tensors[op.outputs[0]].type) for op in sg.operators]
    assert kinds.count(("CONV_2D", "FLOAT32")) == 1 and kinds.count(("CONV_2D", "INT8")) == 1
    floats = [k for k, t in kinds if t == "FLOAT32" and k != "DEQUANTIZE"]
    assert floats == ["CONV_2D"]
    conv = next(op for op in sg.operators if op.op_type == "CONV_2D" and sg.tensors[op.outputs[0]].type == "FLOAT32")
    assert sg.tensors[conv.inputs[1]].type == "FLOAT32"  # the trained float weights, not quantized by the export
    top1, within, _, _ = agreement(q, xte, data)
    assert top1 >= 0.995 and within >= 0.99, (top1, within)
    with pytest.raises(ValueError, match="conv / linear"):
        prepare(models.DigitsCNN(), (xte[:1],), QATConfig(keep_float=("features.1",)))
