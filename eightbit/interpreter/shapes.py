"""Shape inference after resize_tensor_input: every tensor's shape from the inputs' shapes, the
options and the constant inputs, operator by operator, without running the graph.

`infer_shapes(runner)` returns the new shape list, or None when some operator has no rule here
(or a rule's inputs are not known in advance, e.g. a RESHAPE whose shape tensor is computed):
the runner then works the shapes out by running the graph on neutral inputs, as before. The
rules mirror the kernels' own (TFLite's Prepare functions); tests/unit/test_shape_inference.py
checks them against that graph run on the conformance models.
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.padding import compute_padding_height_width

_SAME_SHAPE = {
    "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LEAKY_RELU", "ELU", "HARD_SWISH", "LOGISTIC",
    "TANH", "SOFTMAX", "LOG_SOFTMAX", "GELU", "L2_NORMALIZATION", "ABS", "SQRT", "RSQRT", "LOG", "EXP", "NEG",
    "QUANTIZE", "DEQUANTIZE", "CAST", "ZEROS_LIKE", "FLOOR", "CEIL", "ROUND", "SIN", "COS", "SQUARE",
    "LOCAL_RESPONSE_NORMALIZATION",
}
_BROADCAST = {
    "ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "LESS", "LESS_EQUAL", "GREATER",
    "GREATER_EQUAL", "EQUAL", "NOT_EQUAL", "POW", "FLOOR_DIV", "FLOOR_MOD", "PRELU",
}
_REDUCE = {"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY", "REDUCE_ALL"}


class _Unknown(Exception):
    """No rule for this operator (or its inputs): fall back to running the graph."""


def _window(opt, x, kh, kw, oc):
    if len(x) != 4:
        raise _Unknown
    g = compute_padding_height_width(int(opt.get("stride_h", 1) or 1), int(opt.get("stride_w", 1) or 1),
                                     int(opt.get("dilation_h_factor", 1) or 1),
                                     int(opt.get("dilation_w_factor", 1) or 1), x[1], x[2], kh, kw,
                                     int(opt.get("padding", 0)))
    return (x[0], max(g.out_height, 0), max(g.out_width, 0), oc)


def _reduce(opt, x, axes):
    if axes is None:
        raise _Unknown
    rank = len(x)
    picked = {int(a) % rank for a in np.asarray(axes).reshape(-1)} if rank else set()
    if opt.get("keep_dims", False):
        return tuple(1 if i in picked else d for i, d in enumerate(x))
    return tuple(d for i, d in enumerate(x) if i not in picked)


def _reshape(op, shapes, const, x):
    from eightbit.kernels.reshape import reshape_output_shape

    if len(op.inputs) > 1 and op.inputs[1] >= 0 and len(shapes[op.inputs[1]]) == 1:
        requested = const(op.inputs[1])
        if requested is None:
            raise _Unknown  # a shape computed at run time
    else:
        requested = [int(d) for d in op.options.get("new_shape") or []]
        if requested == [0]:
            requested = []
    size = int(np.prod(x, dtype=np.int64))
    try:
        return reshape_output_shape(size, x, [int(d) for d in np.asarray(requested).reshape(-1)])
    except Exception as e:  # the kernel raises its own error at prepare or invoke
        raise _Unknown from e


def _output_shape(op, shapes, const):
    t = op.op_type
    ins = [shapes[i] if i >= 0 else None for i in op.inputs]
    x = ins[0] if ins else None
    opt = op.options or {}
    if t in _SAME_SHAPE:
        return x
    if t in _BROADCAST:
        return tuple(np.broadcast_shapes(ins[0], ins[1]))
    if t == "CONV_2D":
        return _window(opt, x, ins[1][1], ins[1][2], ins[1][0])
    if t == "DEPTHWISE_CONV_2D":
        return _window(opt, x, ins[1][1], ins[1][2], ins[1][3])
    if t in ("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"):
        o = {"stride_h": opt.get("stride_h", 1), "stride_w": opt.get("stride_w", 1), "padding": opt.get("padding", 0)}
        return _window(o, x, int(opt.get("filter_height", 1)), int(opt.get("filter_width", 1)), x[3] if x else 0)
    if t == "FULLY_CONNECTED":
        units, depth = ins[1]
        if opt.get("keep_num_dims", False):
            return (*x[:-1], units)
        size = int(np.prod(x, dtype=np.int64))
        return (size // depth if depth else int(np.prod(x[:-1], dtype=np.int64)), units)
    if t in _REDUCE:
        return _reduce(opt, x, const(op.inputs[1]))
    if t == "RESHAPE":
        return _reshape(op, shapes, const, x)
    if t == "CONCATENATION":
        axis = int(opt.get("axis", 0)) % len(x)
        return tuple(sum(s[axis] for s in ins) if i == axis else d for i, d in enumerate(x))
    if t in ("PAD", "PADV2"):
        pads = const(op.inputs[1])
        if pads is None:
            raise _Unknown
        pads = np.asarray(pads).reshape(len(x), 2)
        return tuple(int(d + a + b) for d, (a, b) in zip(x, pads))
    raise _Unknown


def infer_shapes(runner) -> list | None:
    """The shapes of every tensor of runner's subgraph for its current input shapes, or None."""
    sg = runner.sg
    shapes = list(runner.shapes)

    def const(i):
        return runner.constants.get(i) if i >= 0 else None

    for op in sg.operators:
        if len(op.outputs) != 1:
            return None
        try:
            out = _output_shape(op, shapes, const)
        except (_Unknown, ValueError, IndexError, TypeError, ZeroDivisionError):
            return None
        if out is None:
            return None
        shapes[op.outputs[0]] = tuple(int(d) for d in out)
    return shapes


def apply_inferred_shapes(runner) -> bool:
    """Set runner.shapes by inference (dropping held input values of a stale shape, as the graph
    run does); False, changing nothing, when the shapes cannot be inferred."""
    shapes = infer_shapes(runner)
    if shapes is None:
        return False
    runner.shapes = shapes
    runner.values = {i: v for i, v in runner.values.items()
                     if (i in runner.sg.inputs or runner.sg.tensors[i].is_variable) and v.shape == shapes[i]}
    return True
