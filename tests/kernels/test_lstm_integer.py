"""The int8 UNIDIRECTIONAL_SEQUENCE_LSTM (8x8_16 kernel, kernels/lstm_integer.py) against LiteRT's
reference kernels: every variant (CIFG, peephole, projection with and without bias, layer
normalization, clipping, batch-major), zero points on every int8 tensor, several invokes with
the state carried in the variable tensors, reset_all_variables(), and the models both refuse."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from tests.kernels.recurrent_models import check_steps, integer_lstm_model, litert_steps, run_steps

RNG = np.random.default_rng(17)

VARIANTS = {
    "plain": {}, "cifg": {"cifg": True}, "peephole": {"peephole": True},
    "cifg_peephole": {"cifg": True, "peephole": True},
    "projection": {"projection": True, "n_output": 3},
    "projection_no_bias": {"projection": True, "n_output": 2, "proj_bias": False},
    # LiteRT walks the peephole buffers with n_output as the length (a flat-index quirk we follow)
    "projection_peephole": {"projection": True, "n_output": 3, "peephole": True, "n_batch": 3},
    "layer_norm": {"layer_norm": True},
    "layer_norm_cifg_peephole_projection": {"layer_norm": True, "cifg": True, "peephole": True, "projection": True,
                                            "n_output": 3},
    "clips": {"cell_clip": 0.4, "proj_clip": 0.3, "projection": True, "n_output": 4},
    "batch_major": {"time_major": False}, "batch_major_peephole_projection": {
        "time_major": False, "peephole": True, "projection": True, "n_output": 2, "n_batch": 3},
    "hidden_zero_point": {"hidden_q": (0.003, -10)},  # hidden saturates: the zero point's sign shows
    "hidden_zero_point_projection": {"hidden_q": (0.003, 12), "projection": True, "n_output": 3},
    "cell_scale_2^-15": {"cell_log2": -15}, "cell_scale_2^-9": {"cell_log2": -9},
    "wide": {"n_cell": 20, "n_input": 17, "layer_norm": True},  # the vectorized NEON loops in LiteRT
}


def _feeds(kw, n_invokes=3, n_time=3):
    n_batch, n_input = kw.get("n_batch", 2), kw.get("n_input", 3)
    shape = (n_time, n_batch, n_input) if kw.get("time_major", True) else (n_batch, n_time, n_input)
    return [[RNG.integers(-128, 128, shape).astype(np.int8)] for _ in range(n_invokes)]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_integer_lstm(variant):
    kw = VARIANTS[variant]
    m = integer_lstm_model(n_time=3, seed=len(variant), **kw)
    got = check_steps(m, _feeds(kw))
    assert any(np.any(g[0] != got[0][0]) for g in got[1:])  # the state carries over


def test_state_starts_at_the_zero_point_and_reset_restores_it():
    """LiteRT fills int8 variable tensors with their zero point on allocation and reset."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    m = integer_lstm_model(n_time=2, state_q=(1 / 64, -17), seed=5)
    feeds = _feeds({}, n_invokes=2, n_time=2)
    ours = eightbit.Interpreter(model_content=m)
    theirs = Interpreter(model_content=m, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    first = [run_steps(it, feeds) for it in (ours, theirs)]
    for it in (ours, theirs):
        it.reset_all_variables()
    again = [run_steps(it, feeds) for it in (ours, theirs)]
    for a, b in zip(first + again, [first[1], first[1], first[1], first[1]]):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x[0], y[0])


def test_time_resize():
    m = integer_lstm_model(n_time=2, seed=9)
    check_steps(m, [[RNG.integers(-128, 128, (6, 2, 3)).astype(np.int8)]])


def _refusal(model, ours_match):
    with pytest.raises(Exception, match=ours_match):  # noqa: B017
        run_steps(eightbit.Interpreter(model_content=model), _feeds({}, 1))


def test_cell_scale_must_be_a_power_of_two():
    """LiteRT's Prepare ignores the status of PopulateQuantizedLstmParams8x8_16, so such a model
    runs there with half its parameters never set (its outputs mean nothing); eightbit refuses it."""
    m = integer_lstm_model(seed=2, cell_log2=-11.5)
    litert_steps(m, _feeds({}, 1))  # runs, on unset parameters
    _refusal(m, "power of two")


def test_intermediates_are_required():
    m = eightbit.load(integer_lstm_model(seed=2))
    m.subgraphs[0].operators[0].intermediates = []
    _refusal(m.to_bytes(), "5 intermediate tensors")


def test_intermediates_survive_the_round_trip():
    m = integer_lstm_model(seed=2, hidden_q=(0.004, 7))
    again = eightbit.load(eightbit.load(m).to_bytes())
    op = again.subgraphs[0].operators[0]
    assert len(op.intermediates) == 5
    hidden = again.subgraphs[0].tensors[op.intermediates[4]]
    assert hidden.quantization.zero_point[0] == 7 and np.isclose(hidden.quantization.scale[0], 0.004)
