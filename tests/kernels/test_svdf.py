"""SVDF against LiteRT's reference kernels, several invokes each (the state is a variable that
keeps the last memory_size activations): float32, hybrid (symmetric and asymmetric input
quantization, an all-zero input) and int8 (int16 time weights and state). Floats are compared
bit for bit: the kernel sums in LiteRT's order and uses Eigen's tanh as LiteRT does."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from tests.kernels.recurrent_models import check_steps, litert_steps, run_steps, svdf_model

RNG = np.random.default_rng(23)
TANH = 4

VARIANTS = {
    "plain": {}, "rank_2": {"rank": 2}, "rank_5": {"rank": 5, "num_units": 2}, "no_bias": {"bias": False},
    "memory_1": {"memory": 1}, "memory_7": {"memory": 7}, "batch_1_wide": {"n_batch": 1, "num_units": 16, "n_input": 21},
    "relu6": {"activation": 3}, "tanh": {"activation": TANH}, "none": {"activation": 0},
}


def _feeds(kind, kw, n=4, zero_at=None):
    shape = (kw.get("n_batch", 2), kw.get("n_input", 3))
    if kind == "int8":
        return [[RNG.integers(-128, 128, shape).astype(np.int8)] for _ in range(n)]
    feeds = [[RNG.normal(0, 1, shape).astype(np.float32)] for _ in range(n)]
    if zero_at is not None:
        feeds[zero_at][0][:] = 0
    return feeds


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind", ["float32", "hybrid", "hybrid_asymmetric"])
def test_svdf_float_and_hybrid(kind, variant):
    kw = VARIANTS[variant]
    m = svdf_model(kind.split("_")[0], asymmetric=kind.endswith("asymmetric"), seed=len(variant), **kw)
    got = check_steps(m, _feeds(kind, kw, zero_at=2 if kind != "float32" else None), exact=True)
    assert not np.array_equal(got[0][0], got[1][0])


INT8_VARIANTS = {k: v for k, v in VARIANTS.items() if "activation" not in v}
INT8_VARIANTS.update({"zero_points": {"input_q": (0.02, -100), "output_q": (0.03, 90)},
                      "saturating": {"feature_spread": 30.0}})


@pytest.mark.parametrize("variant", list(INT8_VARIANTS))
def test_svdf_int8(variant):
    kw = INT8_VARIANTS[variant]
    m = svdf_model("int8", seed=len(variant), **kw)
    got = check_steps(m, _feeds("int8", kw))
    assert not np.array_equal(got[0][0], got[1][0])


def test_int8_relu_is_required_but_not_applied():
    """LiteRT refuses an int8 SVDF whose activation is not RELU, and then does not apply it."""
    m = svdf_model("int8", seed=4, output_q=(0.02, 0))
    got = check_steps(m, _feeds("int8", {}))
    assert min(int(g[0].min()) for g in got) < 0
    bad = svdf_model("int8", seed=4, activation=0)
    with pytest.raises(RuntimeError, match="kTfLiteActRelu"):
        litert_steps(bad, _feeds("int8", {}, 1))
    with pytest.raises(Exception, match="RELU"):  # noqa: B017
        run_steps(eightbit.Interpreter(model_content=bad), _feeds("int8", {}, 1))


def test_reset_all_variables_clears_the_memory():
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    m = svdf_model("float32", seed=8, memory=4)
    feeds = _feeds("float32", {}, n=3)
    for it in (eightbit.Interpreter(model_content=m),
               Interpreter(model_content=m, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)):
        first = run_steps(it, feeds)
        it.reset_all_variables()
        again = run_steps(it, feeds)
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a[0], b[0])


def test_batch_must_match_the_state():
    m = svdf_model("float32", seed=1, n_batch=2)
    feeds = [[RNG.normal(0, 1, (3, 3)).astype(np.float32)]]
    with pytest.raises((RuntimeError, ValueError)):
        litert_steps(m, feeds)
    with pytest.raises(Exception, match="batch|state"):  # noqa: B017
        run_steps(eightbit.Interpreter(model_content=m), feeds)
