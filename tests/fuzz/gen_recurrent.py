"""Fuzz generators of the recurrent ops (one invoke each; tests/kernels/test_*.py cover several
invokes with the state carried over): UNIDIRECTIONAL_SEQUENCE_LSTM int8 (its float and hybrid cases
are gen_newops.lstm's), LSTM, BIDIRECTIONAL_SEQUENCE_LSTM, SVDF, RNN, UNIDIRECTIONAL_SEQUENCE_RNN and
BIDIRECTIONAL_SEQUENCE_RNN."""

from __future__ import annotations

import numpy as np

from tests.fuzz import gen_newops
from tests.fuzz.common import Case, Gen
from tests.kernels import recurrent_models as rm
from tests.kernels.newops_oracle import lstm_model


def _qp(g: Gen, scales, zp_lo=-20, zp_hi=20):
    return float(np.float32(g.pick(scales) * g.loguniform(0.7, 1.4))), g.int(zp_lo, zp_hi)


def integer_lstm(g: Gen, kind, one_step: bool = False):
    """The int8 LSTM (8x8_16): random sizes, options, scales, zero points and cell-state scale
    (one_step: one time step, time-major, for the LSTM builtin)."""
    cfg = {"n_batch": g.int(1, 3), "n_time": g.int(1, 5), "n_input": g.int(1, 12), "n_cell": g.pick([1, 3, 4, 8, 16, 20]),
           "cifg": g.coin(0.3), "peephole": g.coin(0.3), "projection": g.coin(0.3), "layer_norm": g.coin(0.4),
           "time_major": g.coin(), "cell_clip": g.pick([0.0, 0.0, 0.5, 4.0]), "proj_clip": g.pick([0.0, 0.0, 0.3]),
           "proj_bias": g.coin(0.7), "cell_log2": g.pick([-9, -11, -11, -12, -15]),
           "weight_spread": g.pick([0.3, 1.0, 1.0, 4.0]),
           "input_q": _qp(g, [0.01, 0.05, 0.3], -128, 127), "state_q": _qp(g, [1 / 256, 1 / 128, 1 / 32]),
           "hidden_q": _qp(g, [1 / 256, 1 / 128, 1 / 64])}
    cfg["n_output"] = g.int(1, cfg["n_cell"]) if cfg["projection"] else cfg["n_cell"]
    if one_step:
        cfg.update(n_time=1, time_major=True)
    g.note(**cfg)
    model = rm.integer_lstm_model(seed=g.int(0, 2**31 - 1), **cfg)
    shape = ((cfg["n_time"], cfg["n_batch"]) if cfg["time_major"] else (cfg["n_batch"], cfg["n_time"])) + (cfg["n_input"],)
    x = g.qdata("int8", shape, cfg["input_q"][1])
    return Case("UNIDIRECTIONAL_SEQUENCE_LSTM", kind, g.seed, model, [x], dict(g.cfg), avoid_known=g.avoid_known)


def _lstm(g: Gen, kind):
    return integer_lstm(g, kind) if kind == "int8" else gen_newops.lstm(g, kind)


def svdf(g: Gen, kind):
    """SVDF: random rank, memory, sizes, activation, bias; int8: scales and zero points."""
    cfg = {"n_batch": g.int(1, 3), "n_input": g.int(1, 24), "num_units": g.int(1, 9), "rank": g.pick([1, 1, 2, 3, 5]),
           "memory": g.int(1, 8), "bias": g.coin(0.8)}
    if kind == "int8":
        cfg.update(activation=1, input_q=_qp(g, [0.01, 0.05, 0.3], -128, 127), output_q=_qp(g, [0.02, 0.1, 0.5], -128, 127),
                   state_scale=float(np.float32(g.pick([2.0 ** -12, 2.0 ** -10, 1 / 3000]))),
                   time_scale=float(np.float32(g.pick([2.0 ** -14, 1 / 20000, 2.0 ** -10]))),
                   feature_spread=g.pick([0.3, 1.0, 1.0, 10.0]))
    else:
        cfg.update(activation=g.pick([0, 1, 3, 4, 2]), asymmetric=kind == "hybrid" and g.coin())
    g.note(**cfg)
    model = rm.svdf_model(kind, seed=g.int(0, 2**31 - 1), **cfg)
    shape = (cfg["n_batch"], cfg["n_input"])
    if kind == "int8":
        x = g.qdata("int8", shape, cfg["input_q"][1])
    else:
        x = g.rng.normal(0, g.pick([0.3, 1.0, 3.0]), shape).astype(np.float32)
        if g.coin(0.1):
            x[:] = 0
    return Case("SVDF", kind, g.seed, model, [x], dict(g.cfg), avoid_known=g.avoid_known)


def _float_input(g: Gen, shape, kind):
    x = g.rng.normal(0, g.pick([0.3, 1.0, 3.0]), shape).astype(np.float32)
    if kind == "hybrid" and g.coin(0.15):  # an all-zero step: its product is skipped
        x[0] = 0
    return x


def rnn(op):
    """RNN / UNIDIRECTIONAL_SEQUENCE_RNN / BIDIRECTIONAL_SEQUENCE_RNN, float32 or hybrid."""
    def gen(g: Gen, kind):
        cfg = {"n_batch": g.int(1, 3), "n_input": g.int(1, 19), "activation": g.pick([4, 4, 1, 3, 2, 0])}
        if kind == "hybrid":
            cfg["hybrid"], cfg["asymmetric"] = True, g.coin()
        if op == "RNN":
            cfg["units"] = g.int(1, 17)
            shape = (cfg["n_batch"], cfg["n_input"])
        else:
            cfg.update(n_time=g.int(1, 5), time_major=g.coin())
            shape = ((cfg["n_time"], cfg["n_batch"]) if cfg["time_major"] else (cfg["n_batch"], cfg["n_time"])) + \
                (cfg["n_input"],)
        exclude = None
        if op == "BIDIRECTIONAL_SEQUENCE_RNN":
            cfg.update(fw_units=g.int(1, 9), bw_units=g.int(1, 9), merge_outputs=kind != "hybrid" and g.coin())
            # LiteRT's hybrid kernel reads memory it never wrote (outputs off by up to ~0.4, and a
            # crash with merge_outputs): run it, compare nothing; tests/kernels/test_rnn.py checks
            # eightbit against LiteRT's UNIDIRECTIONAL_SEQUENCE_RNN run both ways instead.
            exclude = "LiteRT's hybrid BIDIRECTIONAL_SEQUENCE_RNN is wrong" if kind == "hybrid" else None
        elif op == "UNIDIRECTIONAL_SEQUENCE_RNN":
            cfg["units"] = g.int(1, 17)
        g.note(**cfg)
        seed = g.int(0, 2**31 - 1)
        if op == "BIDIRECTIONAL_SEQUENCE_RNN":
            model = rm.bidirectional_rnn_model(seed=seed, **cfg)
        else:
            model = rm.rnn_model(sequence=op != "RNN", seed=seed, **cfg)
        x = _float_input(g, shape, kind)
        return Case(op, kind, g.seed, model, [x], dict(g.cfg), exclude=exclude, avoid_known=g.avoid_known)
    return gen


def lstm_one_step(g: Gen, kind):
    """The LSTM builtin: a one-step, time-major sequence model of the kind, rewritten as LSTM."""
    if kind == "int8":
        case = integer_lstm(g, kind, one_step=True)
    else:
        cfg = {"n_batch": g.int(1, 3), "n_time": 1, "n_input": g.int(1, 6), "n_cell": g.int(1, 6),
               "cifg": g.coin(0.3), "peephole": g.coin(0.3), "projection": g.coin(0.3), "layer_norm": g.coin(0.3),
               "time_major": True, "activation": g.pick([4, 4, 1, 3, 2]), "cell_clip": g.pick([0.0, 0.0, 0.5, 3.0]),
               "proj_clip": g.pick([0.0, 0.0, 0.3]), "proj_bias": g.coin()}
        cfg["n_output"] = g.int(1, 5) if cfg["projection"] else cfg["n_cell"]
        if kind == "hybrid":
            cfg["hybrid"], cfg["asymmetric"] = True, g.coin()
        g.note(**cfg)
        model = lstm_model(seed=g.int(0, 2**31 - 1), **cfg)
        x = g.rng.normal(0, g.pick([0.3, 1.0, 3.0]), (1, cfg["n_batch"], cfg["n_input"])).astype(np.float32)
        case = Case("UNIDIRECTIONAL_SEQUENCE_LSTM", kind, g.seed, model, [x], dict(g.cfg))
    version = 1 if kind != "hybrid" else (4 if case.cfg.get("asymmetric") else 3)
    return Case("LSTM", kind, g.seed, rm.as_lstm(case.model, version), [case.inputs[0][0]], dict(case.cfg),
                avoid_known=g.avoid_known)


def bidirectional_lstm(g: Gen, kind):
    """BIDIRECTIONAL_SEQUENCE_LSTM, float32 or hybrid, random options, both layouts, merged or not."""
    cfg = {"n_batch": g.int(1, 3), "n_time": g.int(1, 4), "n_input": g.int(1, 6), "n_cell": g.int(1, 6),
           "cifg": g.coin(0.3), "peephole": g.coin(0.3), "projection": g.coin(0.3), "time_major": g.coin(),
           "merge_outputs": g.coin(), "activation": g.pick([4, 4, 1, 3]), "cell_clip": g.pick([0.0, 0.0, 0.5]),
           "proj_clip": g.pick([0.0, 0.0, 0.3]), "proj_bias": g.coin()}
    cfg["n_output"] = g.int(1, 5) if cfg["projection"] else cfg["n_cell"]
    if kind == "hybrid":
        cfg["hybrid"], cfg["asymmetric"] = True, g.coin()
    g.note(**cfg)
    model = rm.bidirectional_lstm_model(seed=g.int(0, 2**31 - 1), **cfg)
    shape = ((cfg["n_time"], cfg["n_batch"]) if cfg["time_major"] else (cfg["n_batch"], cfg["n_time"])) + \
        (cfg["n_input"],)
    # LiteRT reads unwritten memory with batch-major input and merged outputs (float32 and hybrid;
    # tests/kernels/test_bidirectional_sequence_lstm.py checks that case against time-major).
    exclude = "LiteRT's batch-major merged BIDIRECTIONAL_SEQUENCE_LSTM is wrong" if (
        not cfg["time_major"] and cfg["merge_outputs"]) else None
    x = _float_input(g, shape, kind)
    return Case("BIDIRECTIONAL_SEQUENCE_LSTM", kind, g.seed, model, [x], dict(g.cfg), exclude=exclude,
                avoid_known=g.avoid_known)


GENERATORS = {
    "UNIDIRECTIONAL_SEQUENCE_LSTM": (("float32", "hybrid", "int8"), _lstm),
    "SVDF": (("float32", "hybrid", "int8"), svdf),
    **{op: (("float32", "hybrid"), rnn(op)) for op in ("RNN", "UNIDIRECTIONAL_SEQUENCE_RNN", "BIDIRECTIONAL_SEQUENCE_RNN")},
    "LSTM": (("float32", "hybrid", "int8"), lstm_one_step),
    "BIDIRECTIONAL_SEQUENCE_LSTM": (("float32", "hybrid"), bidirectional_lstm),
}
