"""Build, convert and check Keras models against model.predict and LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from tests.oracle import assert_same_as_litert, run_eightbit, run_litert

keras = pytest.importorskip("keras")


KEEP = ("kernel", "embeddings")  # Keras's own random initialization keeps deep models' activations in range


def randomize(model, seed=0):
    """Random biases, normalization statistics and scales (variances positive), so no layer is an
    identity; kernels keep their (random) initialization."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        if not np.issubdtype(np.dtype(v.dtype), np.floating):
            continue
        name = v.path.split("/")[-1]
        if any(k in name for k in KEEP):
            continue
        if "variance" in name or name in ("gamma", "scale"):
            value = rng.uniform(0.5, 1.5, v.shape)
        else:
            value = rng.uniform(-0.3, 0.3, v.shape)
        v.assign(value.astype(v.dtype))
    return model


def converter_for(model):
    """eightbit.TFLiteConverter.from_keras_model, or the importer + from_model until it exists."""
    try:
        return eightbit.TFLiteConverter.from_keras_model(model)
    except NotImplementedError:
        from eightbit.importers.keras import import_keras

        return eightbit.TFLiteConverter.from_model(import_keras(model).model)


def float_bytes(model) -> bytes:
    return converter_for(model).convert()


def int8_bytes(model, samples) -> bytes:
    conv = converter_for(model)
    conv.optimizations = [eightbit.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([s[k:k + 1] for s in samples] for k in range(len(samples[0])))
    return conv.convert()


def predict(model, inputs) -> list:
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def assert_close(got, want, rel=1e-4, what=""):
    for j, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, f"{what} output {j}: shape {g.shape} != Keras {w.shape}"
        scale = float(np.max(np.abs(w))) if w.size else 0.0
        err = float(np.max(np.abs(g.astype(np.float64) - w))) if w.size else 0.0
        assert err <= rel * scale + 1e-6, f"{what} output {j}: max abs err {err} > {rel} * {scale}"


def check_float(model, inputs, rel=1e-4) -> bytes:
    """The float conversion matches model.predict in eightbit and in LiteRT; returns its bytes."""
    data = float_bytes(model)
    want = predict(model, inputs)
    assert_close(run_eightbit(data, inputs), want, rel, "eightbit")
    assert_close(run_litert(data, inputs, reference=False), want, rel, "LiteRT")
    return data


# builtins LiteRT's BUILTIN_REF resolver does not register (its default resolver has them)
NOT_IN_REFERENCE_RESOLVER = {"ELU"}


def check_int8(model, inputs, calibration) -> bytes:
    """The int8 conversion runs in LiteRT's reference kernels with outputs identical to ours.

    The inputs are part of the calibration data: outside the calibrated range LiteRT's reference
    SUM wraps around instead of saturating, which is not what these tests are about."""
    calibration = [np.concatenate([x, c]) for x, c in zip(inputs, calibration)]
    data = int8_bytes(model, calibration)
    ops = {op.op_type for op in eightbit.load(data).main.operators}
    if ops & NOT_IN_REFERENCE_RESOLVER:
        want, got = run_litert(data, inputs, reference=False), run_eightbit(data, inputs)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
    else:
        assert_same_as_litert(data, inputs, atol=0.0)
    return data


def random_inputs(model, batch=1, seed=1, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    out = []
    for kt in model.inputs:
        shape = (batch, *kt.shape[1:])
        if "int" in str(kt.dtype):
            out.append(rng.integers(0, 10, shape).astype(np.int32))
        else:
            out.append(rng.uniform(low, high, shape).astype(np.float32))
    return out
