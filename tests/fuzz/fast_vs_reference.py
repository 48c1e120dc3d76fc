"""The fuzzer's fast-vs-reference mode: one case run through eightbit's fast kernels and through
its numpy reference kernels (Interpreter(kernels=...)); the outputs must be identical bit for
bit, floats included (NaN where NaN), except float outputs of a model whose float GEMMs the fast
path sums through BLAS (fastpath.floats_stay_float: no float value is quantized at run time):
those within FLOAT_RTOL of the output's magnitude (see close). No LiteRT needed: the reference
kernels are the oracle here, and they are checked against LiteRT by test_differential.py."""

from __future__ import annotations

import numpy as np

import eightbit
from eightbit.interpreter.fastpath import floats_stay_float
from eightbit.kernels.fast import FAST_OPS

# BLAS sums a float32 dot product in another order than TFLite's reference loop (blocked, with
# fused multiply-adds): each output moves by a few ulps of the largest partial sums, far below
# 1e-5 of the tensor's magnitude for the depths in our models, and far above zero, so a bit-exact
# comparison would fail and a looser one would hide a real bug (a wrong tap is a change of order 1).
FLOAT_RTOL = 1e-5

# The ops with a fast kernel, and the multi-op chains (which mix them with the others).
OPS = (*FAST_OPS, "CHAIN")


def run_mode(model: bytes, inputs, kernels: str):
    """("ok", outputs) or ("error", message)."""
    try:
        it = eightbit.Interpreter(model_content=model, kernels=kernels)
        for det, x in zip(it.get_input_details(), inputs):
            if tuple(det["shape"]) != np.shape(x):
                it.resize_tensor_input(det["index"], list(np.shape(x)))
        it.allocate_tensors()
        for det, x in zip(it.get_input_details(), inputs):
            it.set_tensor(det["index"], np.asarray(x))
        it.invoke()
        return ("ok", [it.get_tensor(d["index"]) for d in it.get_output_details()])
    except Exception as e:  # noqa: BLE001 - an error is an outcome both modes must share
        return ("error", f"{type(e).__name__}: {' '.join(str(e).split())[:300]}")


def identical(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        # Same values (NaN where NaN), and the same sign of zero.
        return bool(np.array_equal(a, b, equal_nan=True)) and bool(np.all((np.signbit(a) == np.signbit(b))
                                                                          | np.isnan(a)))
    return bool(np.array_equal(a, b))


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape and dtype, NaN and infinities where the other has them, finite values within
    FLOAT_RTOL of b's largest finite magnitude."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind not in "fc":
        return bool(np.array_equal(a, b))
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb) or not np.array_equal(a[~fa], b[~fb], equal_nan=True):
        return False
    if not fb.any():
        return True
    scale = float(np.max(np.abs(b[fb])))
    return bool(np.all(np.abs(a[fa].astype(np.float64) - b[fb]) <= FLOAT_RTOL * scale))


def same(model: bytes, a: np.ndarray, b: np.ndarray, blas: bool | None = None) -> bool:
    """a (fast) against b (reference): identical, or close for floats of a BLAS model."""
    if blas is None:
        blas = floats_stay_float(eightbit.load(model))
    return close(a, b) if blas and a.dtype.kind == "f" else identical(a, b)


def difference(case) -> str | None:
    """None when both modes give the same outcome; else what differs."""
    fast = run_mode(case.model, case.inputs, "fast")
    ref = run_mode(case.model, case.inputs, "reference")
    if fast[0] != ref[0]:
        return f"fast {fast[0]} {fast[1] if fast[0] == 'error' else ''} | reference {ref[0]} " \
               f"{ref[1] if ref[0] == 'error' else ''}"
    if fast[0] == "error":
        return None  # both reject (the same prepare runs first in both)
    blas = floats_stay_float(eightbit.load(case.model))
    for j, (g, w) in enumerate(zip(fast[1], ref[1])):
        if not same(case.model, g, w, blas):
            bad = int(np.sum(g != w)) if g.shape == w.shape else -1
            return f"output {j}: {bad} elements differ (fast {g.dtype}{g.shape}, reference {w.dtype}{w.shape})"
    return None
