"""The exported ATen graph `prepare` rewrites: torch.export of the float model, and what each call
is for TFLite (fused activation, fixed-range output, same-range movement, average)."""

from __future__ import annotations

import math
import operator
import warnings

import torch
from torch import fx

# Calls whose output TFLite keeps on its input's grid (same scale and zero point).
SAME_RANGE = frozenset({
    "max_pool1d", "max_pool2d", "max_pool2d_with_indices", "adaptive_max_pool1d", "adaptive_max_pool2d", "flatten",
    "view", "reshape", "_unsafe_view", "squeeze", "unsqueeze", "transpose", "permute", "contiguous", "clone",
    "dropout", "split", "split_with_sizes", "chunk", "unbind", "getitem", "slice", "select", "alias", "detach",
    "unflatten", "t", "expand", "_to_copy", "to",
})
AVERAGES = frozenset({"avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "mean"})
_FIXED = {"sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax", "_softmax": "softmax"}


def aten_name(node) -> str | None:
    """'conv2d' for a call of aten.conv2d.default, 'getitem' for operator.getitem, else None."""
    if node.op != "call_function":
        return None
    if node.target is operator.getitem:
        return "getitem"
    packet = getattr(node.target, "_overloadpacket", None)
    return getattr(packet, "__name__", None)


def module_path(node) -> str | None:
    """The qualified name of the innermost module whose forward made this call ('' = the model)."""
    stack = node.meta.get("nn_module_stack")
    if not stack:
        return None
    path = list(stack.values())[-1][0]
    return path if isinstance(path, str) else None


def sole_user(node):
    users = list(node.users)
    return users[0] if len(users) == 1 else None


def is_float_tensor(node) -> bool:
    meta = node.meta.get("tensor_meta")
    return meta is not None and hasattr(meta, "dtype") and meta.dtype.is_floating_point


def relu_kind(node) -> str | None:
    """'relu' / 'relu6' for the activations TFLite fuses into the producing op."""
    name = aten_name(node)
    if name in ("relu", "relu_"):
        return "relu"
    if name == "relu6":
        return "relu6"
    if name in ("hardtanh", "hardtanh_") and tuple(float(v) for v in node.args[1:3]) == (0.0, 6.0):
        return "relu6"
    return None


def fixed_kind(node) -> str | None:
    """'sigmoid' / 'tanh' / 'softmax': outputs whose parameters TFLite fixes."""
    return _FIXED.get(aten_name(node))


def averaged_count(src, node) -> int:
    """Input elements per output element of an average (from the propagated shapes)."""
    a, b = src.meta.get("tensor_meta"), node.meta.get("tensor_meta")
    if a is None or b is None:
        return 1
    n_in, n_out = math.prod(a.shape), math.prod(b.shape)
    return max(1, n_in // n_out) if n_out else 1


def average_rounding(node) -> str:
    """'centered' where TFLite computes MEAN (torch.mean, adaptive pooling to one element per
    channel), 'raw' where it computes AVERAGE_POOL_2D."""
    name = aten_name(node)
    if name == "mean":
        return "centered"
    if name in ("adaptive_avg_pool1d", "adaptive_avg_pool2d"):
        size = node.args[1]
        size = list(size) if isinstance(size, (list, tuple)) else [size]
        return "centered" if all(int(s) == 1 for s in size) else "raw"
    return "raw"


def _batch_of_two(x):
    """The example input repeated to batch 2: torch.export specializes a dimension of size 1."""
    if isinstance(x, torch.Tensor) and x.dim() >= 1 and x.shape[0] == 1:
        return torch.cat([x, x])
    return x


def export_module(model: torch.nn.Module, example_inputs: tuple) -> fx.GraphModule:
    """The model exported with torch.export (batch dimension dynamic) as an fx.GraphModule whose
    parameters are the model's own."""
    from torch.export import Dim

    inputs = tuple(_batch_of_two(x) for x in example_inputs)
    dims = tuple({0: Dim.AUTO} if isinstance(x, torch.Tensor) and x.dim() >= 1 else None for x in inputs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ep = torch.export.export(model, inputs, dynamic_shapes=dims)
    except Exception as e:  # noqa: BLE001 - export fails in many types; say what failed
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ValueError(f"prepare could not export the model with torch.export ({type(e).__name__}: {first})") from None
    exported = ep.module()
    # ExportedProgram.module() refuses train() / eval(): a plain GraphModule over the same graph,
    # submodules and parameters (the pytree in / out specs the generated forward reads go along)
    gm = fx.GraphModule(exported, exported.graph, class_name=type(model).__name__)
    for spec in ("_in_spec", "_out_spec"):
        if hasattr(exported, spec):
            setattr(gm, spec, getattr(exported, spec))
    gm.recompile()
    return gm
