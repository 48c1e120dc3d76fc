"""eightbit compare: causes, --html and --suggest-denylist from the command line."""

from __future__ import annotations

import os

import numpy as np

import eightbit
from eightbit.cli import main
from tests.debug.test_sensitivity import SAMPLES, _make, _model

MODELS = os.path.join(os.path.dirname(__file__), "..", "data", "conformance", "models")


def _pair(tmp_path):
    fm = tmp_path / "float.tflite"
    fm.write_bytes(_model())
    qm = tmp_path / "int8.tflite"
    qm.write_bytes(_make(_model()).convert())
    data = tmp_path / "x.npz"
    np.savez(data, x=np.stack([s[0] for s in SAMPLES]))
    return str(fm), str(qm), str(data)


def test_suggest_denylist_prints_the_converter_call(tmp_path, capsys):
    fm, qm, data = _pair(tmp_path)
    assert main(["compare", fm, qm, "--data", data, "--suggest-denylist", "--target-sqnr", "30"]) == 0
    out = capsys.readouterr().out
    assert "Suggested denylist for 30 dB" in out and "reaches the target" in out
    assert "converter.denylist = ['y']" in out
    assert f"eightbit quantize {fm} -o OUT.tflite --mode int8 --data {data} --denylist 'y'" in out


def test_causes_are_printed_and_html_written_once(tmp_path, capsys):
    f = os.path.join(MODELS, "opmix_act__float32.tflite")
    q = os.path.join(MODELS, "opmix_act__int8_floatio.tflite")
    page = tmp_path / "r.html"
    assert main(["compare", f, q, "--samples", "8", "--html", str(page), "--no-measure"]) == 0
    out = capsys.readouterr().out
    assert "Causes (3):" in out and "[dead_channels]" in out
    assert "[shared_scale] op 9 MINIMUM: input 0 'opmix_act_1/multiply_1_1/Mul'" in out
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert main(["compare", f, q, "--samples", "8", "--html", str(page)]) == 1
    assert "exists; pass --force" in capsys.readouterr().err


def test_no_causes_flag(capsys):
    f = os.path.join(MODELS, "cnn__float32.tflite")
    q = os.path.join(MODELS, "cnn__int8_floatio.tflite")
    assert main(["compare", f, q, "--samples", "4", "--no-causes"]) == 0
    assert "Causes" not in capsys.readouterr().out
    assert eightbit.load(q).main.operators  # the files were only read
