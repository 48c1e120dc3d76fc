"""Signal processing of audio front ends (TFLite kernels/rfft2d.cc, complex_support.cc): the real
FFT and the complex64 tensors it gives. Float only; operator_property.cc lists none of them, so PTQ
keeps them float (ptq=())."""

from __future__ import annotations

from eightbit.ops.base import OpSpec

ENTRIES = (
    OpSpec("RFFT2D", "Rfft2dOptions", "rfft2d.Rfft2d", ("float32",), runtime={1: "2.5.0"}, newest=1, ptq=(),
           non_float_inputs=(1,),
           doc="2-D FFT of the innermost two dimensions of a float32 tensor to complex64 (fft_length powers of two)."),
    OpSpec("REAL", None, "complex_support.Real", (), runtime={1: "2.5.0"}, newest=1, ptq=(),
           doc="The real part of a complex64 (complex128) tensor, as float32 (float64)."),
    OpSpec("IMAG", None, "complex_support.Imag", (), runtime={1: "2.5.0"}, newest=1, ptq=(),
           doc="The imaginary part of a complex64 (complex128) tensor, as float32 (float64)."),
    OpSpec("COMPLEX_ABS", None, "complex_support.ComplexAbs", (), runtime={1: "2.5.0"}, newest=1, ptq=(),
           doc="The magnitude (hypot of the parts) of a complex64 (complex128) tensor, as float32 (float64)."),
)
