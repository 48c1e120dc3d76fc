"""Generators for the builtins published models use that came last (issue 7): the audio front end
(RFFT2D, REAL, IMAG, COMPLEX_ABS), detection (L2_POOL_2D, NON_MAX_SUPPRESSION_V4 / V5) and the
remaining small ops. Kinds beyond the usual four name the element type ("complex64", "int32").
"""

from __future__ import annotations

import numpy as np

from tests.fuzz.common import Gen, T, make_case

SPECIALS = False  # each generator chooses its own special values
PART = {"complex64": "float32", "complex128": "float64"}


def _complex(g: Gen, kind: str, shape):
    dtype = np.complex64 if kind == "complex64" else np.complex128
    mag = g.pick([1e-30, 1e-3, 1.0, 1e3, 1e30])
    x = (g.rng.standard_normal(shape) * mag + 1j * g.rng.standard_normal(shape) * mag).astype(dtype)
    if x.size and g.coin(0.3):  # parts near the float range (hypot must not overflow), signed zeros
        k = g.int(1, max(1, x.size // 4))
        pool = np.array([complex(3e38, 3e38), complex(-3e38, 1.0), complex(-0.0, 0.0), complex(0.0, -0.0)], dtype)
        x.reshape(-1)[g.rng.choice(x.size, k, replace=False)] = g.rng.choice(pool, k)
    return x


def _complex_part(op):
    def gen(g: Gen, kind):
        shape = g.dims(g.int(0, 4), 1, 5)
        g.note(shape=shape)
        return make_case(g, op, kind, [T(shape, kind)], [T(shape, PART[kind])], [_complex(g, kind, shape)])
    return gen


def rfft2d(g: Gen, kind):
    shape = g.dims(g.int(0, 2), 1, 3) + (g.int(1, 12), g.int(1, 12))
    fft = (2 ** g.int(0, 4), 2 ** g.int(1, 4))
    const = g.coin(0.8)
    x = (g.rng.standard_normal(shape) * g.pick([1e-3, 1.0, 1e4])).astype(np.float32)
    g.note(shape=shape, fft=fft, const=const)
    length = np.array(fft, np.int32)
    out = shape[:-2] + (fft[0], fft[1] // 2 + 1)
    return make_case(g, "RFFT2D", kind, [T(shape, kind), T((2,), "int32", data=length if const else None)],
                     [T(out, "complex64")], [x] if const else [x, length], float_rtol=1e-6)


COMPLEX = ("complex64", "complex128")
GENERATORS = {
    "REAL": (COMPLEX, _complex_part("REAL")),
    "IMAG": (COMPLEX, _complex_part("IMAG")),
    "COMPLEX_ABS": (COMPLEX, _complex_part("COMPLEX_ABS")),
    "RFFT2D": (("float32",), rfft2d),
}
