"""RFFT2D, REAL, IMAG and COMPLEX_ABS against LiteRT's reference kernels: complex64 and complex128
parts, magnitudes near the float range (hypot, no overflow), FFT sizes cropping and zero-padding
the input, batches of slices, fft_length fed at run time, and the sizes both refuse."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import run_eightbit, run_litert, single_op_model

RNG = np.random.default_rng(131)
F32, F64, I32, C64, C128 = np.float32, np.float64, np.int32, np.complex64, np.complex128
PART = {C64: F32, C128: F64}


def complex_values(shape, dtype):
    scale = RNG.choice([1e-30, 1.0, 1e3, 1e30], shape)
    x = (RNG.normal(size=shape) * scale + 1j * RNG.normal(size=shape) * scale).astype(dtype)
    x.reshape(-1)[:2] = [complex(3e38, 3e38), complex(-0.0, 0.0)]
    return x


@pytest.mark.parametrize("op", ["REAL", "IMAG", "COMPLEX_ABS"])
@pytest.mark.parametrize("dtype", [C64, C128])
@pytest.mark.parametrize("shape", [(2, 3), (257,), (2, 1, 4, 3)])
def test_complex_parts(op, dtype, shape):
    m = single_op_model(op, [t(shape, dtype)], [t(shape, PART[dtype])], {})
    got = check(m, [complex_values(shape, dtype)], exact=True)
    assert got[0].dtype == PART[dtype]


@pytest.mark.parametrize("op", ["REAL", "COMPLEX_ABS"])
def test_complex_parts_refuse_float(op):
    m = single_op_model(op, [t((3,), F32)], [t((3,), F32)], {})
    both_refuse(m, [np.ones(3, F32)], "", "COMPLEX64")


def rfft_model(shape, fft, const=True):
    out = tuple(shape[:-2]) + (fft[0], fft[1] // 2 + 1)
    length = t((2,), I32, data=np.array(fft, I32)) if const else t((2,), I32)
    return single_op_model("RFFT2D", [t(shape), length], [t(out, C64)], {})


@pytest.mark.parametrize("shape,fft", [
    ((4, 4), (4, 4)), ((2, 5, 6), (4, 8)), ((3, 8, 8), (2, 2)), ((8, 8), (1, 8)), ((1, 1, 16, 32), (16, 32)),
    ((7, 3), (16, 4)), ((2, 2), (2, 2)),
])
def test_rfft2d(shape, fft):
    x = (RNG.normal(size=shape) * RNG.choice([1e-3, 1, 1e4])).astype(F32)
    got = check(rfft_model(shape, fft), [x], rtol=1e-6)
    assert got[0].dtype == C64


def test_rfft2d_signs_of_zero_imaginary_parts():
    """LiteRT's reordering negates every imaginary part: the ones zero by symmetry (DC and Nyquist
    columns of rows 0 and fft_h / 2) hold -0.0."""
    x = RNG.normal(size=(4, 8)).astype(F32)
    m = rfft_model((4, 8), (4, 8))
    want, got = run_litert(m, [x])[0], run_eightbit(m, [x])[0]
    at = np.ix_([0, 2], [0, 4])
    assert np.signbit(want.imag[at]).all()
    np.testing.assert_array_equal(np.signbit(got.imag[at]), np.signbit(want.imag[at]))


def test_rfft2d_fft_length_at_run_time_and_batch_resize():
    m = rfft_model((1, 4, 8), (4, 8), const=False)
    check(m, [RNG.normal(size=(3, 4, 8)).astype(F32), np.array([4, 8], I32)], rtol=1e-6)
    check(m, [RNG.normal(size=(1, 4, 8)).astype(F32), np.array([8, 4], I32)], rtol=1e-6)


@pytest.mark.parametrize("fft", [(4, 6), (3, 4)])
def test_rfft2d_refuses_lengths_not_powers_of_two(fft):
    both_refuse(rfft_model((4, 4), fft), [np.ones((4, 4), F32)], "", "powers of two")


def test_rfft2d_width_one_is_refused():
    """TFLite's fft2d gives undefined values for an fft width of 1 (LiteRT 2.3.0 returns 1-1j for
    a column of 1, 5, 9, 13); eightbit refuses it rather than guess."""
    with pytest.raises(Exception, match="fft width 1"):
        run_eightbit(rfft_model((4, 4), (4, 1)), [np.ones((4, 4), F32)])
