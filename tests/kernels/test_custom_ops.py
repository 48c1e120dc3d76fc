"""Custom ops: eightbit.register_custom_op, and MediaPipe's Convolution2DTransposeBias checked
against its decomposition into builtins (TRANSPOSE_CONV with a bias) run by LiteRT."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

import eightbit
from eightbit.cli import main
from eightbit.ir.builder import ModelBuilder
from tests.oracle import run_eightbit, run_litert

SELFIE = Path(__file__).resolve().parents[1] / "data" / "realmodels" / "selfie_segmentation.tflite"
MP_PADDING = {"SAME": 1, "VALID": 2}  # TfLitePadding, as MediaPipe's custom_options store it
TC_PADDING = {"SAME": 0, "VALID": 1}  # the schema's Padding enum (TransposeConvOptions)


def _custom_model(x_shape, w, bias, padding, stride):
    b = ModelBuilder()
    x = b.tensor("x", x_shape)
    wi, bi = b.const("w", w), b.const("b", bias)
    y = b.tensor("y", (1, 1, 1, 1))  # the kernel works the output shape out
    b.op("CUSTOM", [x, wi, bi], [y], custom_code="Convolution2DTransposeBias",
         custom_options=struct.pack("<3i", MP_PADDING[padding], stride[1], stride[0]))
    return b.inputs(x).outputs(y).build()


def _out_size(size, k, s, padding):
    pad = max(0, k - (size - 1) % s - 1) if padding == "SAME" else 0
    return s * (size - 1) + k - pad


def _builtin_model(x_shape, w, bias, padding, stride):
    n, h, wd, _ = x_shape
    out = (n, _out_size(h, w.shape[1], stride[0], padding), _out_size(wd, w.shape[2], stride[1], padding), w.shape[0])
    b = ModelBuilder()
    x = b.tensor("x", x_shape)
    shape = b.const("output_shape", np.array(out, np.int32))
    wi, bi = b.const("w", w), b.const("b", bias)
    y = b.tensor("y", out)
    b.op("TRANSPOSE_CONV", [shape, wi, x, bi], [y],
         {"padding": TC_PADDING[padding], "stride_w": stride[1], "stride_h": stride[0], "fused_activation_function": 0},
         options_type="TransposeConvOptions", version=3)
    return b.inputs(x).outputs(y).build().to_bytes()


CASES = [
    # (input shape, kernel h, kernel w, cout, padding, stride)
    ((1, 8, 8, 16), 2, 2, 1, "SAME", (2, 2)),  # the selfie segmentation head
    ((1, 5, 7, 3), 3, 3, 4, "SAME", (2, 2)),
    ((2, 4, 6, 2), 3, 2, 5, "VALID", (1, 2)),
    ((1, 6, 5, 4), 4, 4, 3, "SAME", (3, 3)),
    ((1, 3, 3, 1), 1, 1, 2, "VALID", (1, 1)),
]


@pytest.mark.parametrize("x_shape,kh,kw,cout,padding,stride", CASES)
def test_transpose_conv_bias_matches_builtin_decomposition(x_shape, kh, kw, cout, padding, stride):
    rng = np.random.default_rng(sum(x_shape) + kh)
    w = rng.normal(size=(cout, kh, kw, x_shape[3])).astype(np.float32)
    bias = rng.normal(size=cout).astype(np.float32)
    x = rng.normal(size=x_shape).astype(np.float32)
    got = run_eightbit(_custom_model(x_shape, w, bias, padding, stride).to_bytes(), [x])[0]
    want = run_litert(_builtin_model(x_shape, w, bias, padding, stride), [x])[0]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5 * float(np.abs(want).max()) + 1e-6)


def _decompose(model):
    """The model with every Convolution2DTransposeBias replaced by TRANSPOSE_CONV + bias."""
    from eightbit.passes.graph import add_constant

    for sg in model.subgraphs:
        for op in sg.operators:
            if op.op_type == "CUSTOM" and op.custom_code == "Convolution2DTransposeBias":
                pad, sw, sh = struct.unpack_from("<3i", op.custom_options)
                x, w, bias = op.inputs
                shape = add_constant(sg, "output_shape", np.array(sg.tensors[op.outputs[0]].shape, np.int32))
                op.op_type, op.custom_code, op.custom_options, op.version = "TRANSPOSE_CONV", None, None, 3
                op.inputs = [shape, w, x, bias]
                op.options_type = "TransposeConvOptions"
                op.options = {"padding": {1: 0, 2: 1}[pad], "stride_w": sw, "stride_h": sh,
                              "fused_activation_function": 0}
    return model


def test_selfie_segmentation_runs_as_litert_runs_its_decomposition():
    x = np.random.default_rng(0).uniform(0, 1, (1, 256, 256, 3)).astype(np.float32)
    got = run_eightbit(SELFIE.read_bytes(), [x])[0]
    want = run_litert(_decompose(eightbit.load(SELFIE)).to_bytes(), [x])[0]
    np.testing.assert_allclose(got, want, atol=1e-4 * float(np.abs(want).max()))


class Doubler:
    """A user kernel: y = 2 * x, float32 only."""

    types = ("float32",)

    @staticmethod
    def prepare(op):
        if op.inputs[0].type != "FLOAT32":
            raise op.unsupported("float32 only")
        return 2.0

    @staticmethod
    def eval(factor, x):
        return (x * np.float32(factor)).astype(np.float32)


@pytest.fixture
def doubler():
    eightbit.register_custom_op("Doubler", Doubler)
    yield
    eightbit.unregister_custom_op("Doubler")


def _doubler_model():
    b = ModelBuilder()
    x, y = b.tensor("x", (2, 3)), b.tensor("y", (2, 3))
    b.op("CUSTOM", [x], [y], custom_code="Doubler")
    return b.inputs(x).outputs(y).build().to_bytes()


def test_registered_custom_op_runs_and_is_listed(doubler, capsys):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(run_eightbit(_doubler_model(), [x])[0], 2 * x)
    assert main(["ops"]) == 0
    out = capsys.readouterr().out
    assert "custom ops" in out and "Doubler" in out and "Convolution2DTransposeBias" in out


def test_unregistered_custom_op_says_how_to_register():
    with pytest.raises(eightbit.UnsupportedOpError, match=r"Doubler v1 x1 \(custom op: register a kernel"):
        eightbit.Interpreter(model_content=_doubler_model())


def test_register_custom_op_checks_its_arguments(doubler):
    with pytest.raises(ValueError, match="already registered"):
        eightbit.register_custom_op("Doubler", Doubler)
    eightbit.register_custom_op("Doubler", Doubler, replace=True)
    with pytest.raises(TypeError, match="no callable eval"):
        eightbit.register_custom_op("Broken", type("Broken", (), {"prepare": staticmethod(lambda op: None)}))
    with pytest.raises(ValueError, match="non-empty string"):
        eightbit.register_custom_op("", Doubler)
