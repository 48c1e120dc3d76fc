"""RNN, UNIDIRECTIONAL_SEQUENCE_RNN and BIDIRECTIONAL_SEQUENCE_RNN against LiteRT's reference
kernels, several invokes each (the hidden states are variables), floats bit for bit: float32 and
hybrid (symmetric and asymmetric on-the-fly quantization, an all-zero input step).

LiteRT's hybrid BIDIRECTIONAL_SEQUENCE_RNN is wrong (its outputs are off by up to ~0.4 and vary
from run to run: it reads memory it never wrote; with merge_outputs it can crash the process), so
that op's hybrid form is checked against LiteRT's hybrid UNIDIRECTIONAL_SEQUENCE_RNN run over the
sequence forwards and backwards with the same weights, which is what it computes."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.ir.builder import ModelBuilder
from tests.kernels.recurrent_models import bidirectional_rnn_model, check_steps, litert_steps, rnn_model, run_steps

RNG = np.random.default_rng(29)
KINDS = {"float32": {}, "hybrid": {"hybrid": True}, "hybrid_asymmetric": {"hybrid": True, "asymmetric": True}}
VARIANTS = {"tanh": {}, "relu": {"activation": 1}, "relu6": {"activation": 3}, "none": {"activation": 0},
            "wide": {"units": 9, "n_input": 13}, "batch_1": {"n_batch": 1}}


def _feeds(shape, n=3, zero_step=True):
    feeds = [[RNG.normal(0, 1, shape).astype(np.float32)] for _ in range(n)]
    if zero_step:
        feeds[1][0][...] = 0  # hybrid: the input product is skipped
    return feeds


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_rnn(kind, variant):
    kw = {**KINDS[kind], **VARIANTS[variant]}
    m = rnn_model(sequence=False, seed=len(variant), **kw)
    got = check_steps(m, _feeds((kw.get("n_batch", 2), kw.get("n_input", 3)), n=4), exact=True)
    assert not np.array_equal(got[0][0], got[2][0])


@pytest.mark.parametrize("time_major", [True, False], ids=["time_major", "batch_major"])
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_unidirectional_sequence_rnn(kind, variant, time_major):
    kw = {**KINDS[kind], **VARIANTS[variant]}
    m = rnn_model(sequence=True, time_major=time_major, n_time=3, seed=len(variant), **kw)
    nb, ni = kw.get("n_batch", 2), kw.get("n_input", 3)
    check_steps(m, _feeds((3, nb, ni) if time_major else (nb, 3, ni)), exact=True)


@pytest.mark.parametrize("merge", [False, True], ids=["two_outputs", "merged"])
@pytest.mark.parametrize("time_major", [True, False], ids=["time_major", "batch_major"])
@pytest.mark.parametrize("variant", ["tanh", "relu", "wide"])
def test_bidirectional_sequence_rnn_float(variant, time_major, merge):
    kw = VARIANTS[variant]
    kw = {("fw_units" if k == "units" else k): v for k, v in kw.items()}
    m = bidirectional_rnn_model(time_major=time_major, merge_outputs=merge, seed=len(variant), **kw)
    nb, ni = kw.get("n_batch", 2), kw.get("n_input", 3)
    check_steps(m, _feeds((3, nb, ni) if time_major else (nb, 3, ni), zero_step=False), exact=True)


def _one_direction(bi: bytes, prefix: str) -> bytes:
    """The UNIDIRECTIONAL_SEQUENCE_RNN (time-major, hybrid) of one direction of a bidirectional model."""
    sg = eightbit.load(bi).subgraphs[0]
    op = sg.operators[0]
    b = ModelBuilder()
    x = sg.tensors[op.inputs[0]]
    xi = b.tensor("x", x.shape, np.float32)
    ins = [xi]
    for name in ("w", "r", "b"):
        t = next(t for t in sg.tensors if t.name == prefix + name)
        q = t.quantization
        ins.append(b.tensor(t.name, t.shape, t.dtype, data=t.data, scale=None if q is None else q.scale,
                            zero_point=None if q is None else q.zero_point))
    h = next(t for t in sg.tensors if t.name == prefix + "h")
    hi = b.tensor("h", h.shape, np.float32)
    b.sg.tensors[hi].is_variable = True
    units = h.shape[1]
    y = b.tensor("y", x.shape[:2] + (units,), np.float32)
    opts = {k: op.options[k] for k in ("fused_activation_function", "asymmetric_quantize_inputs")}
    b.op("UNIDIRECTIONAL_SEQUENCE_RNN", ins + [hi], [y], {**opts, "time_major": True},
         options_type="SequenceRNNOptions", version=op.version)
    b.inputs(xi).outputs(y)
    return b.build().to_bytes()


@pytest.mark.parametrize("asymmetric", [False, True], ids=["symmetric", "asymmetric"])
@pytest.mark.parametrize("merge", [False, True], ids=["two_outputs", "merged"])
def test_bidirectional_sequence_rnn_hybrid_is_two_unidirectional_ones(merge, asymmetric):
    bi = bidirectional_rnn_model(hybrid=True, asymmetric=asymmetric, merge_outputs=merge, seed=6, n_time=4)
    x = RNG.normal(0, 1, (4, 2, 3)).astype(np.float32)
    (got,) = run_steps(eightbit.Interpreter(model_content=bi), [[x]])
    fw = litert_steps(_one_direction(bi, "fw_"), [[x]])[0][0]
    bw = litert_steps(_one_direction(bi, "bw_"), [[x[::-1].copy()]])[0][0][::-1]
    want = [np.concatenate([fw, bw], axis=2)] if merge else [fw, bw]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_rnn_batch_must_match_the_state():
    m = rnn_model(sequence=False, n_batch=2, seed=1)
    feeds = [[RNG.normal(0, 1, (3, 3)).astype(np.float32)]]
    with pytest.raises((RuntimeError, ValueError)):
        litert_steps(m, feeds)
    with pytest.raises(Exception, match="batch|hidden"):  # noqa: B017
        run_steps(eightbit.Interpreter(model_content=m), feeds)
