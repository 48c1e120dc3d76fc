"""Kernel differences real models exposed, checked against LiteRT's reference kernels."""

from __future__ import annotations

import numpy as np

from eightbit.ir.builder import ModelBuilder
from tests.oracle import run_eightbit, run_litert


def test_float_logistic_follows_the_reference_cutoffs():
    """reference_ops::Logistic returns exp(x) below -9 and 1 above 16.619: a wake-word model's
    probability near 0 differed by 1.2e-4 of its value when computed as 1 / (1 + exp(-x))."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-30, 30, 20000), np.linspace(-9.5, -8.5, 2001),
                        [-9.0, np.nextafter(np.float32(-9), np.float32(-10)), 16.619047164916992188, 16.62,
                         -88, -104, 89, np.inf, -np.inf, 0.0]]).astype(np.float32)[None]
    mb = ModelBuilder()
    i, o = mb.tensor("x", x.shape), mb.tensor("y", x.shape)
    mb.op("LOGISTIC", [i], [o])
    mb.inputs(i).outputs(o)
    data = mb.build().to_bytes()
    got, want = run_eightbit(data, [x])[0], run_litert(data, [x])[0]
    differ = got != want
    # exp computed in double and rounded once is glibc's expf but for rare last-bit cases
    assert differ.mean() < 1e-3
    np.testing.assert_allclose(got, want, rtol=2.5e-7, atol=0)
