"""BIDIRECTIONAL_SEQUENCE_LSTM against LiteRT's reference kernels, several invokes each (four state
variables): float32 and hybrid (floats within 1e-5, as UNIDIRECTIONAL_SEQUENCE_LSTM), both layouts,
outputs merged or not, CIFG / peephole / projection / clipping.

LiteRT's kernel is wrong for batch-major input with merged outputs (float32 and hybrid): it reads
memory it never wrote (two runs of one model on one input differ; NaN appears). There eightbit is
checked against LiteRT's result for the same model made time-major, on the transposed input."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from tests.kernels.recurrent_models import bidirectional_lstm_model, check_steps, litert_steps, run_steps

RNG = np.random.default_rng(37)
VARIANTS = {
    "plain": {}, "cifg_peephole": {"cifg": True, "peephole": True}, "projection": {"projection": True, "n_output": 3},
    "clips": {"projection": True, "n_output": 2, "proj_clip": 0.3, "cell_clip": 0.5}, "relu": {"activation": 1},
}
LAYOUTS = {"time_major": {}, "time_major_merged": {"merge_outputs": True}, "batch_major": {"time_major": False}}


def _feeds(kw, n=3):
    shape = (3, 2, 3) if kw.get("time_major", True) else (2, 3, 3)
    return [[RNG.normal(0, 1, shape).astype(np.float32)] for _ in range(n)]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind", ["float32", "hybrid", "hybrid_asymmetric"])
def test_bidirectional_lstm(kind, variant, layout):
    kw = {**VARIANTS[variant], **LAYOUTS[layout]}
    m = bidirectional_lstm_model(hybrid=kind != "float32", asymmetric=kind.endswith("asymmetric"), seed=len(variant),
                                 **kw)
    got = check_steps(m, _feeds(kw))
    assert not np.array_equal(got[0][0], got[1][0])


@pytest.mark.parametrize("kind", ["float32", "hybrid", "hybrid_asymmetric"])
def test_batch_major_merged_equals_time_major(kind):
    kw = {"merge_outputs": True, "projection": True, "n_output": 2, "proj_clip": 0.3, "cell_clip": 0.5,
          "hybrid": kind != "float32", "asymmetric": kind.endswith("asymmetric"), "seed": 4}
    batch_major = bidirectional_lstm_model(time_major=False, **kw)
    time_major = bidirectional_lstm_model(time_major=True, **kw)
    feeds = [[RNG.normal(0, 1, (2, 3, 3)).astype(np.float32)] for _ in range(3)]
    got = run_steps(eightbit.Interpreter(model_content=batch_major), feeds)
    want = litert_steps(time_major, [[np.ascontiguousarray(f[0].swapaxes(0, 1))] for f in feeds])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g[0], w[0].swapaxes(0, 1), rtol=1e-5, atol=1e-6)
