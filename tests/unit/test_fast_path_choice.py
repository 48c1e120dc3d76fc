"""Which kernels an Interpreter runs, and the thread plumbing of the fast kernels."""

from __future__ import annotations

import pytest

import eightbit
from eightbit.kernels.conv import Conv2D
from eightbit.kernels.fast import HAVE_NUMBA, jit
from eightbit.kernels.fast.conv import FastConv2D
from tests.corpus import case, model_bytes


def _conv_kernels(kernels):
    it = eightbit.Interpreter(model_content=model_bytes(case("cnn__int8")), kernels=kernels)
    r = it.get_subgraph_runner()
    return {k for op, k in zip(r.sg.operators, r.kernels) if op.op_type == "CONV_2D"}


def test_reference_mode_runs_the_reference_kernels():
    assert _conv_kernels("reference") == {Conv2D}
    assert _conv_kernels("fast") == {FastConv2D}


def test_misspelled_mode_is_rejected():
    with pytest.raises(ValueError, match="expected one of fast, reference"):
        eightbit.Interpreter(model_content=model_bytes(case("cnn__int8")), kernels="fastest")


def test_blas_thread_limit_is_restored():
    blas = jit._openblas()
    if blas is None:
        pytest.skip("numpy's BLAS is not a bundled OpenBLAS")
    setter, getter = blas
    before = int(getter())
    with jit.blas_threads(1):
        assert int(getter()) == 1
    assert int(getter()) == before


def test_row_blocks_cover_every_row_once():
    for rows, row_bytes in [(0, 10), (1, 10), (12544, 4 * 96), (5, 1 << 21)]:
        got = jit.blocks(rows, row_bytes)
        covered = [r for a, b in got for r in range(a, b)]
        assert covered == list(range(rows))


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_running_with_sets_the_threads_for_the_invoke_only():
    assert jit.STATE.threads == 1
    with jit.running_with(2):
        assert jit.STATE.threads == 2
        assert len(jit.row_ranges(1000, 1 << 20)) == 2
    assert jit.STATE.threads == 1


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_cache_falls_back_to_a_temp_dir_when_nothing_is_writable(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, os, tempfile\n"
        "tempfile.tempdir = os.environ['TMPBASE']\n"
        "from eightbit.kernels.fast import jit, requant\n"
        "jit._writable_cache = lambda: False\n"
        "out = np.zeros((1, 2), np.int8)\n"
        "one = np.ones(2, np.int64)\n"
        "requant.requant_rows.run()(np.full((1, 2), 1000.0, np.float32), one * 0, one << 30, one * 0, one,\n"
        "                            0, -128, 127, out)\n"
        "print(os.environ['NUMBA_CACHE_DIR'], out.tolist())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["TMPBASE"] = str(tmp_path)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert r.returncode == 0, r.stderr[-500:]
    cache_dir, values = r.stdout.split(" ", 1)
    assert cache_dir.startswith(str(tmp_path)) and os.listdir(cache_dir)
    assert values.strip() == "[[127, 127]]"  # 1000 * 2^30 / 2^31 = 500, rounded /2 = 250 -> clamped
