"""The fuzzer's fast-vs-reference mode: one case run through eightbit's fast kernels and through
its numpy reference kernels (Interpreter(kernels=...)); the outputs must be identical bit for
bit, floats included (NaN where NaN). No LiteRT needed: the reference kernels are the oracle
here, and they are checked against LiteRT by test_differential.py."""

from __future__ import annotations

import numpy as np

import eightbit
from eightbit.kernels.fast import FAST_OPS

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


def difference(case) -> str | None:
    """None when both modes give the same outcome; else what differs."""
    fast = run_mode(case.model, case.inputs, "fast")
    ref = run_mode(case.model, case.inputs, "reference")
    if fast[0] != ref[0]:
        return f"fast {fast[0]} {fast[1] if fast[0] == 'error' else ''} | reference {ref[0]} " \
               f"{ref[1] if ref[0] == 'error' else ''}"
    if fast[0] == "error":
        return None  # both reject (the same prepare runs first in both)
    for j, (g, w) in enumerate(zip(fast[1], ref[1])):
        if not identical(g, w):
            bad = int(np.sum(g != w)) if g.shape == w.shape else -1
            return f"output {j}: {bad} elements differ (fast {g.dtype}{g.shape}, reference {w.dtype}{w.shape})"
    return None
