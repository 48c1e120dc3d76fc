"""STRIDED_SLICE (TFLite kernels/strided_slice.cc, strided_slice_logic.h, reference StridedSlice).

How TFLite reads the spec, in order:
1. Expand ellipsis_mask and new_axis_mask into an "effective" input of rank input_rank +
   (new axes outside the ellipsis): a new axis is a size-1 dimension sliced [0, 1); an ellipsis
   covers the dimensions the spec leaves unnamed with full ranges; axes past the spec are full.
2. Per axis (StridedSliceStartForAxis / StridedSliceEndForAxis): negative begin/end + size;
   clamp to [0, size] (stride > 0) or [-1, size - 1] (stride < 0); the begin/end masks then take
   the whole axis in the stride's direction; offset=True makes end relative to begin; a shrunk
   axis takes the single element at begin.
3. Walk begin, begin + stride, ... while short of end (numpy's arange), drop shrunk axes.

offset=True (end is a size relative to begin): TFLite sizes the output from the raw end values
(ceil(end / stride)) but its kernel walks the clamped, masked range, and it indexes end by the
effective axis. Models where the two disagree get garbage or a crash from TFLite, so we accept
offset only with one spec entry per input dimension and no ellipsis / new axis, and raise when
the walked range does not have the size TFLite allocates.

Rank: LiteRT 2.3.0 sets no limit (measured: 8-D and 12-D inputs, 10 effective axes after new
axes), and neither do we.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import (
    ANY_TYPE,
    as_ints,
    fail,
    index_operand,
    require_same_type,
    require_type,
)


def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else lo if v < lo else v


def effective_spec(options: dict, input_shape, begin, end, strides):
    """TFLite's BuildStridedSliceParams: per effective axis (dim, begin, end, stride, begin_mask,
    end_mask, shrink), after expanding the ellipsis and the new axes."""
    begin_mask = int(options.get("begin_mask", 0))
    end_mask = int(options.get("end_mask", 0))
    ellipsis_mask = int(options.get("ellipsis_mask", 0))
    new_axis_mask = int(options.get("new_axis_mask", 0))
    shrink_mask = int(options.get("shrink_axis_mask", 0))
    count = len(begin)
    rank = len(input_shape)
    # New axes that are not also the ellipsis add dimensions.
    num_add = sum(1 for i in range(count) if not (ellipsis_mask >> i) & 1 and (new_axis_mask >> i) & 1)
    eff_rank = rank + num_add
    eff_ellipsis, eff_new_axis = 0, 0
    ellipsis_start, expanded = eff_rank, 0
    i = 0
    while i < eff_rank:
        if (ellipsis_mask >> i) & 1:
            ellipsis_start = i
            stop = max(i + 1, min(i + 1 + num_add + rank - count, eff_rank))
            expanded = stop - ellipsis_start - 1
            while i < stop:
                eff_ellipsis |= 1 << i
                i += 1
            continue
        if (new_axis_mask >> (i - expanded)) & 1:
            eff_new_axis |= 1 << i
        i += 1
    axes = []
    added_ellipsis, added_axes = 0, 0
    for i in range(eff_rank):
        if (eff_ellipsis >> i) & 1:
            added_ellipsis = max(0, i - ellipsis_start)
            axes.append((input_shape[i - added_axes], 0, 0, 1, True, True, False))
        elif (eff_new_axis >> i) & 1:
            axes.append((1, 0, 1, 1, False, False, False))
            added_axes += 1
        elif i >= count + expanded:
            axes.append((input_shape[i - added_axes], 0, 0, 1, True, True, False))
        else:
            j = i - added_ellipsis
            axes.append((
                input_shape[i - added_axes], int(begin[j]), int(end[j]), int(strides[j]),
                bool((begin_mask >> j) & 1), bool((end_mask >> j) & 1), bool((shrink_mask >> j) & 1),
            ))
    return axes


def axis_range(dim: int, b: int, e: int, stride: int, bmask: bool, emask: bool, shrink: bool, offset: bool):
    """(start, stop) of one effective axis, as StridedSliceStartForAxis / StridedSliceEndForAxis."""
    start = b + dim if b < 0 else b
    start = _clamp(start, 0, dim) if stride > 0 else _clamp(start, -1, dim - 1)
    if bmask:
        start = 0 if stride > 0 else dim - 1
    if shrink:
        return start, (start if start >= dim else start + 1)
    stop = e + start if offset else e
    if stop < 0:
        stop += dim
    stop = _clamp(stop, 0, dim) if stride > 0 else _clamp(stop, -1, dim - 1)
    if emask:
        stop = dim if stride > 0 else -1
    return start, stop


@dataclass(frozen=True, eq=False)
class StridedSliceParams:
    """The masks and the offset flag, applied to the run-time begin / end / strides."""

    options: dict
    offset: bool


class StridedSlice(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        x = op.inputs[0]
        require_type(op, x, ANY_TYPE)
        require_same_type(op, x, op.outputs[0])
        if len(op.inputs) != 4:
            raise ModelError(f"{op.where()}: STRIDED_SLICE takes 4 inputs")
        for k, name in ((1, "begin"), (2, "end"), (3, "strides")):
            index_operand(op, k, ("INT32",), name)
            if len(op.inputs[k].shape) != 1:
                raise ModelError(f"{op.where()}: {name} must be 1-D")
        offset = bool(op.options.get("offset", False))
        if offset and (
            int(op.options.get("ellipsis_mask", 0)) or int(op.options.get("new_axis_mask", 0))
            or op.inputs[1].shape[0] != len(x.shape)
        ):
            raise op.unsupported("offset=True with an ellipsis, new axes or a partial spec (TFLite misindexes it)")
        return StridedSliceParams(options=dict(op.options), offset=offset)

    @staticmethod
    def eval(params, x, begin, end, strides):
        b, e, s = as_ints(begin), as_ints(end), as_ints(strides)
        if not b.size == e.size == s.size:
            raise fail("STRIDED_SLICE: begin, end and strides differ in length")
        axes = effective_spec(params.options, x.shape, b, e, s)
        xe = x.reshape([a[0] for a in axes])
        index, out_shape = [], []
        for dim, bb, ee, stride, bmask, emask, shrink in axes:
            if stride == 0:
                raise fail("STRIDED_SLICE: stride value has to be non-zero")
            start, stop = axis_range(dim, bb, ee, stride, bmask, emask, shrink, params.offset)
            idx = np.arange(start, stop, stride)
            if shrink:
                if idx.size != 1:  # TFLite allocates the element but writes nothing
                    raise fail(f"STRIDED_SLICE: shrink index {bb} (stride {stride}) out of range for dimension {dim}")
            else:
                if params.offset and idx.size != max(0, -(-ee // stride)):
                    raise fail(f"STRIDED_SLICE: offset size {ee} from {bb} does not fit dimension {dim}")
                out_shape.append(idx.size)
            index.append(idx)
        picked = xe[np.ix_(*index)] if index else xe
        return np.ascontiguousarray(picked).reshape(out_shape)
