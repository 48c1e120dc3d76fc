"""REDUCE_PROD, REDUCE_ANY, REDUCE_ALL (TFLite kernels/reduce.cc, reference reduce.h).

Axes from input 1 (int32; negative count from the end, duplicates ignored), ReducerOptions
.keep_dims. The reference Reduce visits the input in row-major order and folds each element into
its output, so each output's product is taken in the order of the reduced elements in memory.

REDUCE_PROD: float32 (float32 products in that order), int32 / int64 and unquantized int8 /
int16 (wrapping). Quantized int8 and int16 (int16: zero points 0) as QuantizedReduceProd, integer-only: with n = input size /
output size, one multiplier M of input_scale / output_scale^(1/n) (QuantizeMultiplier of the
double), the first element gives p = q - zp_in, every next one p = MBQM64(p * (q - zp_in), M),
and the output is MBQM64(p, M) + zp_out, saturated (MBQM64: the int64 MultiplyByQuantizedMultiplier).
So the result carries input_scale^n / output_scale, as it should. PTQ: input and output get
their own parameters (operator_property.cc has no same-scale restriction for it).
REDUCE_ANY / REDUCE_ALL: bool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail, require_arity, require_same_type

PLAIN_PROD_TYPES = ("FLOAT32", "INT32", "INT64")
QUANTIZED_PROD_TYPES = ("INT8", "INT16")


@dataclass(frozen=True)
class ProdParams:
    keep_dims: bool
    dtype: np.dtype
    quantized: bool = False
    zp_in: int = 0
    zp_out: int = 0
    in_scale: float = 0.0
    out_scale: float = 0.0


def resolve_axes(axis, ndim: int) -> tuple:
    """Sorted, de-duplicated axes in [0, ndim) (ResolveAxis); an axis out of range is an error."""
    out = set()
    for a in np.asarray(axis).reshape(-1).tolist():
        resolved = int(a) + ndim if int(a) < 0 else int(a)
        if not 0 <= resolved < max(ndim, 1):
            raise fail(f"reduction axis {a} out of range for a {ndim}-D input")
        out.add(resolved)
    return tuple(sorted(a for a in out if a < ndim))


def reduced_rows(x: np.ndarray, axes: tuple, keep_dims: bool):
    """(rows, out_shape): x with its reduced axes moved last and flattened, one row per output,
    the reduced elements of a row in memory order."""
    kept = [a for a in range(x.ndim) if a not in axes]
    rows = np.transpose(x, kept + list(axes)).reshape(int(np.prod([x.shape[a] for a in kept], dtype=np.int64)), -1)
    if keep_dims:
        out_shape = tuple(1 if a in axes else d for a, d in enumerate(x.shape))
    else:
        out_shape = tuple(x.shape[a] for a in kept)
    return rows, out_shape


def _check(op: OpContext, name: str, allowed: tuple):
    require_arity(op, 2, f"{name} takes an input and an axis tensor, and gives 1 output")
    x, out = op.inputs[0], op.outputs[0]
    if x.type not in allowed:
        raise op.unsupported(f"{name} does not run {x.type} (TFLite: {', '.join(allowed)})")
    require_same_type(op, x, out)
    if op.inputs[1].type != "INT32":
        raise op.unsupported(f"{name}'s axis must be INT32, not {op.inputs[1].type}")
    return x, out


def _sequential(rows: np.ndarray, first, step):
    acc = first(rows[:, 0])
    for k in range(1, rows.shape[1]):
        acc = step(acc, rows[:, k])
    return acc


def _prod_plain(rows: np.ndarray, dtype) -> np.ndarray:
    if rows.shape[1] == 0:
        return np.ones(rows.shape[0], dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        return _sequential(rows, lambda c: c.astype(dtype), lambda a, c: (a * c).astype(dtype))


def _prod_quantized(p: ProdParams, rows: np.ndarray) -> np.ndarray:
    n = rows.shape[1]
    mult, shift = fp.quantize_multiplier(p.in_scale / float(np.power(p.out_scale, 1.0 / n)))
    centred = rows.astype(np.int64) - p.zp_in

    def step(acc, col):
        return fp.multiply_by_quantized_multiplier_int64(acc * col, mult, shift)

    acc = _sequential(centred, lambda c: c, step)
    out = fp.multiply_by_quantized_multiplier_int64(acc, mult, shift) + p.zp_out
    info = np.iinfo(p.dtype)
    return np.clip(out, info.min, info.max).astype(p.dtype)


class ReduceProd(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> ProdParams:
        x, out = _check(op, "REDUCE_PROD", PLAIN_PROD_TYPES + QUANTIZED_PROD_TYPES)
        keep = bool(op.options.get("keep_dims", False))
        if x.type in PLAIN_PROD_TYPES or not x.quantized:  # TFLite: no quantization, the plain product
            return ProdParams(keep, np.dtype(out.dtype))
        if not out.quantized:
            raise op.unsupported(f"quantized REDUCE_PROD on {x.type} needs a quantized output")
        if x.type == "INT16" and (x.zero_point or out.zero_point):
            raise ModelError(f"{op.where()}: int16 REDUCE_PROD needs zero points 0")
        return ProdParams(keep, np.dtype(out.dtype), True, x.zero_point, out.zero_point, x.scale, out.scale)

    @staticmethod
    def eval(params: ProdParams, x, axis):
        rows, out_shape = reduced_rows(x, resolve_axes(axis, x.ndim), params.keep_dims)
        if not params.quantized:
            return _prod_plain(rows, params.dtype).reshape(out_shape)
        if rows.size == 0:  # TFLite returns early and leaves the output as it was
            return np.full(out_shape, params.zp_out, params.dtype)
        return _prod_quantized(params, rows).reshape(out_shape)


@dataclass(frozen=True)
class BoolReduceParams:
    keep_dims: bool
    function: object


class ReduceAny(Kernel):
    function = staticmethod(np.any)
    name = "REDUCE_ANY"

    @classmethod
    def prepare(cls, op: OpContext) -> BoolReduceParams:
        _check(op, cls.name, ("BOOL",))
        return BoolReduceParams(bool(op.options.get("keep_dims", False)), cls.function)

    @staticmethod
    def eval(params: BoolReduceParams, x, axis):
        rows, out_shape = reduced_rows(x, resolve_axes(axis, x.ndim), params.keep_dims)
        return np.asarray(params.function(rows, axis=1), np.bool_).reshape(out_shape)


class ReduceAll(ReduceAny):
    function = staticmethod(np.all)
    name = "REDUCE_ALL"
