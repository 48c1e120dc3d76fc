"""The arena of the operator plan's big outputs (eightbit/kernels/fast/workspace.py,
interpreter/plan.py arena_slots): a slot is handed out only when no array still uses bytes it
shares; invoke after invoke the big outputs are made in it; results are LiteRT's every time."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.interpreter.plan import arena_slots
from eightbit.kernels.fast import HAVE_NUMBA, workspace
from tests.corpus import case, case_data, case_names, check_output, model_bytes

USES_ARENA = ("dwsep__int8", "cnn__float32", "opmix_hswish__int8", "cnn__uint8_legacy")


def _arena():
    # tensors 1 and 2 share bytes 64..127 (their lifetimes never overlapped); 3 is apart
    return workspace.Arena({1: (0, 128), 2: (64, 128), 3: (192, 64)}, {1: (1, 2), 2: (1, 2), 3: (3,)})


def _take(arena, t, shape, dtype=np.float32):
    arena.next = t
    return arena.take(shape, dtype)


def test_a_slot_is_handed_out_when_nothing_uses_its_bytes():
    arena = _arena()
    a = _take(arena, 1, (4, 8))
    assert a is not None and a.flags.writeable and a.ctypes.data % 64 == 0
    a[...] = 1.0
    del a
    b = _take(arena, 2, (32,), np.int32)
    assert b is not None and b.dtype == np.int32 and b.shape == (32,)
    assert arena.in_use() == [2]


def test_a_slot_whose_bytes_an_array_still_uses_is_not_handed_out():
    arena = _arena()
    values = {1: _take(arena, 1, (32,))}
    values[9] = values[1].reshape(4, 8)  # a view (a RESHAPE's output) outlives tensor 1
    del values[1]
    assert _take(arena, 2, (32,)) is None  # shares bytes with 1: still used
    assert _take(arena, 3, (16,)) is not None  # apart
    kept = [values.pop(9)[0:1]]  # e.g. an observer kept a slice
    assert _take(arena, 1, (32,)) is None
    kept.clear()
    assert _take(arena, 1, (32,)) is not None


def test_a_size_other_than_the_planned_one_or_no_slot_gives_none():
    arena = _arena()
    assert _take(arena, 1, (31,)) is None
    assert _take(arena, 7, (32,)) is None
    arena.next = None
    with workspace.active(arena):
        assert workspace.empty((32,), np.float32).base is None  # np.empty
    assert arena.next is None


def test_outside_a_running_plan_kernels_get_new_arrays():
    a = workspace.empty((workspace.MIN_BYTES,), np.int8)
    assert a.base is None and a.shape == (workspace.MIN_BYTES,)


def _interpreter(name, **kw):
    c = case(name)
    it = eightbit.Interpreter(model_content=model_bytes(c), **kw)
    it.allocate_tensors()
    return c, case_data(c), it


def _invoke(c, data, it, k):
    for spec, det in zip(c["inputs"], it.get_input_details()):
        it.set_tensor(det["index"], data[spec["key"]][k])
    it.invoke()
    return [it.get_tensor(spec["tensor_index"]) for spec in c["outputs"]]


@pytest.mark.skipif(not HAVE_NUMBA, reason="the arena serves the compiled kernels")
@pytest.mark.parametrize("name", case_names())
def test_invokes_make_big_outputs_in_the_arena_and_give_litert_outputs(name, monkeypatch):
    monkeypatch.setenv("EIGHTBIT_GRAPH_RUNNER", "0")  # the operator plan, not the whole-graph program
    monkeypatch.setattr(workspace, "MIN_BYTES", 0)  # every output planned (the corpus' are small)
    c, data, it = _interpreter(name)
    served = []
    real = workspace.Arena.take

    def counted(arena, shape, dtype):
        out = real(arena, shape, dtype)
        served.append(out is not None)
        return out

    monkeypatch.setattr(workspace.Arena, "take", counted)
    kept = []
    for k in range(c["num_samples"]):
        served.clear()
        got = _invoke(c, data, it, k)
        kept.append([g.copy() for g in got])
        for spec, g in zip(c["outputs"], got):
            check_output(g, data[spec["key"]][k], spec["tolerance"], f"{name} sample {k}")
        if k >= 1:  # every output a kernel asked the arena for was made there
            assert all(served), f"outputs not made in the arena: {served}"
            assert served or name not in USES_ARENA
    for k in range(c["num_samples"]):  # again: results do not depend on what ran before
        for a, b in zip(_invoke(c, data, it, k), kept[k]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not HAVE_NUMBA, reason="the arena serves the compiled kernels")
def test_an_observer_that_keeps_every_value_sees_them_unchanged(monkeypatch):
    """Calibration-like: run() with observe keeping each produced array; later invokes must not
    write into them."""
    monkeypatch.setenv("EIGHTBIT_GRAPH_RUNNER", "0")
    monkeypatch.setattr(workspace, "MIN_BYTES", 0)
    c, data, it = _interpreter("dwsep__int8")
    _invoke(c, data, it, 0)
    seen = {}
    for spec, det in zip(c["inputs"], it.get_input_details()):
        it.set_tensor(det["index"], data[spec["key"]][1])
    it._runner.run(observe=lambda i, v: seen.setdefault(i, (v, v.copy())))
    assert it._runner.arena is not None and any(v[0].base is not None for v in seen.values())
    for k in (2, 3, 0):
        _invoke(c, data, it, k)
    for i, (value, copy) in seen.items():
        np.testing.assert_array_equal(value, copy, err_msg=f"tensor {i} was overwritten")


def test_the_arena_follows_lifetimes_and_keeps_model_outputs_out(monkeypatch):
    monkeypatch.setattr(workspace, "MIN_BYTES", 0)
    c, _, it = _interpreter("dwsep__int8")
    r = it._runner
    sg = r.sg
    keep = set(sg.inputs) | set(sg.outputs)
    slots, overlaps = arena_slots(r, dict(enumerate(r.shapes)), keep)
    assert slots and not set(slots) & keep
    producer = {o: k for k, op in enumerate(sg.operators) for o in op.outputs}
    last = {i: k for k, op in enumerate(sg.operators) for i in op.inputs}
    for t, (offset, n) in slots.items():
        assert offset % 64 == 0 and n == int(np.prod(r.shapes[t])) * sg.tensors[t].dtype.itemsize
        for u in overlaps[t]:  # sharing bytes: one dies before the other is made
            if u != t:
                assert last[t] < producer[u] or last[u] < producer[t]
