"""MIRROR_PAD (TFLite kernels/mirror_pad.cc): pad each dimension with a mirror image of the input.

MirrorPadOptions.mode 0 REFLECT (the edge value is not repeated: offset 1) or 1 SYMMETRIC (it
is: offset 0). Paddings: [rank, 2] int32 or int64, constant or computed. Values are copied, never
rescaled: the quantizer gives the output the input's scale and zero point (operator_property.cc:
restrict_same_input_output_scale). LiteRT 2.3.0 runs float32, float16, int8, uint8, int16, int32,
int64 and bool.

Each padding must be in [0, size - offset] (LiteRT 2.3.0 checks the upper bound, so a REFLECT
of an empty dimension fails even without padding); the error names the dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, index_operand, require_same_type, require_type

MIRROR_PAD_TYPES = ("FLOAT32", "FLOAT16", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL")
REFLECT, SYMMETRIC = 0, 1


@dataclass(frozen=True)
class MirrorPadParams:
    offset: int  # 1 REFLECT, 0 SYMMETRIC


def source_indices(size: int, before: int, after: int, offset: int) -> np.ndarray:
    """For one dimension, the input index each output position copies (GetInputDimension)."""
    pos = np.arange(before + size + after, dtype=np.int64) - before
    left = -pos - 1 + offset  # mirror of the positions before the input
    right = 2 * size - pos - 1 - offset  # mirror of the positions after it
    return np.where(pos < 0, left, np.where(pos >= size, right, pos))


class MirrorPad(Kernel):

    @staticmethod
    def prepare(op: OpContext) -> MirrorPadParams:
        if len(op.inputs) != 2 or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: MIRROR_PAD takes 2 inputs and gives 1 output")
        x, out = op.inputs[0], op.outputs[0]
        require_type(op, x, MIRROR_PAD_TYPES)
        require_same_type(op, x, out)
        index_operand(op, 1, ("INT32", "INT64"), "paddings")
        if tuple(op.inputs[1].shape) != (len(x.shape), 2):
            raise ModelError(f"{op.where()}: paddings have shape {tuple(op.inputs[1].shape)}, need "
                             f"({len(x.shape)}, 2)")
        mode = int(op.options.get("mode", REFLECT))
        if mode not in (REFLECT, SYMMETRIC):
            raise ModelError(f"{op.where()}: unknown MirrorPadOptions.mode {mode} (0 REFLECT, 1 SYMMETRIC)")
        return MirrorPadParams(offset=1 if mode == REFLECT else 0)

    @staticmethod
    def eval(params: MirrorPadParams, x, paddings):
        pads = as_ints(paddings).reshape(x.ndim, 2)
        index = []
        for axis, (size, (before, after)) in enumerate(zip(x.shape, pads.tolist())):
            reach = size - params.offset
            if min(before, after) < 0 or max(before, after) > reach:
                raise fail(f"MIRROR_PAD: paddings ({before}, {after}) of dimension {axis} (size {size}) "
                           f"must be in [0, {reach}]")
            index.append(source_indices(size, before, after, params.offset))
        return x[np.ix_(*index)] if x.ndim else x.copy()
