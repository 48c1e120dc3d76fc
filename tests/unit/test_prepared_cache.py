"""The prepared-params cache (eightbit/interpreter/prepared.py): a later interpreter of the same
model loads every operator's params instead of preparing them, and computes the same outputs
(bit for bit as a fresh prepare, and within the corpus' tolerance of LiteRT); anything that
changes the params misses; damaged entries are dropped; the directory stays under its cap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import eightbit
from eightbit.interpreter import prepared
from tests.corpus import case, case_data, case_names, check_output, model_bytes
from tests.oracle import invoke_eightbit

REPO = Path(__file__).resolve().parents[2]
INT8 = "dwsep__int8"  # CONV_2D, DEPTHWISE_CONV_2D, MEAN, FULLY_CONNECTED, SOFTMAX; runs at any batch


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE", "1")
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE_DIR", str(tmp_path / "prepared"))
    monkeypatch.setattr(prepared, "MIN_PREPARE_SECONDS", 0.0)  # store even the corpus' small models
    monkeypatch.setattr(prepared, "_UNPICKLABLE", set())
    monkeypatch.setattr(prepared, "_STORES", [])
    return tmp_path / "prepared"


def _entries(directory: Path) -> list:
    prepared.wait()  # entries are written by a thread
    return sorted(directory.glob("*.prep")) if directory.exists() else []


_run = invoke_eightbit  # (interpreter, outputs)


def _inputs(name: str) -> tuple:
    c = case(name)
    data = case_data(c)
    return c, data, [data[spec["key"]][0] for spec in c["inputs"]]  # sample 0


@pytest.mark.parametrize("name", case_names())
def test_a_cached_prepare_gives_the_outputs_of_a_fresh_one(cache, name, monkeypatch):
    c, data, inputs = _inputs(name)
    raw = model_bytes(c)
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE", "0")
    _, fresh = _run(raw, inputs)
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE", "1")
    first, stored = _run(raw, inputs)
    second, loaded = _run(raw, inputs)
    if first._runner.lazy:  # control flow / variables: prepared at invoke, never cached
        assert not _entries(cache)
        return
    assert not first._runner.params_from_cache and second._runner.params_from_cache
    for spec, want, a, b in zip(c["outputs"], fresh, stored, loaded):
        np.testing.assert_array_equal(a, want)
        np.testing.assert_array_equal(b, want)
        check_output(b, data[spec["key"]][0], spec["tolerance"], f"{name} {spec['name']} from the cache")
    second.invoke()  # the plan built on loaded params runs again
    np.testing.assert_array_equal(second.get_tensor(second.get_output_details()[0]["index"]), fresh[0])


def test_another_process_loads_the_entry(cache):
    code = (
        "import numpy as np, eightbit\n"
        "from tests.corpus import case, case_data, model_bytes\n"
        "from eightbit.interpreter import prepared\n"
        "prepared.MIN_PREPARE_SECONDS = 0.0\n"
        f"c = case({INT8!r}); d = case_data(c)\n"
        "it = eightbit.Interpreter(model_content=model_bytes(c))\n"
        "it.allocate_tensors()\n"
        "it.set_tensor(it.get_input_details()[0]['index'], d[c['inputs'][0]['key']][0])\n"
        "it.invoke()\n"
        "y = it.get_tensor(it.get_output_details()[0]['index'])\n"
        "print(it._runner.params_from_cache, (y == d[c['outputs'][0]['key']][0]).all())\n"
    )
    env = dict(os.environ, EIGHTBIT_PREPARED_CACHE="1", EIGHTBIT_PREPARED_CACHE_DIR=str(cache))
    env.pop("EIGHTBIT_DISABLE_NUMBA", None)
    outs = []
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env,
                           timeout=300)
        assert r.returncode == 0, r.stderr[-800:]
        outs.append(r.stdout.split())
    assert outs == [["False", "True"], ["True", "True"]]  # the int8 outputs are LiteRT's, bit for bit


def test_loaded_arrays_are_64_byte_aligned_views_of_the_entry(cache):
    c, _, inputs = _inputs(INT8)
    _run(model_bytes(c), inputs)
    it, _ = _run(model_bytes(c), inputs)
    arrays = [a for p in it._runner.params for a in vars(p).values()
              if isinstance(a, np.ndarray) and a.nbytes >= 64] if it._runner.params else []
    assert arrays
    big = [a for a in arrays if a.base is not None]
    assert big and all(a.ctypes.data % 64 == 0 for a in big)


@pytest.mark.parametrize("change", ["model byte", "input shape", "kernels", "environment"])
def test_whatever_changes_the_params_misses(cache, change, monkeypatch):
    c, _, inputs = _inputs(INT8)
    raw = model_bytes(c)
    _run(raw, inputs)
    kw = {}
    if change == "model byte":  # the model's description string: same graph, other bytes
        raw = raw.replace(b"TOCO", b"T0CO") if b"TOCO" in raw else raw[:-1] + bytes([raw[-1] ^ 1])
    elif change == "input shape":
        inputs = [np.concatenate([x, x]) for x in inputs]
    elif change == "kernels":
        kw["kernels"] = "reference"
    else:
        monkeypatch.setenv("EIGHTBIT_DISABLE_VNNI", "1")
    it, _ = _run(raw, inputs, **kw)
    assert not it._runner.params_from_cache
    assert len(_entries(cache)) == 2
    again, _ = _run(raw, inputs, **kw)
    assert again._runner.params_from_cache


def test_variables_no_prepare_reads_share_the_entries(cache, monkeypatch):
    c, _, inputs = _inputs(INT8)
    _run(model_bytes(c), inputs)
    monkeypatch.setenv("EIGHTBIT_AOT", "1" if os.environ.get("EIGHTBIT_AOT") == "0" else "0")  # as build-kernels
    monkeypatch.setenv("EIGHTBIT_AOT_BUILD", "0")
    it, _ = _run(model_bytes(c), inputs)
    assert it._runner.params_from_cache


@pytest.mark.parametrize("when", ["before allocate", "after a cached allocate"])
def test_a_constant_set_by_the_user_is_not_served_from_the_cache(cache, when, monkeypatch):
    monkeypatch.setenv("EIGHTBIT_GRAPH_RUNNER", "0")  # its program reads the constants, not the params
    c, _, inputs = _inputs("mlp__float32")
    raw = model_bytes(c)

    def run(zero_weights: bool):
        it = eightbit.Interpreter(model_content=raw)
        fc = next(op for op in it.model.subgraphs[0].operators if op.op_type == "FULLY_CONNECTED")
        w = fc.inputs[1]
        zero = np.zeros(it.get_tensor(w).shape, np.float32)
        if zero_weights and when == "before allocate":
            it.set_tensor(w, zero)
        it.allocate_tensors()
        if zero_weights and when != "before allocate":
            it.set_tensor(w, zero)
        it.set_tensor(it.get_input_details()[0]["index"], inputs[0])
        it.invoke()
        return it.get_tensor(it.get_output_details()[0]["index"])

    _run(raw, inputs)  # the file's own params are in the cache
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE", "0")
    want = run(True)
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE", "1")
    np.testing.assert_array_equal(run(True), want)
    assert not np.array_equal(want, _run(raw, inputs)[1][0])


def test_a_change_to_eightbit_misses(cache, monkeypatch):
    c, _, inputs = _inputs(INT8)
    _run(model_bytes(c), inputs)
    monkeypatch.setattr(prepared, "_SOURCES", ["another copy of eightbit"])
    it, _ = _run(model_bytes(c), inputs)
    assert not it._runner.params_from_cache


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "other key"])
def test_a_damaged_entry_is_dropped_and_the_model_prepared(cache, damage):
    c, data, inputs = _inputs(INT8)
    _, want = _run(model_bytes(c), inputs)
    (entry,) = _entries(cache)
    body = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(body[: len(body) // 2])
    elif damage == "garbage":
        entry.write_bytes(os.urandom(len(body)))
    elif damage == "empty":
        entry.write_bytes(b"")
    else:
        entry.write_bytes(body[:8] + bytes(32) + body[40:])
    it, got = _run(model_bytes(c), inputs)
    assert not it._runner.params_from_cache
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[0], data[c["outputs"][0]["key"]][0])
    assert _entries(cache) == [entry] and entry.read_bytes() == body  # prepared again, stored again


def test_the_least_recently_used_entries_go_above_the_cap(cache, monkeypatch):
    names = ["cnn__int8", "mlp__int8", "cnn__float32", INT8]

    def store(name):
        c, _, inputs = _inputs(name)
        _run(model_bytes(c), inputs)
        return max(_entries(cache), key=lambda p: p.stat().st_mtime_ns)

    sizes = {name: store(name).stat().st_size for name in names}
    names.sort(key=sizes.get, reverse=True)  # the last one stored, the smallest, fits in half the cap
    sizes = [sizes[name] for name in names]
    prepared.clear()
    oldest = store(names[0])
    for name in names[1:3]:
        store(name)
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE_MB", str(sum(sizes[1:]) / (1 << 20)))
    newest = store(names[3])  # one entry too many: the least recently used goes
    left = set(_entries(cache))
    assert oldest not in left and newest in left and len(left) == 3
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE_MB", "0.001")
    c, _, inputs = _inputs(INT8)
    it, _ = _run(model_bytes(c), [np.concatenate([x, x]) for x in inputs])  # over half the cap: not stored
    assert set(_entries(cache)) == left and not it._runner.params_from_cache


def test_a_process_stores_a_bounded_number_of_entries(cache, monkeypatch):
    monkeypatch.setattr(prepared, "MAX_STORES_PER_PROCESS", 2)
    c, _, inputs = _inputs(INT8)
    for batch in (1, 2, 3, 4):
        _run(model_bytes(c), [np.concatenate([x] * batch) for x in inputs])
    assert len(_entries(cache)) == 2


def test_off_no_directory_no_model_object(cache, monkeypatch, tmp_path):
    c, _, inputs = _inputs(INT8)
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE", "0")
    _run(model_bytes(c), inputs)
    assert not cache.exists()
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE", "1")
    it = eightbit.Interpreter(model_content=eightbit.load(model_bytes(c)))  # an IR Model: may change after load
    it.allocate_tensors()
    assert not cache.exists()
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE_DIR", str(blocker / "prepared"))
    it, got = _run(model_bytes(c), inputs)  # nowhere to write: prepared as usual, no error
    assert not it._runner.params_from_cache and got[0].size


def test_params_pickle_cannot_take_are_not_stored(cache, monkeypatch):
    from eightbit.kernels.fast import conv

    real = conv.FastConv2D.prepare

    def unpicklable(op):
        p = real(op)
        object.__setattr__(p, "ref", lambda: None) if hasattr(p, "ref") else None
        return p

    monkeypatch.setattr(conv.FastConv2D, "prepare", staticmethod(unpicklable))
    c, _, inputs = _inputs(INT8)
    it = eightbit.Interpreter(model_content=model_bytes(c))
    it.allocate_tensors()
    assert not _entries(cache)


def test_a_custom_op_from_outside_eightbit_is_never_cached():
    class Outside:
        __module__ = "user_code"

    assert prepared.kernel_name(Outside) is None
    assert prepared.kernel_name(None) is None
    from eightbit.kernels.conv import Conv2D

    assert prepared.kernel_name(Conv2D) == "eightbit.kernels.conv.Conv2D"


def test_clear_removes_every_entry(cache):
    c, _, inputs = _inputs(INT8)
    _run(model_bytes(c), inputs)
    assert prepared.clear() == 1 and not _entries(cache)


def test_the_model_digest_is_the_sha256_tree_hash_of_its_pieces(cache):
    import hashlib

    from eightbit.interpreter import interpreter as interp

    step = interp.PIECE_BYTES
    raw = bytes(range(256)) * (step * 3 // 256 + 7)  # three whole pieces and a partial one
    want = hashlib.sha256(b"".join(hashlib.sha256(raw[k:k + step]).digest()
                                   for k in range(0, len(raw), step))).hexdigest()
    assert interp._digest_of(raw)() == want
    for at in (0, step - 1, step, len(raw) - 1):  # one byte changed anywhere: another digest
        changed = bytearray(raw)
        changed[at] ^= 1
        assert interp._digest_of(bytes(changed))() != want
    assert interp._digest_of(b"")() == hashlib.sha256(hashlib.sha256(b"").digest()).hexdigest()
