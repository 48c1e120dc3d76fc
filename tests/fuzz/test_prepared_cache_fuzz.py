"""The prepared-params cache on the fuzzer's random single-op and multi-op models: for every
(op, type) pair, a model whose params came back from the cache computes what the same model
freshly prepared computes, bit for bit (floats included: the same kernels run the same params)."""

from __future__ import annotations

import numpy as np
import pytest

from eightbit.interpreter import prepared
from tests.fuzz.harness import run_eightbit
from tests.fuzz.registry import case_seed, generate, pairs

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

SEED = 20261205
PER_PAIR = 2


def _same(a, b) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] != "ok":
        return a[1] == b[1]  # failed at the same stage
    return len(a[1]) == len(b[1]) and all(
        x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
        for x, y in zip(a[1], b[1]))


@pytest.mark.parametrize("op,kind", pairs(), ids=lambda v: str(v))
def test_cached_params_compute_what_fresh_ones_do(op, kind, tmp_path, monkeypatch):
    monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(prepared, "MIN_PREPARE_SECONDS", 0.0)
    monkeypatch.setattr(prepared, "_UNPICKLABLE", set())
    monkeypatch.setattr(prepared, "_STORES", [])
    loaded, ran = 0, 0
    for i in range(PER_PAIR):
        case = generate(op, kind, case_seed(SEED, op, kind, i))
        monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE", "0")
        fresh = run_eightbit(case.model, case.inputs)
        monkeypatch.setenv("EIGHTBIT_PREPARED_CACHE", "1")
        before = len(list(tmp_path.glob("*.prep")))
        stored = run_eightbit(case.model, case.inputs)
        prepared.wait()  # entries are written by a thread
        stored_any = len(list(tmp_path.glob("*.prep"))) > before
        again = run_eightbit(case.model, case.inputs)
        assert _same(fresh, stored), case.describe()
        assert _same(fresh, again), case.describe()
        loaded += stored_any
        ran += stored[0] == "ok"
    assert prepared._UNPICKLABLE == set(), f"{op} {kind}: params pickle cannot take"
    assert loaded or not ran, f"{op} {kind}: ran, but nothing was stored"
