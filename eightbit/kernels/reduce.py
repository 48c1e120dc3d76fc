"""MEAN, SUM, REDUCE_MAX, REDUCE_MIN (TFLite kernels/reduce.cc with kReference, internal/reference/reduce.h).

Axes come from input 1 (int32, any order, negative values count from the end, duplicates
ignored); `keep_dims` keeps reduced axes as size 1. An empty axis list reduces nothing
(quantized MEAN/SUM still requantize each value to the output scale).

Quantized MEAN and SUM (int8, uint8, int16) use reference QuantizedMeanOrSum, which is
integer-only: the input values are summed in int32, the input zero point times the number of
reduced elements n is subtracted, and the result is scaled by the multiplier of
input_scale / output_scale (QuantizeMultiplier, prepared once). For MEAN the multiplier also
absorbs 1/n: with s = min(floor(log2 n), 32, 31 + shift) it becomes (multiplier << s) // n and
the shift decreases by s. Then the output zero point is added and the result saturated.
REDUCE_MAX/MIN never requantize (input and output share scale and zero point). Float, as
LiteRT 2.3.0 runs it (measured): the reducer `in > current ? in : current` never moves to a NaN,
so NaN inputs are skipped, and it starts from the neutral value lowest() / max(): a slice of NaN
or of -inf (REDUCE_MAX) gives -FLT_MAX. When every axis is reduced LiteRT instead starts from the
first element: a leading NaN is the result, and all -inf gives -inf.
Empty inputs: MEAN gives NaN (float) or 0; SUM gives 0; MAX/MIN give the reduction's neutral
element (lowest / highest value of the type).

Known LiteRT 2.3.0 defect, deliberately not reproduced: its reference SUM for int8 and int16
reads and writes the tensors as uint8 bytes (int8 results come out as the uint8 computation on
the reinterpreted bytes; int16 results are garbage). Current TFLite/LiteRT sources call
QuantizedMeanOrSum with the right element type, which is what this kernel computes; for uint8
(unaffected) it matches LiteRT 2.3.0's reference exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier, wrap_int32

_QUANTIZED = ("INT8", "UINT8", "INT16")


def _axes(axis, ndim: int) -> tuple:
    """Resolved, de-duplicated, sorted axes (ResolveAxis); an out-of-range axis is an error."""
    if ndim == 0:
        return ()
    out = set()
    for a in np.asarray(axis).reshape(-1).tolist():
        a = int(a)
        c = a + ndim if a < 0 else a
        if not 0 <= c < ndim:
            raise ValueError(f"reduction axis {a} out of range for a {ndim}-D input")
        out.add(c)
    return tuple(sorted(out))


def _out_shape(shape: tuple, axes: tuple, keep_dims: bool) -> tuple:
    if keep_dims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


@dataclass(frozen=True, eq=False)
class Reducer:
    """What every reduction keeps; MEAN / SUM on int8 / uint8 / int16 add the requantization
    (multiplier, shift, zero points), REDUCE_MAX / MIN their numpy reducer and neutral value."""

    keep_dims: bool
    type: str
    dtype: object
    quant: bool = False
    multiplier: int = 0
    shift: int = 0
    zp_in: int = 0
    zp_out: int = 0
    reduce: object = None
    neutral: object = None


def reduction_checks(op: OpContext, allowed: tuple) -> Reducer:
    x, y = op.inputs[0], op.outputs[0]
    if x.type not in allowed:
        raise op.unsupported(f"input type {x.type} (supported: {', '.join(allowed)})")
    if y.type != x.type:
        raise op.unsupported(f"output type {y.type} differs from input type {x.type}")
    axis = op.inputs[1]
    if axis is None or axis.type not in ("INT32",):
        raise op.unsupported("the axis input must be int32")
    if x.type == "INT16" and (x.zero_point != 0 or y.zero_point != 0):
        raise op.unsupported("int16 reductions need zero points of 0")
    return Reducer(bool(op.options.get("keep_dims", False)), x.type, y.dtype)


class Reduction(Kernel):
    """A reduction over the axes of input 1 (int32): `check(op, allowed)` is the shared Prepare
    (input type in allowed, output of the same type, int16 zero points 0) and gives the Reducer."""

    check = staticmethod(reduction_checks)


def _requant_prepare(op: OpContext, p: Reducer) -> Reducer:
    x, y = op.inputs[0], op.outputs[0]
    if not (x.quantized and y.quantized):
        raise op.unsupported(f"{x.type} input and output must be quantized")
    mult, shift = quantize_multiplier(float(x.scale) / float(y.scale))
    return replace(p, quant=True, multiplier=mult, shift=shift, zp_in=x.zero_point, zp_out=y.zero_point)


def _sequential_sum_f32(x: np.ndarray, axes: tuple) -> np.ndarray:
    """float32 sums over `axes` added one element at a time in the input's row-major order, as
    the reference reducer does (numpy's pairwise np.sum rounds differently when terms cancel).
    Returns the sums with the reduced axes removed."""
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(np.asarray(x, np.float32), rest + list(axes))
    lead = moved.shape[:len(rest)]
    flat = moved.reshape(*lead, -1)
    if flat.shape[-1] == 0:
        return np.zeros(lead, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf is NaN, as in C++
        return np.cumsum(flat, axis=-1, dtype=np.float32)[..., -1]


def _quantized_mean_or_sum(p, x, axes, out_shape, compute_sum: bool):
    """Reference QuantizedMeanOrSum (integer-only)."""
    dtype = p.dtype
    if x.size == 0:
        return np.zeros(out_shape, dtype)
    n = 1  # no axes: n = 1 and the values are still requantized (LiteRT 2.3.0)
    for a in axes:
        n *= x.shape[a]
    total = wrap_int32(np.sum(x, axis=axes, dtype=np.int64))
    mult, shift = p.multiplier, p.shift
    if not compute_sum:
        s = min(n.bit_length() - 1, 32, 31 + shift)
        mult = (mult << s) // n
        shift -= s
    shifted = wrap_int32(total - p.zp_in * n)
    out = multiply_by_quantized_multiplier(shifted, mult, shift) + p.zp_out
    info = np.iinfo(dtype)
    return np.asarray(np.clip(out, info.min, info.max), dtype).reshape(out_shape)


def _mean_or_sum_prepare(op: OpContext) -> Reducer:
    """MEAN and SUM: float32 / int32 / int64 reduce directly; int8 / uint8 / int16 requantize."""
    p = reduction_checks(op, ("FLOAT32", "INT32", "INT64", "INT8", "UINT8", "INT16"))
    return _requant_prepare(op, p) if p.type in _QUANTIZED else p


class _MeanOrSum(Reduction):
    """MEAN and SUM: the shared prepare and the quantized path; `plain` reduces the other types."""

    compute_sum = False

    @staticmethod
    def prepare(op: OpContext):
        return _mean_or_sum_prepare(op)

    @classmethod
    def eval(cls, p, x, axis):
        axes = _axes(axis, x.ndim)
        out_shape = _out_shape(x.shape, axes, p.keep_dims)
        if p.quant:
            return _quantized_mean_or_sum(p, x, axes, out_shape, compute_sum=cls.compute_sum)
        return cls.plain(p, x, axes, out_shape)


class Mean(_MeanOrSum):
    @staticmethod
    def plain(p, x, axes, out_shape):
        dtype = p.dtype
        if len(axes) == 0:
            return x.reshape(out_shape).astype(dtype, copy=True)
        if x.size == 0:
            return np.full(out_shape, np.nan if p.type == "FLOAT32" else 0, dtype)
        n = 1
        for a in axes:
            n *= x.shape[a]
        if p.type == "FLOAT32":
            total = _sequential_sum_f32(x, axes)
            with np.errstate(invalid="ignore"):
                return np.asarray(total / np.float32(n), np.float32).reshape(out_shape)
        total = np.sum(x, axis=axes, dtype=np.int64)  # int32 inputs accumulate in int64
        q = np.where(total >= 0, total // n, -((-total) // n))  # C division truncates toward zero
        return np.asarray(q, dtype).reshape(out_shape)


class Sum(_MeanOrSum):
    compute_sum = True

    @staticmethod
    def plain(p, x, axes, out_shape):
        dtype = p.dtype
        if p.type == "FLOAT32":
            if len(axes) == 0:
                return np.array(x, np.float32).reshape(out_shape)
            return np.asarray(_sequential_sum_f32(x, axes), np.float32).reshape(out_shape)
        # int32 / int64 sums wrap around, as the C++ reducer does.
        total = np.sum(x, axis=axes, dtype=np.int64)
        if dtype == np.int32:
            total = wrap_int32(total)
        return np.asarray(total, dtype).reshape(out_shape)


def _check_same_params(op: OpContext):
    x, y = op.inputs[0], op.outputs[0]
    if x.type in _QUANTIZED and (x.scale != y.scale or x.zero_point != y.zero_point):
        raise op.unsupported(f"{op.op_type} on {x.type} needs the same input and output scale and zero point")


def _minmax_prepare(op: OpContext, is_max: bool) -> Reducer:
    p = reduction_checks(op, ("FLOAT32", "INT32", "INT64", "INT8", "UINT8", "INT16", "BOOL"))
    _check_same_params(op)
    dtype = p.dtype
    if dtype == np.bool_:
        neutral = not is_max
    elif np.issubdtype(dtype, np.floating):  # numeric_limits<float>::lowest(), not -inf
        neutral = np.finfo(dtype).min if is_max else np.finfo(dtype).max
    else:
        neutral = np.iinfo(dtype).min if is_max else np.iinfo(dtype).max
    return replace(p, reduce=np.max if is_max else np.min, neutral=neutral)


def _minmax_eval(p, x, axis):
    axes = _axes(axis, x.ndim)
    out_shape = _out_shape(x.shape, axes, p.keep_dims)
    if x.size and len(axes) == x.ndim and np.issubdtype(x.dtype, np.floating):
        # Reduce-all: the first element is the starting value; later NaNs are skipped.
        first = x.reshape(-1)[0]
        if np.isnan(first):
            return np.full(out_shape, np.nan, p.dtype)
        return np.asarray(p.reduce(np.where(np.isnan(x), first, x)), p.dtype).reshape(out_shape)
    if np.issubdtype(x.dtype, np.floating):
        x = np.where(np.isnan(x), p.neutral, x)
    return np.asarray(p.reduce(x, axis=axes, initial=p.neutral), p.dtype).reshape(out_shape)


class ReduceMax(Reduction):
    @staticmethod
    def prepare(op: OpContext):
        return _minmax_prepare(op, True)

    @staticmethod
    def eval(p, x, axis):
        return _minmax_eval(p, x, axis)


class ReduceMin(Reduction):
    @staticmethod
    def prepare(op: OpContext):
        return _minmax_prepare(op, False)

    @staticmethod
    def eval(p, x, axis):
        return _minmax_eval(p, x, axis)
