"""ONNX models quantized by onnxruntime (quantize_static: QDQ and QOperator formats, per-channel,
int8 and uint8 activations) convert to all-integer .tflite files that keep the given parameters.

Oracles: onnxruntime runs the quantized ONNX model; LiteRT's reference kernels run our file. The
models are small torch CNNs / MLPs trained for a few steps on eightbit/data/digits.npz (so top-1 is
meaningful), calibrated on its calibration images.

Checked for each model and format:
- our outputs (LiteRT) within 2 output steps of onnxruntime's on >= 99% of elements, same top-1 on
  >= 99% of samples;
- every quantized tensor of the ONNX model that our file has by name keeps its scales and zero
  points (uint8 ones shifted to int8), unless the converter's report lists it;
- no operator left float; eightbit's interpreter gives exactly LiteRT's outputs; eightbit.load passes.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")
quantization = pytest.importorskip("onnxruntime.quantization")

import eightbit  # noqa: E402
from tests.oracle import run_eightbit, run_litert  # noqa: E402

DIGITS = os.path.join(os.path.dirname(eightbit.__file__), "data", "digits.npz")
Q = quantization


def digits():
    d = np.load(DIGITS)
    x = d["eval_0"][:, 0].transpose(0, 3, 1, 2).astype(np.float32)  # (300, 1, 8, 8) NCHW
    calib = d["calib_0"][:, 0].transpose(0, 3, 1, 2).astype(np.float32)
    return x, d["labels"], calib


# ---- the models -----------------------------------------------------------------------------

class CNN(torch.nn.Module):
    """conv, depthwise conv, grouped conv, residual add, max / average pooling, concat, gemm, softmax."""

    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.g = torch.nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.dw = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = torch.nn.Conv2d(8, 8, 1)
        self.fc = torch.nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        y = torch.relu(self.g(torch.relu(self.c1(x))))
        z = self.pw(torch.relu(self.dw(y))) + y
        z = torch.cat([torch.nn.functional.max_pool2d(z, 2), torch.nn.functional.avg_pool2d(z, 2)], 1)
        return torch.softmax(self.fc(z.flatten(1)), -1)


class MLP(torch.nn.Module):
    """flatten, gemm, sigmoid, leaky relu, concat, gemm."""

    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(64, 24)
        self.l3 = torch.nn.Linear(64, 8)
        self.l2 = torch.nn.Linear(24 + 8, 10)

    def forward(self, x):
        flat = x.flatten(1)
        h = torch.sigmoid(self.l1(flat))
        g = torch.nn.functional.leaky_relu(self.l3(flat), 0.1)
        return self.l2(torch.cat([h, g], 1))


class Mixer(torch.nn.Module):
    """conv, global average pooling, broadcast mul, matmul with a constant matrix."""

    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 4, 3, padding=1, stride=2)
        self.w = torch.nn.Parameter(torch.randn(64, 10) * 0.1)

    def forward(self, x):
        y = torch.relu(self.c1(x))
        y = y * torch.nn.functional.adaptive_avg_pool2d(y, 1)
        return torch.matmul(y.flatten(1), self.w)


def trained(model_cls, steps=120):
    torch.manual_seed(0)
    model = model_cls()
    x, labels, _ = digits()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    for _ in range(steps):
        opt.zero_grad()
        out = model(xt)
        loss = torch.nn.functional.nll_loss(torch.log(out + 1e-9), yt) if model_cls is CNN else \
            torch.nn.functional.cross_entropy(out, yt)
        loss.backward()
        opt.step()
    return model.eval()


class Calibration(Q.CalibrationDataReader):
    def __init__(self, samples):
        self.it = iter([{"x": s[None]} for s in samples])

    def get_next(self):
        return next(self.it, None)


def export(model, path):
    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), path, input_names=["x"], output_names=["y"],
                      opset_version=17, dynamo=False)


ACT_TYPES = {"int8": Q.QuantType.QInt8, "uint8": Q.QuantType.QUInt8, "int16": Q.QuantType.QInt16}


def quantize(float_path, out_path, fmt, act, weight_type=Q.QuantType.QInt8):
    _, _, calib = digits()
    Q.quantize_static(float_path, out_path, Calibration(calib[:64]),
                      quant_format=Q.QuantFormat.QDQ if fmt == "qdq" else Q.QuantFormat.QOperator,
                      per_channel=True, activation_type=ACT_TYPES[act], weight_type=weight_type,
                      extra_options={"UseQDQContribOps": act == "int16"})


@pytest.fixture(scope="module")
def float_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx_quantized")
    paths = {}
    for cls in (CNN, MLP, Mixer):
        paths[cls.__name__] = str(d / f"{cls.__name__}.onnx")
        export(trained(cls), paths[cls.__name__])
    return paths


# ---- the checks -----------------------------------------------------------------------------

def onnx_params(path) -> dict:
    """{value name: (scale, zero point as int8 storage)} of every quantized value of the ONNX model."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    found = {}

    def add(value, s, z):
        if s in init:
            zp = init.get(z, np.zeros(1, np.uint8)) if z else np.zeros(1, np.uint8)
            shift = 128 if zp.dtype == np.uint8 else 0
            found[value] = (init[s].astype(np.float32).reshape(-1), zp.astype(np.int64).reshape(-1) - shift)

    outs = {"QLinearConv": (6, 7), "QLinearMatMul": (6, 7), "QGemm": (7, 8), "QLinearAdd": (6, 7),
            "QLinearMul": (6, 7), "QLinearGlobalAveragePool": (3, 4), "QLinearAveragePool": (3, 4),
            "QLinearSigmoid": (3, 4), "QLinearSoftmax": (3, 4), "QLinearConcat": (0, 1)}
    for n in m.graph.node:
        ins = list(n.input) + [""] * 10
        if n.op_type == "QuantizeLinear":
            add(n.output[0], ins[1], ins[2])
        elif n.op_type == "DequantizeLinear":
            add(ins[0], ins[1], ins[2])
        elif n.op_type in outs:
            s, z = outs[n.op_type]
            add(n.output[0], ins[s], ins[z])
        if n.op_type in ("QLinearConv", "QLinearMatMul", "QGemm"):
            add(ins[3], ins[4], ins[5])
    return found


def unlisted_changes(tflite_model, onnx_path, notes) -> list:
    listed = " ".join(notes)
    bad = []
    given = onnx_params(onnx_path)
    for t in tflite_model.main.tensors:
        if t.name not in given or not t.quantized:
            continue
        scale, zp = given[t.name]
        if t.type == "INT32":
            zp = np.zeros_like(zp)
        same = np.array_equal(t.quantization.scale, scale) and np.array_equal(t.quantization.zero_point, zp)
        if not same and f"'{t.name}'" not in listed:
            bad.append(f"{t.name}: {t.quantization.scale[:2]} {t.quantization.zero_point[:2]} vs {scale[:2]} {zp[:2]}")
    return bad


def output_step(onnx_path) -> float:
    import onnx
    from onnx import numpy_helper

    m = onnx.load(onnx_path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    last = [n for n in m.graph.node if n.op_type == "DequantizeLinear" and n.output[0] == "y"]
    return float(init[last[0].input[1]]) if last else 0.0


def convert(onnx_path):
    conv = eightbit.TFLiteConverter.from_onnx(onnx_path)
    data = conv.convert()
    return data, conv.report.notes


def check(onnx_path, samples=300, atol=None):
    """atol: an absolute tolerance instead of 2 output steps (int16, whose asymmetric ranges
    become symmetric ones of twice the step)."""
    x, _, _ = digits()
    x = x[:samples]
    data, notes = convert(onnx_path)
    model = eightbit.load(data)
    assert not [n for n in notes if n.startswith("left float")], notes
    sg = model.main
    for op in sg.operators:  # all-integer: float only at the edges
        if op.op_type not in ("QUANTIZE", "DEQUANTIZE"):
            types = {sg.tensors[t].type for t in op.inputs + op.outputs if t >= 0}
            assert "FLOAT32" not in types, (op.op_type, types)
    assert unlisted_changes(model, onnx_path, notes) == []
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    want = np.concatenate([session.run(None, {"x": s[None]})[0] for s in x])
    # image inputs become NHWC where the layout pass moved them (an MLP's input stays as it is)
    nhwc = tuple(sg.tensors[sg.inputs[0]].shape) == (1, 8, 8, 1)
    nhwc = [s[None].transpose(0, 2, 3, 1) if nhwc else s[None] for s in x]
    got = np.concatenate([run_litert(data, [s])[0] for s in nhwc])
    ours = np.concatenate([run_eightbit(data, [s])[0] for s in nhwc])
    np.testing.assert_array_equal(ours, got)
    step = output_step(onnx_path)
    tol = 2 * step * (1 + 1e-5) if atol is None else atol
    close = np.abs(got - want) <= tol
    assert close.mean() >= 0.99, f"{close.mean():.4f} of elements within {tol}"
    top1 = np.mean(got.argmax(-1) == want.argmax(-1))
    assert top1 >= 0.99, f"top-1 agreement {top1:.4f}"
    return notes


FAST = [("CNN", "qdq", "int8"), ("MLP", "qop", "uint8")]
ALL = [(n, f, a) for n in ("CNN", "MLP", "Mixer") for f in ("qdq", "qop") for a in ("int8", "uint8")]


@pytest.mark.parametrize("name, fmt, act", FAST)
def test_quantize_static_models_convert_keeping_their_parameters(float_models, tmp_path, name, fmt, act):
    path = str(tmp_path / f"{name}_{fmt}_{act}.onnx")
    quantize(float_models[name], path, fmt, act)
    check(path, samples=120)


@pytest.mark.slow
@pytest.mark.parametrize("name, fmt, act", [c for c in ALL if c not in FAST])
def test_quantize_static_every_format(float_models, tmp_path, name, fmt, act):
    path = str(tmp_path / f"{name}_{fmt}_{act}.onnx")
    quantize(float_models[name], path, fmt, act)
    check(path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["CNN", "MLP"])
def test_16_bit_qdq_becomes_int16x8(float_models, tmp_path, name):
    """onnxruntime's 16-bit QDQ (contrib Q/DQ ops, asymmetric int16): symmetric int16 activations
    (every change listed, a range starting at 0 keeps its clamp), int8 weights, int64 biases."""
    path = str(tmp_path / f"{name}_int16.onnx")
    quantize(float_models[name], path, "qdq", "int16")
    notes = check(path, samples=150, atol=2e-3 * output_range(path))
    assert any("TFLite's int16 kernels need zero point 0" in n for n in notes)


@pytest.mark.slow
def test_uint8_weights_are_requantized_to_symmetric_int8_and_listed(float_models, tmp_path):
    path = str(tmp_path / "CNN_u8w.onnx")
    quantize(float_models["CNN"], path, "qop", "uint8", weight_type=Q.QuantType.QUInt8)
    notes = check(path, samples=150)
    assert any("zero point != 0: requantized to symmetric int8" in n for n in notes), notes


def output_range(path) -> float:
    x, _, _ = digits()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return float(np.max(np.abs(np.concatenate([session.run(None, {"x": s[None]})[0] for s in x[:20]]))))


def test_qat_style_weights_quantized_in_the_graph(tmp_path):
    """QuantizeLinear of a float weight initializer (per channel, as QAT exports write it) then
    DequantizeLinear: the weight reaches CONV_2D as the integers ONNX's QuantizeLinear gives."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.3, (4, 1, 3, 3)).astype(np.float32)
    w_scale = (np.abs(w).reshape(4, -1).max(1) / 127).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in [
        (w, "w"), (w_scale, "w_s"), (np.zeros(4, np.int8), "w_zp"), (np.float32(0.02), "x_s"), (np.int8(0), "x_zp"),
        (np.float32(0.05), "y_s"), (np.int8(-3), "y_zp")]]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_s", "x_zp"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "x_s", "x_zp"], ["xf"]),
        helper.make_node("QuantizeLinear", ["w", "w_s", "w_zp"], ["wq"], axis=0),
        helper.make_node("DequantizeLinear", ["wq", "w_s", "w_zp"], ["wf"], axis=0),
        helper.make_node("Conv", ["xf", "wf"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("QuantizeLinear", ["c", "y_s", "y_zp"], ["cq"]),
        helper.make_node("DequantizeLinear", ["cq", "y_s", "y_zp"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "qat", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = str(tmp_path / "qat.onnx")
    onnx.save(model, path)
    conv = eightbit.TFLiteConverter.from_onnx(path)
    data = conv.convert()
    assert conv.report.notes == [] or all(not n.startswith(("left float", "changed")) for n in conv.report.notes)
    sg = eightbit.load(data).main
    op = [o for o in sg.operators if o.op_type == "CONV_2D"][0]
    weight = sg.tensors[op.inputs[1]]
    want = np.clip(np.rint(w / w_scale[:, None, None, None]), -128, 127).astype(np.int8)
    np.testing.assert_array_equal(weight.data, want.transpose(0, 2, 3, 1))  # OIHW -> OHWI
    np.testing.assert_array_equal(weight.quantization.scale, w_scale)
    x = rng.uniform(-2, 2, (8, 1, 6, 6)).astype(np.float32)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for s in x:
        want_y = session.run(None, {"x": s[None]})[0].transpose(0, 2, 3, 1)
        got = run_litert(data, [s[None].transpose(0, 2, 3, 1)])[0]
        assert np.max(np.abs(got - want_y)) <= 1.0001 * 0.05
        np.testing.assert_array_equal(run_eightbit(data, [s[None].transpose(0, 2, 3, 1)])[0], got)


def test_quantization_tflite_cannot_express_is_one_clear_error(tmp_path):
    """Per-axis quantization of an activation has no TFLite form: UnsupportedOpError names it."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(np.array([0.1, 0.2], np.float32), "s"),
             numpy_helper.from_array(np.zeros(2, np.int8), "z")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1, name="per_axis_q"),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = str(tmp_path / "per_axis.onnx")
    onnx.save(model, path)
    with pytest.raises(eightbit.UnsupportedOpError, match="per-axis quantization of an activation"):
        eightbit.TFLiteConverter.from_onnx(path)
