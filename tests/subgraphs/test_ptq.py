"""PTQ of models with several subgraphs (variables, IF, WHILE): every mode gives a file LiteRT runs
with the outputs eightbit gives (tests/conftest.py also checks each file with our verifier)."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.quantize.converter import OpsSet, Optimize, TFLiteConverter
from tests.oracle import run_eightbit, run_litert
from tests.subgraphs import models


def _samples(m, n=4, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        sample = []
        for i in m.main.inputs:
            t = m.main.tensors[i]
            sample.append(np.array([True]) if t.dtype == np.bool_ else rng.uniform(0, 1, t.shape).astype(t.dtype))
        out.append(sample)
    return out


@pytest.mark.parametrize("build", [models.streaming_accumulator, models.if_model, models.while_model])
@pytest.mark.parametrize("mode", ["dynamic", "float16", "int8", "int16x8"])
def test_every_mode_runs_in_litert_as_in_eightbit(build, mode):
    m = eightbit.load(build())
    conv = TFLiteConverter.from_model(m)
    conv.optimizations = [Optimize.DEFAULT]
    data = _samples(m)
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    if mode in ("int8", "int16x8"):
        conv.representative_dataset = lambda: iter(data)
    if mode == "int16x8":
        conv.target_spec.supported_ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                                          OpsSet.TFLITE_BUILTINS]
    out = conv.convert()
    assert len(eightbit.load(out).subgraphs) == len(m.subgraphs)
    for sample in _samples(m, 2, seed=1):
        for got, want in zip(run_eightbit(out, sample), run_litert(out, sample)):
            np.testing.assert_array_equal(got, want)
