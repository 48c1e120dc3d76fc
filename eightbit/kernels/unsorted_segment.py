"""UNSORTED_SEGMENT_SUM, _PROD, _MAX, _MIN (TFLite kernels/unsorted_segment.cc): combine the
slices of data whose segment id (int32, shaped like data's leading dimensions) is the same;
num_segments (int32 scalar) fixes the output's first dimension. Segments nothing maps to hold
the reduction's identity (0, 1, the type's lowest, the type's highest); MAX / MIN skip NaN
(TFLite's std::max / std::min keep the running value when a comparison with NaN fails). Types:
float32, int32.
A segment id outside [0, num_segments) is a run-time error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, require_arity, require_type

SEGMENT_TYPES = ("FLOAT32", "INT32")


@dataclass(frozen=True)
class SegmentParams:
    dtype: np.dtype


def _identity(ufunc, dtype):
    if ufunc is np.add:
        return 0
    if ufunc is np.multiply:
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.min if ufunc is np.fmax else info.max


class _UnsortedSegment(Kernel):
    name = ""
    ufunc = np.add

    @classmethod
    def prepare(cls, op: OpContext) -> SegmentParams:
        require_arity(op, 3, f"{cls.name} takes data, segment ids and num_segments")
        data, ids, num = op.inputs
        require_type(op, data, SEGMENT_TYPES, "data")
        require_type(op, ids, ("INT32",), "segment ids")
        require_type(op, num, ("INT32",), "num_segments")
        if op.outputs[0].type != data.type:
            raise ModelError(f"{op.where()}: output is {op.outputs[0].type} but data is {data.type}")
        return SegmentParams(np.dtype(op.outputs[0].dtype))

    @classmethod
    def eval(cls, p: SegmentParams, data, ids, num_segments):
        n = int(as_ints(num_segments)[0])
        if ids.shape != data.shape[:ids.ndim]:
            raise fail(f"{cls.name}: segment ids of shape {ids.shape} do not match data of shape {data.shape}")
        flat_ids = ids.reshape(-1).astype(np.int64)
        if flat_ids.size and (flat_ids.min() < 0 or flat_ids.max() >= n):
            raise fail(f"{cls.name}: segment ids must be in [0, {n}), got {flat_ids.min()}..{flat_ids.max()}")
        rows = data.reshape((flat_ids.size,) + data.shape[ids.ndim:])
        out = np.full((n,) + rows.shape[1:], _identity(cls.ufunc, p.dtype), p.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            cls.ufunc.at(out, flat_ids, rows)
        return out


class UnsortedSegmentSum(_UnsortedSegment):
    name, ufunc = "UNSORTED_SEGMENT_SUM", np.add


class UnsortedSegmentProd(_UnsortedSegment):
    name, ufunc = "UNSORTED_SEGMENT_PROD", np.multiply


class UnsortedSegmentMax(_UnsortedSegment):
    name, ufunc = "UNSORTED_SEGMENT_MAX", np.fmax


class UnsortedSegmentMin(_UnsortedSegment):
    name, ufunc = "UNSORTED_SEGMENT_MIN", np.fmin
