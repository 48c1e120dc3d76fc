"""RESHAPE (TFLite kernels/reshape.cc): a view with a new shape; any dtype, no arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.kernels.base import OpContext
from eightbit.kernels.movement import Move, as_ints, fail


def reshape_output_shape(num_input: int, input_shape, requested) -> tuple:
    """TFLite's ResizeOutput: one -1 takes what is left (zero-sized dims handled as TFLite does)."""
    shape = [int(d) for d in requested]
    stretch = [i for i, d in enumerate(shape) if d == -1]
    if len(stretch) > 1:
        raise fail(f"RESHAPE: more than one -1 in {shape}")
    if stretch:
        nonzero_in = int(np.prod([d for d in input_shape if d != 0], dtype=np.int64))
        rest = [d for i, d in enumerate(shape) if i != stretch[0]]
        num_out = int(np.prod(rest, dtype=np.int64))
        nonzero_out = int(np.prod([d for d in rest if d != 0], dtype=np.int64))
        if num_input == 0 and num_out != 0:
            shape[stretch[0]] = 0
        else:  # products of non-zero dims are never 0
            shape[stretch[0]] = abs(nonzero_in) // abs(nonzero_out) * (1 if nonzero_out > 0 else -1)
    if any(d < 0 for d in shape) or int(np.prod(shape, dtype=np.int64)) != num_input:
        raise fail(f"RESHAPE: cannot reshape {num_input} elements ({tuple(input_shape)}) to {tuple(requested)}")
    return tuple(shape)


@dataclass(frozen=True, eq=False)
class ReshapeParams:
    """Shape from input 1 (a 1-D int32 tensor) or from the new_shape option."""

    use_input: bool
    opt_shape: tuple


class Reshape(Move):
    @staticmethod
    def check(op: OpContext):
        # The shape input wins when it is a 1-D int32 tensor (it may be computed at run time);
        # otherwise ReshapeOptions.new_shape, where the legacy [0] means a scalar.
        shape_in = op.inputs[1] if len(op.inputs) > 1 else None
        use_input = shape_in is not None and len(shape_in.shape) == 1 and shape_in.type == "INT32"
        opt = op.options.get("new_shape")
        opt = [int(d) for d in opt] if opt is not None else []
        if len(opt) == 1 and opt[0] == 0:
            opt = []
        return ReshapeParams(use_input=use_input, opt_shape=tuple(opt))

    @staticmethod
    def eval(params, x, shape=None):
        requested = as_ints(shape) if params.use_input else params.opt_shape
        return np.reshape(x, reshape_output_shape(x.size, x.shape, requested))
