"""Shape inference after resize_tensor_input (eightbit/interpreter/shapes.py) against the shapes
the graph run finds (the runner's _propagate_shapes on neutral inputs), on every conformance
model resized to batch 3, and the fallback when an operator has no rule."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.interpreter.shapes import infer_shapes
from tests.corpus import case, case_names, model_bytes


def _resized(raw, batch):
    it = eightbit.Interpreter(model_content=raw)
    for d in it.get_input_details():
        if len(d["shape"]) >= 1 and d["shape"][0] == 1:
            it.resize_tensor_input(d["index"], [batch, *[int(s) for s in d["shape"][1:]]])
    return it


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", case_names())
def test_inferred_shapes_equal_the_graph_run(name):
    raw = model_bytes(case(name))
    runner = _resized(raw, 3).get_subgraph_runner()
    inferred = infer_shapes(runner)
    try:
        runner._propagate_shapes(runner._neutral_inputs())
    except (RuntimeError, ValueError):
        pytest.skip("the graph does not run on neutral inputs at batch 3")
    if inferred is None:
        ops = {op.op_type for op in runner.sg.operators}
        pytest.skip(f"no rule for one of {sorted(ops)}")
    assert inferred == runner.shapes


def test_allocate_after_resize_does_not_run_the_graph(monkeypatch):
    import eightbit.interpreter.runner as runner_module

    raw = model_bytes(case(case_names()[0]))
    it = _resized(raw, 2)
    monkeypatch.setattr(runner_module.SubgraphRunner, "_propagate_shapes",
                        lambda *a: pytest.fail("allocate ran the graph"))
    if infer_shapes(it.get_subgraph_runner()) is None:
        pytest.skip("this model has an operator without a shape rule")
    it.allocate_tensors()
    assert all(d["shape"][0] == 2 for d in it.get_output_details() if len(d["shape"]) > 1)


def test_unknown_operator_falls_back_to_the_graph_run():
    from eightbit.interpreter import shapes

    class Op:
        op_type, inputs, outputs, options = "SOME_FUTURE_OP", [0], [1], {}

    class Runner:
        sg = type("SG", (), {"operators": [Op()]})()
        shapes = [(1, 2), (1, 2)]
        constants: dict = {}

    assert shapes.infer_shapes(Runner()) is None
    assert np.broadcast_shapes((3, 1), (1, 4)) == (3, 4)  # the rule the binary ops use
