"""sensitivity / suggest_denylist on a model with one operator built to lose accuracy."""

from __future__ import annotations

import numpy as np

import eightbit
from eightbit.debug.activity import collect
from eightbit.debug.sensitivity import candidates, sensitivity, suggest_denylist
from eightbit.ir.builder import ModelBuilder

RNG = np.random.default_rng(1)


def _model() -> bytes:
    # x -> FC (well behaved) -> TANH on tiny values -> output: TANH's fixed int8 output grid
    # (1/128) is as coarse as the values themselves, so keeping that one TANH float recovers the
    # accuracy while keeping the FC float gains nothing.
    b = ModelBuilder()
    x = b.tensor("x", (1, 8))
    w1 = b.const("w1", (RNG.normal(0, 0.01, (8, 8))).astype(np.float32))
    b1 = b.const("b1", np.zeros(8, np.float32))
    h = b.tensor("h", (1, 8))
    b.op("FULLY_CONNECTED", [x, w1, b1], [h], {}, "FullyConnectedOptions")
    y = b.tensor("y", (1, 8))
    b.op("TANH", [h], [y])
    b.inputs(x).outputs(y)
    return b.build().to_bytes()


SAMPLES = [[RNG.uniform(-1, 1, (1, 8)).astype(np.float32)] for _ in range(32)]


def _make(model_bytes):
    conv = eightbit.TFLiteConverter.from_tflite(model_bytes)
    conv.optimizations = [eightbit.Optimize.DEFAULT]
    conv.representative_dataset = lambda: iter(SAMPLES)
    return conv


def test_the_operator_built_to_lose_accuracy_ranks_first():
    fm = _model()
    assert [op for _, op, _ in candidates(fm)] == ["FULLY_CONNECTED", "TANH"]
    rows = sensitivity(fm, _make, SAMPLES)
    assert rows[0].op == "TANH" and rows[0].output == "y"
    assert rows[0].gain_db > 10 and rows[0].gain_db > rows[1].gain_db + 10


def test_suggested_denylist_reaches_the_target_and_is_applied_by_the_converter():
    fm = _model()
    base = collect(fm, _make(fm).convert(), SAMPLES).output_sqnr()
    plan = suggest_denylist(fm, _make, SAMPLES, target_sqnr=base + 10)
    assert plan.reached and plan.denylist == ["y"] and plan.converter_call == "converter.denylist = ['y']"
    conv = _make(fm)
    conv.denylist = plan.denylist
    quant = conv.convert()
    assert collect(fm, quant, SAMPLES).output_sqnr() == plan.reached_db
    ops = [op.op_type for op in eightbit.load(quant).main.operators]
    assert ops[-1] == "TANH" and ops[-2] == "DEQUANTIZE"  # the TANH runs float


def test_an_already_good_model_needs_no_denylist():
    fm = _model()
    plan = suggest_denylist(fm, _make, SAMPLES, target_sqnr=-100)
    assert plan.denylist == [] and plan.reached
