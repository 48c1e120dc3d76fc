"""`python -m eightbit.demo` (make demo) runs the bundled model and reports what TFLite computes."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

from eightbit import demo

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_output():
    """The demo's printout, run once for every test of this module."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert demo.main([]) == 0
    return buf.getvalue()


def test_bundled_files_are_the_corpus_model_and_its_digits():
    corpus = REPO / "tests" / "data" / "conformance"
    bundled = REPO / "eightbit" / "data"
    assert (bundled / demo.MODEL).read_bytes() == (corpus / "models" / "cnn__float32.tflite").read_bytes()
    with np.load(bundled / "digits.npz") as d, np.load(corpus / "ptq" / "cnn.npz") as ref:
        assert sorted(d.files) == ["calib_0", "eval_0", "float_0", "heldout", "labels"]
        for k in d.files:
            np.testing.assert_array_equal(d[k], ref[k])


def test_demo_prints_accuracy_and_agreement_with_tflite(demo_output):
    out = demo_output
    d = demo.load_digits()
    # Expected figures from TensorFlow Lite's own outputs (float_0), not from eightbit.
    tfl = np.argmax(d["float_0"].reshape(len(d["labels"]), -1), axis=-1)
    held = d["heldout"]
    right = int(np.sum(tfl[held] == d["labels"][held]))
    assert f"accuracy on the held-out digits: {100 * right / held.sum():.2f}% ({right}/{int(held.sum())})" in out
    assert f"on all 300: {100 * np.mean(tfl == d['labels']):.2f}%" in out
    m = re.search(r"max \|eightbit - TFLite reference kernels\| over all outputs: (\S+); same predicted class for (\d+)/300", out)
    assert m and float(m.group(1)) <= 1e-4 and m.group(2) == "300"
    assert "label " in out and "ok" in out


def test_demo_quantizes_in_every_mode_as_well_as_tensorflow(demo_output):
    out = demo_output
    table = out.split("quantizing in every mode", 1)[1]
    rows = {}
    for line in table.splitlines():
        m = re.match(r"(float32 \(original\)|dynamic range|float16 weights|full integer int8|int16 activations)"
                     r".*?([\d.]+) KiB .*?([\d.]+)%\s+([\d.]+)%", line)
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(3)), float(m.group(4)))
    assert len(rows) == 5, table
    # The bar is TensorFlow's own int8 model of the same float model, on the same held-out digits.
    corpus = REPO / "tests" / "data" / "conformance"
    with np.load(corpus / "ptq" / "cnn.npz") as z:
        held = z["heldout"]
        tf_acc = 100 * np.mean(np.argmax(z["tf_int8_0"].reshape(len(held), -1), -1)[held] == z["labels"][held])
    tf_kib = (corpus / "models" / "cnn__int8_floatio.tflite").stat().st_size / 1024
    size, acc, _agree = rows["full integer int8"]
    assert acc >= tf_acc - 0.5
    assert abs(size - tf_kib) <= 0.1 * tf_kib + 0.05
    assert rows["float16 weights"][0] < rows["float32 (original)"][0]


def test_bundled_onnx_model_matches_its_stored_onnxruntime_outputs():
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(str(REPO / "eightbit" / "data" / demo.ONNX_MODEL), providers=["CPUExecutionProvider"])
    x = demo.load_digits()["eval_0"][:20].reshape(-1, 1, 1, 8, 8)
    got = np.concatenate([sess.run(None, {"image": xi})[0] for xi in x])
    np.testing.assert_allclose(got, np.load(REPO / "eightbit" / "data" / demo.ONNX_OUTPUTS)[:20], atol=1e-6)


def test_demo_onnx_road_matches_onnxruntime(demo_output):
    pytest.importorskip("onnx")
    out = demo_output
    part = out.split("== 1.", 1)[1].split("== 2.", 1)[0]
    d = demo.load_digits()
    ref = np.load(REPO / "eightbit" / "data" / demo.ONNX_OUTPUTS)  # onnxruntime's, not ours
    held = d["heldout"]
    acc = 100 * np.mean(np.argmax(ref, -1)[held] == d["labels"][held])
    assert f"accuracy on the held-out digits: {acc:.2f}%" in part
    m = re.search(r"max \|eightbit - onnxruntime\| over all outputs: (\S+); same predicted class for (\d+)/300", part)
    assert m and float(m.group(1)) <= 1e-4 and m.group(2) == "300"
    int8 = re.search(r"full integer int8 .*?([\d.]+)%\s+([\d.]+)%", part)
    assert int8 and float(int8.group(1)) >= acc - 2.0
    assert "input image [1, 8, 8, 1]" in part
