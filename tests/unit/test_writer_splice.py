"""The writer's big-model path (payloads reserved in an mmap, joined at the end) writes the same
bytes as the plain Builder path, and LiteRT runs what it writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import eightbit
from eightbit.schema import codec
from tests.oracle import run_litert

MODELS = Path(__file__).resolve().parents[1] / "data" / "conformance" / "models"


@pytest.mark.parametrize("name", ["cnn__float32.tflite", "cnn__int8_floatio.tflite", "opmix_hswish__float32.tflite"])
def test_spliced_payloads_give_identical_bytes(monkeypatch, name):
    model = eightbit.load((MODELS / name).read_bytes())
    plain = model.to_bytes()
    monkeypatch.setattr(codec, "SPLICE_MODEL_MIN", 0)
    monkeypatch.setattr(codec, "SPLICE_MIN", 1)
    spliced = model.to_bytes()
    assert spliced == plain
    x = np.random.default_rng(0).standard_normal(model.main.tensors[model.main.inputs[0]].shape).astype(np.float32)
    if model.main.tensors[model.main.inputs[0]].type == "FLOAT32":
        np.testing.assert_array_equal(run_litert(spliced, [x])[0], run_litert(plain, [x])[0])


def test_big_weights_round_trip_through_the_spliced_path():
    from eightbit.ir.builder import ModelBuilder

    b = ModelBuilder()
    x = b.tensor("x", (1, 1024))
    w = np.random.default_rng(1).standard_normal((4200, 1024)).astype(np.float32)  # 17 MB: spliced
    y = b.tensor("y", (1, 4200))
    b.op("FULLY_CONNECTED", [x, b.const("w", w), -1], [y], {}, "FullyConnectedOptions")
    data = b.inputs(x).outputs(y).build().to_bytes()
    assert len(data) >= codec.SPLICE_MODEL_MIN
    back = eightbit.load(data)
    np.testing.assert_array_equal(next(t for t in back.main.tensors if t.name == "w").data, w)
    xv = np.ones((1, 1024), np.float32)
    want = xv.astype(np.float64) @ w.T.astype(np.float64)
    np.testing.assert_allclose(run_litert(data, [xv])[0], want, rtol=0, atol=1e-4 * np.abs(want).max())
