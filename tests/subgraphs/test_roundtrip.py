"""Multi-subgraph models survive our reader and writer: LiteRT runs the rewrite the same way."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.schema import TABLES
from tests.oracle import run_litert
from tests.subgraphs import models


def test_call_once_options_keep_init_subgraph_index():
    # The generator once skipped accessors starting with "Init" and lost this field.
    assert [f[0] for f in TABLES["CallOnceOptions"]] == ["init_subgraph_index"]


def _litert_steps(model_bytes, frames):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=model_bytes, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    out = []
    for f in frames:
        it.set_tensor(it.get_input_details()[0]["index"], f)
        it.invoke()
        out.append(it.get_tensor(it.get_output_details()[0]["index"]))
    return out


def test_call_once_model_round_trips_through_litert():
    original = models.streaming_accumulator(init=[1, 2, 3, 4])
    model = eightbit.load(original)
    assert model.subgraphs[0].operators[0].options == {"init_subgraph_index": 1}
    rewritten = model.to_bytes()
    frames = [np.full((1, 4), k, np.float32) for k in range(4)]
    for a, b in zip(_litert_steps(original, frames), _litert_steps(rewritten, frames)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("build, inputs", [
    (models.if_model, [np.array([True]), np.full((1, 3), 2, np.float32), np.full((1, 3), 3, np.float32)]),
    (models.while_model, [np.zeros(1, np.float32), np.ones((1, 2), np.float32)]),
])
def test_control_flow_models_round_trip(build, inputs):
    original = build()
    rewritten = eightbit.load(original).to_bytes()
    for a, b in zip(run_litert(original, inputs), run_litert(rewritten, inputs)):
        np.testing.assert_array_equal(a, b)
