"""The activation memory plan (eightbit/interpreter/memory_plan.py): tensors alive at the same
time never share bytes, the arena is never larger than all activations side by side and never
smaller than the largest set alive at one operator; `eightbit inspect` reports it."""

from __future__ import annotations

import json

import numpy as np
import pytest

import eightbit
from eightbit.interpreter.memory_plan import plan_memory
from tests.corpus import case, case_names, model_bytes


def _nbytes(t):
    return int(np.prod(t.shape, dtype=np.int64)) * np.dtype(t.dtype).itemsize


@pytest.mark.parametrize("name", [n for n in case_names() if n.endswith(("__int8", "__float32"))])
def test_plan_never_overlaps_live_tensors(name):
    sg = eightbit.load(model_bytes(case(name))).main
    plan = plan_memory(sg)
    items = [(i, plan.offsets[i], _nbytes(sg.tensors[i]), *plan.lifetimes[i]) for i in plan.offsets]
    for a, (i, oi, si, fi, li) in enumerate(items):
        for j, oj, sj, fj, lj in items[a + 1:]:
            if not (li < fj or lj < fi) and si and sj:
                assert oi + si <= oj or oj + sj <= oi, f"tensors {i} and {j} overlap while both alive"
    assert plan.arena_bytes <= plan.activation_bytes
    # at every operator, the live tensors must fit
    for k in range(-1, len(sg.operators) + 1):
        live = sum(_nbytes(sg.tensors[i]) for i, (f, la) in plan.lifetimes.items() if f <= k <= la)
        assert live <= plan.arena_bytes


def test_inspect_reports_the_arena(capsys, tmp_path):
    from eightbit.cli import main

    path = tmp_path / "m.tflite"
    path.write_bytes(model_bytes(case("cnn__int8")))
    assert main(["inspect", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    sg = d["subgraphs"][0]
    assert 0 < sg["arena_bytes"] <= sg["activation_bytes"]
    assert main(["inspect", str(path), "--no-tensors"]) == 0
    assert f"activation arena: {sg['arena_bytes']} bytes" in capsys.readouterr().out
