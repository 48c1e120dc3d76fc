"""UNIDIRECTIONAL_SEQUENCE_LSTM (float32) against LiteRT's reference kernels: plain, CIFG,
peephole, projection (with and without bias), layer normalization, cell / projection clipping,
time-major and batch-major layouts, activations, batch resize, and the state kept in the
variable tensors across invoke() calls (a sequence fed in two halves equals it fed at once)."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from tests.fuzz.harness import compare
from tests.kernels.newops_oracle import lstm_model

RNG = np.random.default_rng(81)
F32 = np.float32
RELU = 1


def run_steps(interp, feeds):
    """Invoke once per feed (state carries over); the outputs of each invoke."""
    interp.allocate_tensors()
    det_in = interp.get_input_details()[0]
    outs = []
    for x in feeds:
        if tuple(det_in["shape"]) != x.shape:
            interp.resize_tensor_input(det_in["index"], list(x.shape))
            interp.allocate_tensors()
        interp.set_tensor(det_in["index"], x)
        interp.invoke()
        outs.append(interp.get_tensor(interp.get_output_details()[0]["index"]).copy())
    return outs


def check_lstm(model: bytes, feeds, rtol=1e-5):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    want = run_steps(Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF), feeds)
    got = run_steps(eightbit.Interpreter(model_content=model), feeds)
    why = compare(got, want, float_rtol=rtol)
    assert why is None, why
    return got


VARIANTS = {
    "plain": {}, "cifg": {"cifg": True}, "peephole": {"peephole": True}, "cifg_peephole": {"cifg": True, "peephole": True},
    "projection": {"projection": True, "n_output": 3}, "projection_no_bias": {"projection": True, "n_output": 5,
                                                                             "proj_bias": False},
    "layer_norm": {"layer_norm": True}, "layer_norm_cifg_peephole_projection": {
        "layer_norm": True, "cifg": True, "peephole": True, "projection": True, "n_output": 3},
    "clips": {"cell_clip": 0.7, "proj_clip": 0.4, "projection": True, "n_output": 4},
    "batch_major": {"time_major": False}, "relu": {"activation": RELU},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_lstm_float(variant):
    kw = VARIANTS[variant]
    time_major = kw.get("time_major", True)
    m = lstm_model(n_batch=2, n_time=5, n_input=3, n_cell=4, seed=len(variant), **kw)
    shape = (5, 2, 3) if time_major else (2, 5, 3)
    check_lstm(m, [RNG.normal(0, 1, shape).astype(F32)])


def _float64_lstm(model: bytes, x, activation):
    """A plain float64 LSTM (no CIFG / peephole / projection) on the model's own weights: the
    textbook equations, independent of the kernel."""
    sg = eightbit.load(model).subgraphs[0]
    t = {name: sg.tensors[i].data.astype(np.float64) for i, name in enumerate(t.name for t in sg.tensors)
         if sg.tensors[i].data is not None}
    h = np.zeros((x.shape[1], t["r_f"].shape[1]))
    c = np.zeros((x.shape[1], t["w_f"].shape[0]))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    out = []
    for xt in x.astype(np.float64):
        pre = {g: xt @ t[f"w_{g}"].T + h @ t[f"r_{g}"].T + t[f"b_{g}"] for g in "ifco"}
        c = sig(pre["f"]) * c + sig(pre["i"]) * activation(pre["c"])
        h = sig(pre["o"]) * activation(c)
        out.append(h)
    return np.stack(out)


def test_activation_none_is_the_identity_not_litert_scratch():
    """LiteRT 2.3.0's NONE leaves its scratch unwritten and outputs o * g (the cell gate); the
    LSTM's definition, h = o * activation(c), with the identity gives o * c, which we keep."""
    from tests.kernels.newops_oracle import run_litert

    m = lstm_model(n_batch=1, n_time=3, n_input=2, n_cell=3, activation=0, seed=3)
    x = RNG.normal(0, 1, (3, 1, 2)).astype(F32)
    (got,) = run_steps(eightbit.Interpreter(model_content=m), [x])
    np.testing.assert_allclose(got, _float64_lstm(m, x, lambda v: v), rtol=1e-5, atol=1e-6)
    assert not np.allclose(got, run_litert(m, [x])[0], atol=1e-3)
    m = lstm_model(n_batch=1, n_time=3, n_input=2, n_cell=3, activation=4, seed=3)  # and TANH agrees with both
    (got,) = run_steps(eightbit.Interpreter(model_content=m), [x])
    np.testing.assert_allclose(got, _float64_lstm(m, x, np.tanh), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("asymmetric", [False, True], ids=["symmetric", "asymmetric"])
def test_lstm_hybrid(variant, asymmetric):
    kw = VARIANTS[variant]
    time_major = kw.get("time_major", True)
    m = lstm_model(n_batch=2, n_time=5, n_input=3, n_cell=4, seed=len(variant) + 7, hybrid=True,
                   asymmetric=asymmetric, **kw)
    shape = (5, 2, 3) if time_major else (2, 5, 3)
    x = RNG.normal(0, 1, shape).astype(F32)
    x[0] = 0  # an all-zero step: TFLite skips its products
    check_lstm(m, [x, RNG.normal(0, 2, shape).astype(F32)])


def test_state_persists_across_invokes():
    m = lstm_model(n_batch=1, n_time=3, n_input=2, n_cell=3, peephole=True)
    feeds = [RNG.normal(0, 1, (3, 1, 2)).astype(F32) for _ in range(4)]
    got = check_lstm(m, feeds)
    assert not np.allclose(got[0], got[1])  # the second call starts from the first one's state


def test_time_resize():
    m = lstm_model(n_batch=2, n_time=4, n_input=3, n_cell=2)
    check_lstm(m, [RNG.normal(0, 1, (7, 2, 3)).astype(F32)])


def test_batch_resize_is_refused():
    """The state tensors fix the batch: LiteRT refuses another one, and so does eightbit."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    m = lstm_model(n_batch=1, n_time=4, n_input=3, n_cell=2, time_major=False)
    x = RNG.normal(0, 1, (3, 4, 3)).astype(F32)
    with pytest.raises(RuntimeError, match="output_state"):
        run_steps(Interpreter(model_content=m, experimental_op_resolver_type=OpResolverType.BUILTIN_REF), [x])
    with pytest.raises(Exception, match="does not match the state"):  # noqa: B017
        run_steps(eightbit.Interpreter(model_content=m), [x])
