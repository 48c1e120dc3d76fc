"""Fast kernels against the reference kernels on the fuzzer's random configurations (every type
of every op with a fast kernel, and the multi-op chains): bit-identical outputs."""

from __future__ import annotations

import pytest

from eightbit.kernels.fast import HAVE_NUMBA
from tests.fuzz.fast_vs_reference import OPS, difference
from tests.fuzz.registry import case_seed, generate, pairs

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.skipif(not HAVE_NUMBA, reason="without numba the fast kernels are the reference ones")]

SEED = 20261204
PER_PAIR = 25


@pytest.mark.parametrize("op,kind", pairs(OPS), ids=lambda v: str(v))
def test_fast_kernels_equal_reference(op, kind):
    failures = []
    for i in range(PER_PAIR):
        case = generate(op, kind, case_seed(SEED, op, kind, i))
        why = difference(case)
        if why:
            failures.append(f"{case.describe()} :: {why}")
    assert not failures, f"{len(failures)}/{PER_PAIR} differ:\n" + "\n".join(failures)
