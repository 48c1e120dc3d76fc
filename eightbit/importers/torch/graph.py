"""torch.export -> the pieces the lowering needs: constants, inputs, outputs, nodes with shapes."""

from __future__ import annotations

import warnings

import numpy as np

from eightbit.errors import ModelError

TORCH_TO_NUMPY = {
    "torch.float32": np.float32, "torch.float16": np.float16, "torch.float64": np.float32,
    "torch.int64": np.int64, "torch.int32": np.int32, "torch.int16": np.int16, "torch.int8": np.int8,
    "torch.uint8": np.uint8, "torch.bool": np.bool_,
}


def numpy_dtype(torch_dtype) -> np.dtype:
    try:
        return np.dtype(TORCH_TO_NUMPY[str(torch_dtype)])
    except KeyError:
        raise ModelError(f"tensors of type {torch_dtype} have no TFLite type") from None


def to_numpy(t) -> np.ndarray:
    t = t.detach().cpu()
    if str(t.dtype) == "torch.float64":
        t = t.float()
    if str(t.dtype) == "torch.bfloat16":
        t = t.float()
    return t.numpy().copy()


def export(module, example_inputs, dynamic_shapes=None):
    """torch.export in eval semantics, decomposed to core ATen."""
    import torch

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(example_inputs, tuple):
        example_inputs = (example_inputs,) if isinstance(example_inputs, torch.Tensor) else tuple(example_inputs)
    was_training = module.training
    if was_training:
        warnings.warn("the module is in train mode: it is converted in eval semantics (module.eval()); "
                      "BatchNorm uses its running statistics and Dropout is removed", stacklevel=3)
    module.eval()
    try:
        ep = torch.export.export(module, example_inputs, dynamic_shapes=dynamic_shapes)
    except Exception as e:  # torch's own message, plus what to do
        name = type(e).__name__
        hint = ""
        if "data-dependent" in str(e).lower() or "guard" in str(e).lower() or "Dynamic control flow" in str(e):
            hint = (" — the forward pass branches on tensor values (data-dependent control flow), which "
                    "torch.export cannot capture: rewrite the branch with torch.where / torch.cond, or move it "
                    "out of forward()")
        raise ModelError(f"torch.export failed: {name}: {str(e).splitlines()[0] if str(e) else ''}{hint}") from e
    finally:
        if was_training:
            module.train()
    return ep.run_decompositions(_decompositions())


# Ops TFLite has a builtin for stay whole (the default table would break them into several).
_KEEP = ("hardswish", "hardsigmoid")


def _decompositions() -> dict:
    import torch

    table = torch.export.default_decompositions()
    for name in _KEEP:
        table.pop(getattr(torch.ops.aten, name).default, None)
    return table


def constants(ep) -> dict:
    """placeholder name -> numpy value, for parameters, buffers and lifted constants."""
    sig = ep.graph_signature
    out = {}
    for name, target in {**sig.inputs_to_parameters, **sig.inputs_to_buffers}.items():
        out[name] = to_numpy(ep.state_dict[target])
    for name, target in getattr(sig, "inputs_to_lifted_tensor_constants", {}).items():
        out[name] = to_numpy(ep.constants[target])
    return out


def user_inputs(ep) -> list:
    return list(ep.graph_signature.user_inputs)


def user_outputs(ep) -> list:
    return list(ep.graph_signature.user_outputs)


def meta_shape(node) -> tuple | None:
    val = node.meta.get("val")
    if val is None or not hasattr(val, "shape"):
        return None
    return tuple(int(d) if _is_static(d) else -1 for d in val.shape)


def meta_dtype(node):
    val = node.meta.get("val")
    return numpy_dtype(val.dtype) if val is not None and hasattr(val, "dtype") else np.dtype(np.float32)


def _is_static(d) -> bool:
    try:
        int(d)
        return True
    except (TypeError, ValueError):
        return False


def module_path(node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return "(top level)"
    path, cls = list(stack.values())[-1]
    return f"{path or '(root)'} ({cls.rsplit('.', 1)[-1] if isinstance(cls, str) else getattr(cls, '__name__', cls)})"
