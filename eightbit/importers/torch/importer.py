"""import_torch: torch.export graph -> source-layout (NCHW) IR through the shared lowering rules."""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError, UnsupportedOpError
from eightbit.importers.common import ImportedGraph
from eightbit.importers.onnx.context import LoweringContext, OnnxNode, UnsupportedNode
from eightbit.importers.onnx.rules import find_rule
from eightbit.importers.torch import graph as G
from eightbit.importers.torch.rules import NO_FOLD, RULES, packet

OPSET = 18  # the ONNX rule vocabulary the ATen rules speak (axes as inputs, Clip bounds as inputs)


class Unsupported(Exception):
    def __init__(self, reason: str = ""):
        super().__init__(reason)
        self.reason = reason


class TorchLowering:
    """What an ATen rule sees: the FX node's values by name, and `onnx(...)` to lower through the
    shared rules. Values are named after FX nodes; constants live in `ctx.consts`."""

    def __init__(self, consts: dict):
        self.ctx = LoweringContext({"": OPSET}, {}, {}, [])
        self.ctx.consts.update(consts)
        for name, value in consts.items():
            self.ctx.shapes[name], self.ctx.dtypes[name] = tuple(value.shape), value.dtype
        self.alias: dict = {}  # getitem / identity node name -> value name
        self._k = 0

    # ---- values -----------------------------------------------------------------------
    def name(self, arg) -> str:
        """The value name of an FX node argument; a Python number or list becomes a constant."""
        import torch

        if isinstance(arg, torch.fx.Node):
            n = arg.name
            while n in self.alias:
                n = self.alias[n]
            return n
        return self.const(np.asarray(arg, np.float32 if isinstance(arg, float) else None), "c")

    def const(self, value, hint: str = "c") -> str:
        value = np.asarray(value)
        if value.dtype == np.float64:
            value = value.astype(np.float32)
        self._k += 1
        name = f"__{hint}_{self._k}"
        self.ctx.consts[name] = value
        self.ctx.shapes[name], self.ctx.dtypes[name] = tuple(value.shape), value.dtype
        return name

    def is_const(self, arg) -> bool:
        import torch

        return not isinstance(arg, torch.fx.Node) or self.name(arg) in self.ctx.consts

    def value(self, arg):
        """The constant value of an argument (numpy), or None when computed at run time."""
        import torch

        if not isinstance(arg, torch.fx.Node):
            return arg
        return self.ctx.consts.get(self.name(arg))

    def shape(self, arg) -> tuple:
        return tuple(self.ctx.value_shape(self.name(arg)))

    def declare(self, name: str, shape, dtype=np.float32) -> str:
        self.ctx.shapes[name], self.ctx.dtypes[name] = tuple(int(d) for d in shape), np.dtype(dtype)
        return name

    def temp(self, hint: str, shape, dtype=np.float32) -> str:
        self._k += 1
        return self.declare(f"{hint}__t{self._k}", shape, dtype)

    # ---- lowering through the shared rules -----------------------------------------------
    def onnx(self, op_type: str, inputs: list, outputs: list, **attrs) -> None:
        node = OnnxNode(op_type, "", outputs[0], [("" if i is None else i) for i in inputs], list(outputs), attrs)
        rule = find_rule(op_type, "")
        if rule is None:
            raise Unsupported(f"no lowering for {op_type}")
        try:
            rule.fn(self.ctx, node)
        except UnsupportedNode as e:
            raise Unsupported(e.reason) from None


def _concrete(d) -> int:
    """A dimension's value in the example inputs (a symbolic one's hint)."""
    if type(d).__name__ == "SymInt":
        return int(d.node.hint)
    return int(d)


def _declare_from_meta(low: TorchLowering, node) -> None:
    val = node.meta.get("val")
    if val is None:
        return
    vals = val if isinstance(val, (tuple, list)) else [val]
    for k, v in enumerate(vals):
        if v is None or not hasattr(v, "shape"):
            continue
        name = node.name if len(vals) == 1 and not isinstance(val, (tuple, list)) else f"{node.name}.{k}"
        low.declare(name, tuple(_concrete(d) for d in v.shape), G.numpy_dtype(v.dtype))


def _fold(low: TorchLowering, node) -> bool:
    """Run a node whose tensor inputs are all constants in torch itself."""
    import torch

    if packet(node.target) in NO_FOLD:
        return False
    tensors, ok = [], True

    def to_value(a):
        nonlocal ok
        if isinstance(a, torch.fx.Node):
            v = low.value(a)
            if v is None:
                ok = False
                return None
            t = torch.from_numpy(np.array(v))
            tensors.append(t)
            return t
        return a

    args = torch.fx.node.map_aggregate(node.args, to_value)
    kwargs = torch.fx.node.map_aggregate(node.kwargs, to_value)
    if not ok:
        return False
    try:
        result = node.target(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the rule decides (and says why) instead
        return False
    results = result if isinstance(result, (tuple, list)) else [result]
    if not all(isinstance(r, torch.Tensor) for r in results):
        return False
    if len(results) == 1 and not isinstance(result, (tuple, list)):
        low.ctx.consts[node.name] = G.to_numpy(result)
        low.declare(node.name, tuple(result.shape), low.ctx.consts[node.name].dtype)
    else:
        for k, r in enumerate(results):
            low.ctx.consts[f"{node.name}.{k}"] = G.to_numpy(r)
            low.declare(f"{node.name}.{k}", tuple(r.shape), low.ctx.consts[f"{node.name}.{k}"].dtype)
    return True


def _lower_node(low: TorchLowering, node, failed: list) -> None:
    import operator

    if node.target is operator.getitem:
        src, k = node.args
        low.alias[node.name] = f"{low.name(src)}.{k}"
        return
    _declare_from_meta(low, node)
    if _fold(low, node):
        return
    key = packet(node.target)
    if _is_symbolic(node):
        return  # arithmetic on symbolic sizes (a dynamic batch): only shapes use it, as -1
    rule = RULES.get(key)
    try:
        if rule is None:
            raise Unsupported("")
        rule(low, node)
    except Unsupported as e:
        failed.append((key, G.module_path(node), e.reason))
        _placeholder(low, node)
    except (ModelError, KeyError, ValueError, IndexError, TypeError) as e:
        if not failed:
            raise ModelError(f"node {node.name} ({key}, in {G.module_path(node)}): {type(e).__name__}: {e}") from e
        _placeholder(low, node)


def _is_symbolic(node) -> bool:
    val = node.meta.get("val")
    return val is not None and not hasattr(val, "shape") and type(val).__name__.startswith("Sym")


def _placeholder(low: TorchLowering, node) -> None:
    for name in [node.name] + [f"{node.name}.{k}" for k in range(4)]:
        if name in low.ctx.shapes and name not in low.ctx.values and name not in low.ctx.consts:
            low.ctx.values[name] = low.ctx.temp(low.ctx.shapes[name], low.ctx.dtypes[name], name)


def _unsupported(failed: list) -> UnsupportedOpError:
    groups: dict = {}
    for key, where, reason in failed:
        groups.setdefault((key, reason), []).append(where)
    items = []
    for (key, reason), wheres in groups.items():
        uses = list(dict.fromkeys(wheres))
        where = ", ".join(uses[:3]) + (", ..." if len(uses) > 3 else "")
        items.append((key, 1, len(wheres), (f"{reason}; " if reason else "") + f"used in {where}"))
    return UnsupportedOpError(items)


def import_torch(module, example_inputs, dynamic_shapes=None) -> ImportedGraph:
    """Lower `module` (exported with torch.export on `example_inputs`) to an NCHW IR model."""
    ep = G.export(module, example_inputs, dynamic_shapes)
    low = TorchLowering(G.constants(ep))
    user_in = G.user_inputs(ep)
    inputs, dynamic = [], {}
    for node in ep.graph.nodes:
        if node.op == "placeholder" and node.name in user_in:
            val = node.meta["val"]
            shape = tuple(_concrete(d) for d in val.shape)
            idx = low.ctx.builder.tensor(low.ctx.unique(node.name), shape, G.numpy_dtype(val.dtype))
            sig = tuple(-1 if not _is_int(d) else int(d) for d in val.shape)
            if sig != shape:
                dynamic[idx] = sig
            low.ctx.values[node.name] = idx
            low.declare(node.name, shape, G.numpy_dtype(val.dtype))
            inputs.append(idx)
    failed: list = []
    for node in ep.graph.nodes:
        if node.op == "call_function":
            _lower_node(low, node, failed)
    if failed:
        raise _unsupported(failed)
    outputs = _outputs(low, ep)
    low.ctx.builder.inputs(*inputs).outputs(*outputs)
    model = low.ctx.builder.build()
    for idx, sig in dynamic.items():
        model.main.tensors[idx].shape_signature = sig
    _mark_dynamic_outputs(model, dynamic)
    _free_batch_in_reshapes(model, dynamic)
    from eightbit.passes.graph import prune

    prune(model)
    model.description = f"imported from PyTorch ({type(module).__name__}) with torch.export"
    quantized = any(t.quantized for t in model.main.tensors)
    return ImportedGraph(model, layout="NCHW", notes=low.ctx.notes, quantized=quantized)


def _is_int(d) -> bool:
    """A static dimension (a symbolic one, torch.export's dynamic dimension, is a SymInt)."""
    return isinstance(d, int) and type(d).__name__ != "SymInt"


def _outputs(low: TorchLowering, ep) -> list:
    out_node = next(n for n in ep.graph.nodes if n.op == "output")
    names = set(G.user_outputs(ep))
    flat = [a for a in _flatten(out_node.args[0]) if getattr(a, "name", None) in names]
    result = []
    for k, a in enumerate(flat):
        name = low.name(a)
        if name in low.ctx.consts:
            low.ctx.values.setdefault(name, low.ctx.value_tensor(name))
        idx = low.ctx.values.get(name)
        if idx is None:
            raise ModelError(f"output {k} ({a.name}) was not produced")
        if idx in result or idx in low.ctx.builder.sg.inputs:
            copy = low.ctx.temp(low.ctx.ir(idx).shape, low.ctx.ir(idx).dtype, f"output_{k}")
            low.ctx.emit("RESHAPE", [idx, low.ctx.add_const(np.array(low.ctx.ir(idx).shape, np.int32), "shape")],
                         [copy], {"new_shape": list(low.ctx.ir(idx).shape)})
            idx = copy
        result.append(idx)
    return result


def _flatten(x):
    if isinstance(x, (tuple, list)):
        for y in x:
            yield from _flatten(y)
    else:
        yield x


def _free_batch_in_reshapes(model, dynamic: dict) -> None:
    """With a dynamic batch, a RESHAPE that keeps the batch first gets -1 there instead of the
    example's batch size, so the model runs at any batch after resize_tensor_input."""
    batches = {model.main.tensors[i].shape[0] for i, sig in dynamic.items() if sig and sig[0] == -1}
    if len(batches) != 1:
        return
    (b,) = batches
    sg = model.main
    for op in sg.operators:
        if op.op_type != "RESHAPE" or len(op.inputs) < 2 or op.inputs[1] < 0:
            continue
        src, target = sg.tensors[op.inputs[0]], sg.tensors[op.inputs[1]]
        shape = target.data
        if shape is None or shape.size == 0 or int(shape[0]) != b or not src.shape or src.shape[0] != b \
                or -1 in shape.tolist():
            continue
        free = shape.copy()
        free[0] = -1
        target.set_data(free.astype(shape.dtype))
        if "new_shape" in op.options:
            op.options["new_shape"] = [int(v) for v in free]


def _mark_dynamic_outputs(model, dynamic: dict) -> None:
    """A dynamic batch on the inputs is a dynamic batch on the outputs (shape_signature -1)."""
    if not dynamic or not any(sig[0] == -1 for sig in dynamic.values()):
        return
    for idx in model.main.outputs:
        t = model.main.tensors[idx]
        if t.shape:
            t.shape_signature = (-1,) + tuple(t.shape[1:])
