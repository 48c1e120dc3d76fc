"""Typed prepare results (what tflite-micro calls OpData), shared by the kernel families.

`prepare` returns one of these small frozen dataclasses (or a kernel's own, defined next to it);
`eval` is a short type switch on it that calls small per-type functions. Multipliers and shifts
are gemmlowp's (fixedpoint.quantize_multiplier); tables are indexed by the raw input bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Plain:
    """float32 / int32 / int64 path: the plain computation, clamped to `clamp` (None: no clamp)."""

    clamp: tuple | None = None


@dataclass(frozen=True, eq=False)
class Rescale:
    """One input brought to a common scale: (x + offset) << left_shift, times multiplier 2^shift."""

    offset: int
    multiplier: int
    shift: int


@dataclass(frozen=True, eq=False)
class Output:
    """Output stage: MultiplyByQuantizedMultiplier(raw) + zero_point, clamped to [lo, hi]."""

    zero_point: int
    multiplier: int
    shift: int
    lo: int
    hi: int
    dtype: object

    @property
    def as_tuple(self) -> tuple:
        return self.zero_point, self.multiplier, self.shift

    @property
    def act(self) -> tuple:
        return self.lo, self.hi


@dataclass(frozen=True, eq=False)
class AddSubQuant:
    """ADD / SUB / SQUARED_DIFFERENCE general path: both inputs rescaled to 2*max(s1, s2) / 2^left_shift."""

    left_shift: int
    in1: Rescale
    in2: Rescale
    out: Output


@dataclass(frozen=True, eq=False)
class Table:
    """A full lookup table over the input type, indexed by the raw bits (x viewed as `unsigned`);
    inputs below `min_valid` are a run-time error (`message`)."""

    table: np.ndarray
    unsigned: object
    min_valid: int | None = None
    message: str | None = None

    def lookup(self, x) -> np.ndarray:
        x = np.asarray(x)
        if self.min_valid is not None and x.size and int(x.min()) < self.min_valid:
            raise ValueError(self.message)
        return np.asarray(self.table[x.view(self.unsigned)])


_UNSIGNED = {np.dtype(np.int8): np.uint8, np.dtype(np.uint8): np.uint8, np.dtype(np.int16): np.uint16}


def full_table(table: np.ndarray, dtype, min_valid=None, message=None) -> Table:
    """A Table from entry k for input min + k (every value of `dtype`, in order)."""
    dtype = np.dtype(dtype)
    info = np.iinfo(dtype)
    vals = np.arange(info.min, info.max + 1, dtype=np.int64)
    unsigned = _UNSIGNED[dtype]
    by_bits = np.empty(vals.size, dtype)
    by_bits[vals & np.iinfo(unsigned).max] = np.asarray(table).astype(dtype)
    return Table(by_bits, unsigned, min_valid, message)


@dataclass(frozen=True, eq=False)
class Affine:
    """real = scale * (q - zero_point): per tensor (axis None, scalars) or per channel along axis."""

    scale: object
    zero_point: object
    axis: int | None = None

    def along(self, ndim: int) -> tuple:
        """(scale, zero point) shaped to broadcast against an input of rank ndim."""
        if self.axis is None:
            return self.scale, self.zero_point
        shape = [1] * ndim
        shape[self.axis] = self.scale.size
        return self.scale.reshape(shape), self.zero_point.reshape(shape)


def channel_affine(op, info) -> Affine:
    """Per-channel parameters of a tensor (TFLite repeats the first zero point when there is one),
    checked against the quantized dimension's size."""
    scales = np.asarray(info.scales, np.float32).reshape(-1)
    zps = np.asarray(info.zero_points, np.int64).reshape(-1)
    if zps.size != scales.size:
        zps = np.full(scales.shape, int(zps[0]) if zps.size else 0, np.int64)
    axis = int(info.quantized_dimension)
    if len(info.shape) and not (0 <= axis < len(info.shape) and info.shape[axis] == scales.size):
        raise op.unsupported(f"per-channel tensor {info.name!r}: {scales.size} scales for dimension {axis} "
                             f"of {tuple(info.shape)}")
    return Affine(scales, zps, axis)


@dataclass(frozen=True)
class ConvFamilyParams:
    """What the convolution family's prepare works out (CONV_2D, DEPTHWISE_CONV_2D,
    TRANSPOSE_CONV): the kind of arithmetic, multipliers and shifts (per channel or not), zero
    points, clamps, padding and strides. Fields a kind does not use keep their defaults."""

    act: int = 0
    channel_scales: np.ndarray | None = None
    clamp: tuple | None = None
    hi: int = 0
    in_zp: int = 0
    int64_acc: bool = False
    kind: str = ""
    lo: int = 0
    mult: np.ndarray | int = 0
    out_dtype: np.dtype | None = None
    out_zp: int = 0
    padding: int = 0
    shift: np.ndarray | int = 0
    stride: tuple = (1, 1)
    wzp: int = 0

