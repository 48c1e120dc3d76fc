"""CONCATENATION (TFLite kernels/concatenation.cc, reference Concatenation / ConcatenationWithScaling).

Most types are a plain copy. TFLite's Prepare requires every int8 input to carry the output's
scale and zero point and every int16 zero point to be 0, so those are copies too; the uint8 kernel
(ConcatenationWithScaling) requantizes an input whose parameters differ from the output's, in
float32: q_out = round(q_in * (s_in * (1 / s_out)) + (-z_in * that)) + z_out, clamped to [0, 255].
That map has only 256 inputs, so prepare tabulates it and eval is a table lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.fixedpoint import round_half_away
from eightbit.kernels.movement import require_same_quantization, require_type

CONCAT_TYPES = frozenset({
    "FLOAT32", "FLOAT16", "BFLOAT16", "INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32", "INT64", "BOOL",
})


def _uint8_requant_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """The float path of ConcatenationWithScaling for every uint8 value, in float32 like TFLite."""
    inv = np.float32(1.0) / np.float32(out_scale)
    scale = np.float32(in_scale) * inv
    bias = np.float32(-in_zp) * scale
    q = np.arange(256, dtype=np.float32)
    real = q * scale + bias  # float32 arithmetic, rounded after each step (no fused multiply-add)
    rounded = round_half_away(real)  # TfLiteRound
    return np.clip(rounded.astype(np.int64) + out_zp, 0, 255).astype(np.uint8)


@dataclass(frozen=True, eq=False)
class ConcatenationParams:
    """The axis and, for uint8 inputs with other parameters, their requantization tables."""

    axis: int
    tables: list


class Concatenation(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        out = op.outputs[0]
        ins = op.inputs
        if not ins or any(t is None for t in ins):
            raise ModelError(f"{op.where()}: CONCATENATION needs its inputs")
        t0 = ins[0]
        require_type(op, t0, CONCAT_TYPES)
        rank = len(t0.shape)
        axis = int(op.options.get("axis", 0))
        if axis < 0:
            axis += rank
        if not 0 <= axis < rank:
            raise ModelError(f"{op.where()}: axis {op.options.get('axis')} out of range for rank {rank}")
        if int(op.options.get("fused_activation_function", 0)) != 0:
            raise op.unsupported("fused activation (TFLite's kernel requires NONE)")
        for t in ins:
            if t.type != t0.type or len(t.shape) != rank:
                raise ModelError(f"{op.where()}: inputs differ in type or rank")
        if out.type != t0.type:
            raise ModelError(f"{op.where()}: output is {out.type}, inputs {t0.type}")
        tables = None
        if t0.type == "INT8":
            for k, t in enumerate(ins):
                require_same_quantization(op, t, out, f"int8 input {k}")
        elif t0.type == "INT16":
            if any(t.zero_point != 0 for t in ins) or out.zero_point != 0:
                raise ModelError(f"{op.where()}: int16 concatenation needs zero points 0")
        elif t0.type == "UINT8":
            tables = [
                None if (t.zero_point == out.zero_point and np.float32(t.scale) == np.float32(out.scale))
                else _uint8_requant_table(t.scale, t.zero_point, out.scale, out.zero_point)
                for t in ins
            ]
            if all(tb is None for tb in tables):
                tables = None
        return ConcatenationParams(axis=axis, tables=tables)

    @staticmethod
    def eval(params, *xs):
        tables = params.tables
        if tables is not None:
            xs = [x if tb is None else tb[x] for x, tb in zip(xs, tables)]
        return np.concatenate(xs, axis=params.axis)
