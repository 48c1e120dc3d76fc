"""The output pool of the operator plan (eightbit/kernels/fast/workspace.py): a buffer is reused
only when nothing else can reach it; a steady invoke takes every big output from the pool; results
are the same as with fresh arrays, invoke after invoke."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.kernels.fast import HAVE_NUMBA, workspace
from tests.corpus import case, case_data, case_names, check_output, model_bytes

USES_POOL = ("dwsep__int8", "cnn__float32", "opmix_hswish__int8", "cnn__uint8_legacy")

# The plan releases a dead tensor as `pool.release(values.pop(i))`: nothing else holds it.

def test_a_released_buffer_is_handed_out_again():
    pool = workspace.Pool()
    values = {0: pool.take((3, 5), np.float32)}
    buffer = id(values[0].base)
    pool.release(values.pop(0))
    b = pool.take((15,), np.int32)  # the same 64-byte size class, another shape and type
    assert id(b.base) == buffer and b.shape == (15,) and b.dtype == np.int32


def test_a_buffer_another_view_still_reaches_waits_for_it():
    pool = workspace.Pool()
    values = {0: pool.take((4, 4), np.int8)}
    values[1] = values[0].reshape(16)  # a RESHAPE's output: the same bytes
    pool.release(values.pop(0))
    assert not pool.free and len(pool.pending) == 1
    other = pool.take((4, 4), np.int8)
    assert not np.shares_memory(other, values[1])  # not lent twice
    pool.release(values.pop(1))  # the alias dies later in the invoke
    pool.settle()
    assert pool.nbytes() == 64 and not pool.pending  # back once nothing reaches it


def test_a_buffer_someone_kept_is_never_reused():
    pool = workspace.Pool()
    values = {0: pool.take((10,), np.float32)}
    kept = [values[0]]  # e.g. an observer that stored the value
    pool.release(values.pop(0))
    pool.settle()
    assert not pool.free
    fresh = pool.take((10,), np.float32)
    fresh[:] = 7.0
    assert not np.shares_memory(fresh, kept[0])


def test_one_array_under_two_tensors_is_not_reused_while_the_other_lives():
    pool = workspace.Pool()
    values = {0: pool.take((8,), np.int8)}
    values[1] = values[0]  # a kernel that returned its input
    pool.release(values.pop(0))
    assert not pool.free


def test_an_array_the_pool_did_not_make_is_ignored():
    pool = workspace.Pool()
    pool.release(np.zeros(100))
    pool.release(np.zeros(100)[10:])
    pool.release(None)
    assert not pool.free and not pool.pending


def test_outputs_come_from_the_pool_only_while_active_and_when_big():
    big = (workspace.MIN_BYTES,)
    a = workspace.empty(big, np.int8)
    assert a.base is None and a.shape == big
    pool = workspace.Pool()
    with workspace.active(pool):
        b = workspace.empty(big, np.int8)
        small = workspace.empty((workspace.MIN_BYTES // 4 - 1,), np.float32)  # malloc reuses these better
    assert b.base is not None and pool.lent.get(id(b.base)) is b.base
    assert small.base is None


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


@pytest.mark.skipif(not HAVE_NUMBA, reason="the pool serves the compiled kernels")
@pytest.mark.parametrize("name", case_names())
def test_invokes_reuse_the_pool_and_give_the_reference_outputs(name, monkeypatch):
    monkeypatch.setenv("EIGHTBIT_GRAPH_RUNNER", "0")  # the operator plan, not the whole-graph program
    monkeypatch.setattr(workspace, "MIN_BYTES", 0)  # every output from the pool (the corpus' are small)
    c, data, it = _interpreter(name)
    made = []  # per output taken: whether a free buffer of its size was there
    real = workspace.Pool.take

    def counted(pool, shape, dtype):
        size = max(64, -(-int(np.prod(shape)) * np.dtype(dtype).itemsize // 64) * 64)
        made.append(bool(pool.free.get(size)))
        return real(pool, shape, dtype)

    monkeypatch.setattr(workspace.Pool, "take", counted)
    kept = []
    for k in range(c["num_samples"]):
        made.clear()
        got = _invoke(c, data, it, k)
        kept.append([g.copy() for g in got])
        for spec, g in zip(c["outputs"], got):
            check_output(g, data[spec["key"]][k], spec["tolerance"], f"{name} sample {k}")
        if k >= 2:  # steady: every output but the model's (kept in values) reuses a buffer
            assert made or name not in USES_POOL, "no output came from the pool"
            assert made.count(False) <= len(c["outputs"]), f"new buffers in a steady invoke: {made}"
    for k in range(c["num_samples"]):  # again: results do not depend on what ran before
        for a, b in zip(_invoke(c, data, it, k), kept[k]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not HAVE_NUMBA, reason="the pool serves the compiled kernels")
def test_an_observer_that_keeps_every_value_sees_them_unchanged(monkeypatch):
    """Calibration-like: run() with observe keeping each produced array; a later invoke must not
    write into them."""
    monkeypatch.setenv("EIGHTBIT_GRAPH_RUNNER", "0")
    monkeypatch.setattr(workspace, "MIN_BYTES", 0)
    c, data, it = _interpreter("dwsep__int8")
    r = it._runner
    _invoke(c, data, it, 0)  # the checked first run; the plan from here on
    seen = {}
    for spec, det in zip(c["inputs"], it.get_input_details()):
        it.set_tensor(det["index"], data[spec["key"]][1])
    r.run(observe=lambda i, v: seen.setdefault(i, (v, v.copy())))
    for k in (2, 3, 0):
        _invoke(c, data, it, k)
    for i, (value, copy) in seen.items():
        np.testing.assert_array_equal(value, copy, err_msg=f"tensor {i} was overwritten")


def test_tensor_views_of_outputs_follow_the_latest_invoke(monkeypatch):
    monkeypatch.setenv("EIGHTBIT_GRAPH_RUNNER", "0")
    monkeypatch.setattr(workspace, "MIN_BYTES", 0)
    c, data, it = _interpreter("dwsep__int8")
    out = c["outputs"][0]
    first = _invoke(c, data, it, 0)[0]
    got = it.get_tensor(out["tensor_index"])
    _invoke(c, data, it, 1)
    np.testing.assert_array_equal(got, first)  # get_tensor gave a copy: unchanged
    np.testing.assert_array_equal(it.get_tensor(out["tensor_index"]), data[out["key"]][1])
