"""kernels/neon_float.py against LiteRT: the NEON-ordered sums and Eigen's tanh are what the SVDF
and RNN tests compare bit for bit; here Eigen's packet logistic, observed through a float LSTM
whose output is sigmoid(bias_o) * tanh(1) (CIFG with a saturated forget gate, a saturated cell
gate: the cell state is exactly 1), on 64 cells (whole, aligned packets)."""

from __future__ import annotations

import numpy as np

from eightbit.ir.builder import ModelBuilder
from eightbit.kernels import neon_float
from tests.kernels.recurrent_models import _variable, litert_steps

F32 = np.float32
N = 64


def _probe(bias_o):
    b = ModelBuilder()
    x = b.tensor("x", (1, 1, 1), np.float32)

    def zeros(name, shape):
        return b.tensor(name, shape, np.float32, data=np.zeros(shape, F32))

    ins = [x, -1] + [zeros(f"w{g}", (N, 1)) for g in "fco"] + [-1] + [zeros(f"r{g}", (N, N)) for g in "fco"]
    ins += [-1, -1, -1, -1]
    ins += [b.tensor(n, (N,), np.float32, data=np.full(N, v, F32)) for n, v in (("bf", -30), ("bc", 20))]
    ins += [b.tensor("bo", (N,), np.float32, data=bias_o), -1, -1]
    ins += [_variable(b, "h", (1, N), np.float32), _variable(b, "c", (1, N), np.float32)]
    y = b.tensor("y", (1, 1, N), np.float32)
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], {"fused_activation_function": 4, "cell_clip": 0.0,
                                                   "proj_clip": 0.0, "time_major": True},
         options_type="UnidirectionalSequenceLSTMOptions", version=1)
    b.inputs(x).outputs(y)
    return litert_steps(b.build().to_bytes(), [[np.zeros((1, 1, 1), F32)]])[0][0].reshape(-1)


def test_eigen_logistic_is_litert_sigmoid():
    rng = np.random.default_rng(3)
    tanh_1 = neon_float.tanh(np.array([1.0], F32))[0]
    for scale in (0.5, 3.0, 12.0):
        bias_o = rng.normal(0, scale, N).astype(F32)
        want = _probe(bias_o)
        np.testing.assert_array_equal((neon_float.logistic(bias_o) * tanh_1).astype(F32), want)
        plain = (F32(1) / (F32(1) + np.exp(-bias_o))).astype(F32)
        assert scale < 1 or np.any((plain * tanh_1).astype(F32) != want)  # std::exp's sigmoid is not it
