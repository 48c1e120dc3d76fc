"""Constants are read-only views on the file's bytes, not copies: from bytes, from a path, in
the interpreter; models loaded that way still run like LiteRT, copy, pickle and write back."""

from __future__ import annotations

import copy
import pickle
from importlib import resources

import numpy as np
import pytest

import eightbit
from tests.oracle import run_litert

DIGITS = (resources.files("eightbit") / "data" / "digits_cnn_float32.tflite").read_bytes()


def _constants(model):
    return [t for t in model.main.tensors if t.is_constant]


def test_loaded_constants_are_read_only_views_on_the_bytes():
    raw = bytes(DIGITS)
    whole = np.frombuffer(raw, np.uint8)
    consts = _constants(eightbit.load(raw))
    assert len(consts) == 7  # filters, biases, the RESHAPE shape
    for t in consts:
        assert np.shares_memory(t.data, whole), t.name
        assert not t.data.flags.writeable, t.name


def test_a_mutable_buffer_is_copied_not_viewed():
    raw = bytearray(DIGITS)
    model = eightbit.load(raw)
    before = [t.data.copy() for t in _constants(model)]
    raw[:] = bytes(len(raw))  # the caller reuses its buffer: the model must not change
    for t, b in zip(_constants(model), before):
        np.testing.assert_array_equal(t.data, b)


@pytest.mark.parametrize("source", ["bytes", "path"])
def test_interpreter_runs_on_views_like_litert(tmp_path, source):
    path = tmp_path / "digits.tflite"
    path.write_bytes(DIGITS)
    raw = bytes(DIGITS)
    it = eightbit.Interpreter(model_content=raw) if source == "bytes" else eightbit.Interpreter(model_path=str(path))
    it.allocate_tensors()
    consts = it._runner.constants
    assert consts and all(not c.flags.owndata and not c.flags.writeable for c in consts.values())
    if source == "bytes":
        assert all(np.shares_memory(c, np.frombuffer(raw, np.uint8)) for c in consts.values())
    x = np.random.default_rng(0).uniform(0, 1, (1, 8, 8, 1)).astype(np.float32)
    for _ in range(2):
        it.set_tensor(0, x)
        it.invoke()
        np.testing.assert_allclose(it.get_tensor(14), run_litert(DIGITS, [x])[0], rtol=1e-5, atol=1e-6)


def test_views_survive_copy_pickle_and_writing():
    model = eightbit.load(bytes(DIGITS))
    written = model.to_bytes()
    for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert other.to_bytes() == written
        for a, b in zip(_constants(model), _constants(other)):
            np.testing.assert_array_equal(a.data, b.data)
    assert model.min_runtime_version == eightbit.load(written).min_runtime_version == "1.5.0"
    assert isinstance(model.metadata[0].buffer.data, bytes)


def test_a_constant_shared_with_the_file_is_not_written_through():
    # Kernels get read-only arrays: a write into a constant input fails instead of changing the file.
    it = eightbit.Interpreter(model_content=bytes(DIGITS))
    it.allocate_tensors()
    c = next(iter(it._runner.constants.values()))
    with pytest.raises(ValueError, match="read-only"):
        c[...] = 0
