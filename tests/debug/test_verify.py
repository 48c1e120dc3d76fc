"""eightbit verify: every TF-made and eightbit-made model conforms; each broken rule is named."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

import eightbit
from eightbit.cli import main
from eightbit.debug.spec import check_spec

DATA = os.path.join(os.path.dirname(__file__), "..", "data")
TF_MODELS = sorted(glob.glob(os.path.join(DATA, "conformance", "models", "*.tflite")))
MEDIAPIPE = sorted(glob.glob(os.path.join(DATA, "mediapipe", "*.tflite")))


@pytest.mark.parametrize("path", TF_MODELS + MEDIAPIPE, ids=os.path.basename)
def test_every_tf_made_model_conforms(path):
    assert check_spec(eightbit.load(path)) == []


def _ours(name: str, mode: str) -> eightbit.Model:
    calib = np.load(os.path.join(DATA, "conformance", "ptq", f"{name}.npz"))["calib_0"][:20]
    conv = eightbit.TFLiteConverter.from_tflite(os.path.join(DATA, "conformance", "models", f"{name}__float32.tflite"))
    conv.optimizations = [eightbit.Optimize.DEFAULT]
    if mode in ("int8", "int16x8"):
        conv.representative_dataset = lambda: ([x] for x in calib)
    if mode == "int16x8":
        # with float fallback: opmix_hswish keeps HARD_SWISH / PRELU float (TFLite has no int16 kernel)
        conv.target_spec.supported_ops = [eightbit.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                                          eightbit.OpsSet.TFLITE_BUILTINS]
    if mode == "int8_io":
        conv.representative_dataset = lambda: ([x] for x in calib)
        conv.inference_input_type = conv.inference_output_type = np.int8
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    return eightbit.load(conv.convert())


@pytest.mark.parametrize("name", ["cnn", "dwsep", "opmix_act", "opmix_shape", "opmix_hswish", "mlp"])
@pytest.mark.parametrize("mode", ["int8", "int8_io", "int16x8", "dynamic", "float16"])
def test_every_eightbit_made_model_conforms(name, mode):
    assert check_spec(_ours(name, mode)) == []


def _int8(name="cnn"):
    return eightbit.load(os.path.join(DATA, "conformance", "models", f"{name}__int8.tflite"))


def _first(model, op_type):
    sg = model.main
    k = next(i for i, op in enumerate(sg.operators) if op.op_type == op_type)
    return k, sg.operators[k], sg


def _break_weight_zero_point(m):
    _, op, sg = _first(m, "CONV_2D")
    sg.tensors[op.inputs[1]].quantization.zero_point[:] = 3


def _break_weight_range(m):
    _, op, sg = _first(m, "CONV_2D")
    w = sg.tensors[op.inputs[1]]
    data = w.data.copy()
    data.flat[0] = -128
    w.set_data(data, keep_type=True)


def _break_bias_scale(m):
    _, op, sg = _first(m, "CONV_2D")
    sg.tensors[op.inputs[2]].quantization.scale *= np.float32(1.01)


def _break_softmax_output(m):
    _, op, sg = _first(m, "SOFTMAX")
    sg.tensors[op.outputs[0]].quantization.scale[:] = np.float32(1 / 128)


def _break_shared_scale(m):
    _, op, sg = _first(m, "MAX_POOL_2D")
    sg.tensors[op.outputs[0]].quantization.zero_point[:] += 5


def _break_weight_axis(m):
    _, op, sg = _first(m, "CONV_2D")
    sg.tensors[op.inputs[1]].quantization.quantized_dimension = 3


def _break_per_axis_count(m):
    _, op, sg = _first(m, "CONV_2D")
    q = sg.tensors[op.inputs[1]].quantization
    q.scale, q.zero_point = q.scale[:-1], q.zero_point[:-1]


def _break_negative_scale(m):
    _, op, sg = _first(m, "MAX_POOL_2D")
    sg.tensors[op.inputs[0]].quantization.scale[:] *= -1


def _break_activation_zero_point(m):
    _, op, sg = _first(m, "MAX_POOL_2D")
    sg.tensors[op.inputs[0]].quantization.zero_point[:] = 200


def _break_version(m):
    _, op, _ = _first(m, "CONV_2D")
    op.version = 1


def _break_int16_zero_point(m):
    _, op, sg = _first(m, "MAX_POOL_2D")
    sg.tensors[op.inputs[0]].quantization.zero_point[:] = 4


BROKEN = [
    # (model, breaker, rule, what the message must name)
    ("cnn__int8", _break_weight_zero_point, "weight_symmetric", "must be 0"),
    ("cnn__int8", _break_weight_range, "weight_range", "-128"),
    ("cnn__int8", _break_bias_scale, "bias_scale", "input scale x weight scale"),
    ("mlp__int8", _break_softmax_output, "fixed_output", "SOFTMAX requires 0.00390625/-128"),
    ("cnn__int8", _break_shared_scale, "shared_scale", "does not rescale"),
    ("cnn__int8", _break_weight_axis, "weight_axis", "expects 0"),
    ("cnn__int8", _break_per_axis_count, "per_axis", "scales for dimension 0"),
    ("cnn__int8", _break_negative_scale, "scale", "positive and finite"),
    ("cnn__int8", _break_activation_zero_point, "zero_point", "must be in [-128, 127]"),
    ("cnn__int8", _break_version, "version", "version 1"),
    ("cnn__int16x8", _break_int16_zero_point, "zero_point", "INT16 zero point [4] must be 0"),
]


@pytest.mark.parametrize("name,breaker,rule,text", BROKEN, ids=[b[1].__name__[7:] for b in BROKEN])
def test_each_broken_rule_is_found_and_named(name, breaker, rule, text):
    m = eightbit.load(os.path.join(DATA, "conformance", "models", f"{name}.tflite"))
    breaker(m)
    found = check_spec(m)
    hits = [v for v in found if v.rule == rule]
    assert hits, f"{rule} not flagged; found {[str(v) for v in found]}"
    assert any(text in str(v) for v in hits), [str(v) for v in hits]
    assert all(v.op_type and v.op_index is not None for v in hits)


def test_uint8_weights_need_uint8_activations():
    m = _int8()
    _, op, sg = _first(m, "CONV_2D")
    w = sg.tensors[op.inputs[1]]
    w.set_data((w.data.astype(np.int16) + 128).astype(np.uint8))
    w.quantization.zero_point[:] = 128
    found = [v for v in check_spec(m) if v.rule == "weight_type"]
    assert found and "uint8 weights need uint8 activations" in str(found[0])


def test_cli_exit_codes_and_listing(tmp_path, capsys):
    good = os.path.join(DATA, "conformance", "models", "cnn__int8.tflite")
    assert main(["verify", good]) == 0
    assert "conforms" in capsys.readouterr().out
    m = _int8()
    _break_weight_zero_point(m)
    _break_softmax_output(m) if any(op.op_type == "SOFTMAX" for op in m.main.operators) else None
    bad = tmp_path / "bad.tflite"
    m.save(bad)
    assert main(["verify", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "violation(s)" in out and "CONV_2D" in out and "[weight_symmetric]" in out
    assert main(["verify", str(bad), "--json"]) == 1
    assert '"rule": "weight_symmetric"' in capsys.readouterr().out


def test_cli_float_model_has_nothing_to_check(capsys):
    assert main(["verify", os.path.join(DATA, "conformance", "models", "cnn__float32.tflite")]) == 0
    assert "nothing to check" in capsys.readouterr().out


def test_cli_not_a_model_is_one_line_error(tmp_path, capsys):
    p = tmp_path / "x.tflite"
    p.write_bytes(b"not a flatbuffer at all")
    assert main(["verify", str(p)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("eightbit: error:") and err.count("\n") == 1
