"""RFFT2D (TFLite kernels/rfft2d.cc): the 2-D real-input FFT of the innermost two dimensions of a
float32 tensor (rank >= 2), as tf.signal.rfft2d: each [H, W] slice is cropped or zero-padded to
fft_length = [fft_h, fft_w] (int32, both powers of two), transformed in double precision, and the
non-negative frequencies of the last axis kept: output [..., fft_h, fft_w / 2 + 1] complex64.
fft_length may be computed at run time (TFLite then sizes the output in Eval).
TFLite's reordering sets the imaginary parts that are zero by symmetry (the DC and Nyquist columns
of rows 0 and fft_h / 2) to 0 and then negates every imaginary part: those four come out as -0.0; an fft width of 1 gives garbage in TFLite's fft2d (rdft2d needs n2 >= 2): refused."""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, require_type


def _fft_size(fft_length) -> tuple:
    height, width = (int(v) for v in as_ints(fft_length)[:2])
    for v in (height, width):
        if v <= 0 or v & (v - 1):
            raise fail(f"RFFT2D: fft_length {height}x{width} must be powers of two (TFLite's fft2d library)")
    if width < 2:
        raise fail(f"RFFT2D: fft width {width} is not supported (TFLite's fft2d gives undefined values below 2)")
    return height, width


class Rfft2d(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        if len(op.inputs) != 2 or any(t is None for t in op.inputs) or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: RFFT2D takes an input and fft_length and gives one output")
        x, length = op.inputs
        require_type(op, x, ("FLOAT32",), "input")
        require_type(op, length, ("INT32",), "fft_length")
        if len(x.shape) < 2:
            raise ModelError(f"{op.where()}: RFFT2D's input must be at least 2-D, got {list(x.shape)}")
        if len(length.shape) != 1 or length.shape[0] != 2:
            raise ModelError(f"{op.where()}: RFFT2D's fft_length must hold 2 values, got shape {list(length.shape)}")
        if op.outputs[0].type != "COMPLEX64":
            raise ModelError(f"{op.where()}: RFFT2D's output must be COMPLEX64, not {op.outputs[0].type}")
        if length.data is not None:
            _fft_size(length.data)
        return None

    @staticmethod
    def eval(params, x, fft_length):
        height, width = _fft_size(fft_length)
        spectrum = np.fft.rfft2(x.astype(np.float64), s=(height, width), axes=(-2, -1))
        out = spectrum.astype(np.complex64)
        rows = sorted({0, height // 2})
        out.imag[..., rows, 0] = -0.0
        out.imag[..., rows, -1] = -0.0
        return out
