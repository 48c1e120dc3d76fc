"""Bad input gets one clear line, never a traceback or silence (issue 7's list, one test per case)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest

import eightbit
from eightbit.cli import main
from eightbit.ir.builder import ModelBuilder
from eightbit.quantize.converter import Optimize, TFLiteConverter

CORPUS = Path(__file__).resolve().parents[1] / "data" / "conformance"
CNN = CORPUS / "models" / "cnn__float32.tflite"
CNN_INT8 = CORPUS / "models" / "cnn__int8.tflite"
MLP = CORPUS / "models" / "mlp__float32.tflite"
FACE = Path(__file__).resolve().parents[1] / "data" / "mediapipe" / "face_detection_short_range.tflite"


def _one_line_error(capsys, argv, *needles):
    assert main([str(a) for a in argv]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("eightbit: error: "), err
    for n in needles:
        assert n in err, err
    return err


def _calib(n=8):
    return np.load(CORPUS / "ptq" / "cnn.npz")["calib_0"][:n, 0]


def test_quantize_takes_a_npy_for_a_one_input_model(tmp_path, capsys):
    x = tmp_path / "x.npy"
    np.save(x, _calib())
    out = tmp_path / "q.tflite"
    assert main(["quantize", str(CNN), "-o", str(out), "--mode", "int8", "--data", str(x)]) == 0
    assert eightbit.load(out.read_bytes()).main.tensors


@pytest.mark.parametrize("content, needle", [
    (b"", "is empty (0 bytes)"),
    (b"hello world", "is not a .npy or .npz file"),
    (b"\x93NUMPY\x01\x00garbage", "cannot read it as .npy"),
    (b"PK\x03\x04broken zip", "cannot read it as .npz"),
])
def test_unreadable_array_files_in_every_subcommand(tmp_path, capsys, content, needle):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(content)
    _one_line_error(capsys, ["quantize", CNN, "-o", tmp_path / "q.tflite", "--mode", "int8", "--data", bad], needle)
    _one_line_error(capsys, ["run", CNN, "-i", f"0={bad}"], needle)
    _one_line_error(capsys, ["compare", CNN, CNN_INT8, "--data", bad], needle)


def test_unknown_and_missing_array_names(tmp_path, capsys):
    p = tmp_path / "two.npz"
    np.savez(p, input_0=_calib(), extra=_calib())
    _one_line_error(capsys, ["quantize", CNN, "-o", tmp_path / "q.tflite", "--mode", "int8", "--data", p],
                    "arrays ['extra'] name no model input")
    np.savez(p, a=_calib(), b=_calib())
    _one_line_error(capsys, ["run", CNN, "-i", f"0={p}"], "holds 2 arrays")


def test_interpreter_rejects_unknown_keyword_arguments():
    with pytest.raises(TypeError, match=r"experimental_preserve_all_tensor'\]; valid ones: .*"
                                        r"'experimental_preserve_all_tensors'"):
        eightbit.Interpreter(model_path=str(CNN), experimental_preserve_all_tensor=True)


def test_denylist_typo_is_rejected(tmp_path, capsys):
    _one_line_error(capsys, ["quantize", CNN, "-o", tmp_path / "q.tflite", "--mode", "dynamic",
                             "--denylist", "SOFTMAXX"], "['SOFTMAXX'] are neither op types", "SOFTMAX")
    conv = TFLiteConverter.from_tflite(str(CNN))
    conv.optimizations = [Optimize.DEFAULT]
    conv.denylist = ["SOFTMAX", "*conv2d_2*"]  # an op type and a pattern that matches: fine
    conv.convert()
    conv.denylist = ["*no_such_tensor*"]
    with pytest.raises(ValueError, match="no_such_tensor"):
        conv.convert()


def test_compare_refuses_unrelated_models(capsys):
    _one_line_error(capsys, ["compare", CNN, MLP], "inputs do not match")


def test_unreadable_conversion_metadata_warns(caplog):
    from eightbit.quantize.metadata import read_conversion_metadata

    with caplog.at_level(logging.WARNING):
        assert read_conversion_metadata(b"\xff\xff\xff\x7fabcd")["model_optimization_modes"] == []
    assert "CONVERSION_METADATA" in caplog.text


def test_failed_constant_fold_warns(caplog):
    from eightbit.passes.constant_folding import fold_constants

    b = ModelBuilder()
    a = b.const("a", np.zeros((2, 3), np.float32))
    c = b.const("c", np.zeros((4, 5), np.float32))  # shapes that do not broadcast: ADD's kernel fails
    s, y = b.tensor("s", (2, 3)), b.tensor("y", (2, 3))
    x = b.tensor("x", (2, 3))
    b.op("ADD", [a, c], [s], {"fused_activation_function": 0}, options_type="AddOptions")
    b.op("ADD", [s, x], [y], {"fused_activation_function": 0}, options_type="AddOptions")
    model = b.inputs(x).outputs(y).build()
    with caplog.at_level(logging.WARNING):
        assert fold_constants(model) == 0
    assert "operator 0 (ADD) left in place" in caplog.text


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        eightbit.load(str(CNN)).save(tmp_path / "m.tflite")
        assert main(["quantize", str(CNN), "-o", str(tmp_path / "q.tflite"), "--mode", "dynamic"]) == 0
    finally:
        os.umask(old)
    for name in ("m.tflite", "q.tflite"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask


def _long_name_model(dynamic=False) -> bytes:
    b = ModelBuilder()
    long = "model/" + "/".join(f"block_{k}/fused_batch_norm_and_relu6" for k in range(12))
    x = b.tensor(long + "/input", (1, 5, 7))
    y = b.tensor(long + "/output", (1, 5, 7))
    b.op("RELU", [x], [y])
    m = b.inputs(x).outputs(y).build()
    if dynamic:
        m.main.tensors[x].shape_signature = (1, -1, 7)
        m.main.tensors[y].shape_signature = (1, -1, 7)
    return m.to_bytes(), long


def test_inspect_fits_100_columns_and_json_keeps_names(tmp_path, capsys):
    data, long = _long_name_model(dynamic=True)
    p = tmp_path / "m.tflite"
    p.write_bytes(data)
    for path in (p, FACE, CNN_INT8):
        assert main(["inspect", str(path)]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert max(len(line) for line in lines[1:]) <= 100, max(lines[1:], key=len)
    assert main(["inspect", str(p)]) == 0
    out = capsys.readouterr().out
    assert "dynamic inputs" in out and "[1, -1, 7]" in out
    assert main(["inspect", str(p), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["subgraphs"][0]["tensors"][0]["name"] == long + "/input"


def test_run_asks_for_dynamic_dimensions(tmp_path, capsys):
    data, _ = _long_name_model(dynamic=True)
    p = tmp_path / "m.tflite"
    p.write_bytes(data)
    _one_line_error(capsys, ["run", p], "dynamic (-1) dimensions need a shape", "[1, -1, 7]", "--shape")
    assert main(["run", str(p), "--shape", "0=1,3,7"]) == 0
    assert "float32[1, 3, 7]" in capsys.readouterr().out


def test_run_prints_argmax_only_for_class_scores(capsys):
    assert main(["run", str(FACE)]) == 0
    out = capsys.readouterr().out
    assert "output regressors" in out and "argmax" not in out
    assert main(["run", str(CNN)]) == 0  # ends in SOFTMAX: [1, 10] class scores
    assert "argmax" in capsys.readouterr().out


def test_bias_overflow_warns_once_with_the_list(caplog):
    b = ModelBuilder()
    x = b.tensor("x", (1, 4))
    prev = x
    for k in range(3):
        w = b.const(f"w{k}", np.array([[1e-6, -1e-6, 1e-6, 0], [0.5, -0.25, 0.1, 0.3],
                                       [0.5, -0.25, 0.1, 0.3], [0.5, -0.25, 0.1, 0.3]], np.float32))
        bias = b.const(f"b{k}", np.array([3.0e4, 0.1, 0.2, 0.3], np.float32))
        y = b.tensor(f"y{k}", (1, 4))
        b.op("FULLY_CONNECTED", [prev, w, bias], [y], {"fused_activation_function": 0},
             options_type="FullyConnectedOptions")
        prev = y
    conv = TFLiteConverter.from_model(b.inputs(x).outputs(prev).build())
    conv.optimizations = [Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    conv.representative_dataset = lambda: ([rng.uniform(-1e-3, 1e-3, (1, 4)).astype(np.float32)] for _ in range(8))
    with caplog.at_level(logging.WARNING, logger="eightbit"):
        conv.convert()
    overflow = [m for m in conv.report.warnings if "overflow" in m]
    assert len(overflow) == 1 and "in 3 operator(s)" in overflow[0]
    assert all(f"op {k} FULLY_CONNECTED" in overflow[0] for k in range(3))
