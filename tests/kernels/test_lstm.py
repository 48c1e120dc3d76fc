"""The one-step LSTM builtin (lstm.cc, full kernel) against LiteRT's reference kernels, several
invokes each (states in variables): float32 and hybrid (floats within 1e-5: LiteRT's Eigen
sigmoid takes a different path for vector and tail elements), and int8 (8x8_16) exactly."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import lstm_model
from tests.kernels.recurrent_models import as_lstm, check_steps, integer_lstm_model

RNG = np.random.default_rng(31)
VARIANTS = {
    "plain": {}, "cifg_peephole": {"cifg": True, "peephole": True}, "projection": {"projection": True, "n_output": 3},
    "layer_norm": {"layer_norm": True}, "clips": {"cell_clip": 0.5, "proj_clip": 0.3, "projection": True, "n_output": 2},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind", ["float32", "hybrid", "hybrid_asymmetric"])
def test_lstm_float_and_hybrid(kind, variant):
    hybrid, asymmetric = kind != "float32", kind.endswith("asymmetric")
    seq = lstm_model(n_batch=2, n_time=1, n_input=3, n_cell=4, hybrid=hybrid, asymmetric=asymmetric,
                     seed=len(variant), **VARIANTS[variant])
    m = as_lstm(seq, version=(4 if asymmetric else 3) if hybrid else 1)
    got = check_steps(m, [[RNG.normal(0, 1, (2, 3)).astype(np.float32)] for _ in range(4)])
    assert not np.array_equal(got[0][0], got[1][0])


@pytest.mark.parametrize("variant", list(VARIANTS) + ["hidden_zero_point"])
def test_lstm_int8(variant):
    kw = VARIANTS.get(variant, {"hidden_q": (0.003, -9)})
    m = as_lstm(integer_lstm_model(n_batch=2, n_time=1, seed=len(variant), **kw))
    got = check_steps(m, [[RNG.integers(-128, 128, (2, 3)).astype(np.int8)] for _ in range(4)])
    assert not np.array_equal(got[0][0], got[1][0])
