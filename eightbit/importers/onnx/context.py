"""What a lowering rule sees: the ONNX node, its inputs' constants and shapes, and the builder.

See eightbit/importers/onnx/rules/__init__.py for how rules use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eightbit.errors import ModelError
from eightbit.ir.builder import ModelBuilder
from eightbit.ir.types import TYPE_OF_NUMPY
from eightbit.kernels.registry import get_spec

# Options tables of builtins our interpreter has no kernel for yet (emitted all the same).
EXTRA_OPTIONS = {
    "MIRROR_PAD": "MirrorPadOptions", "POW": None, "GATHER_ND": None, "SIGN": None, "FLOOR": None,
    "REDUCE_PROD": "ReducerOptions", "LOGICAL_NOT": None, "LOGICAL_AND": None, "LOGICAL_OR": None,
    "SQUARE": None, "CEIL": None, "ROUND": None, "SIN": None, "COS": None, "FLOOR_DIV": "FloorDivOptions",
    "FLOOR_MOD": None, "ONE_HOT": "OneHotOptions", "RANGE": None, "CUMSUM": "CumsumOptions",
}

_REQUIRED = object()
# Float constants stored as float32: TFLite's kernels run float32 (a float16 model is imported as float32).
WIDENED = (np.dtype(np.float64), np.dtype(np.float16))


class UnsupportedNode(Exception):
    """Raised by a rule for a node it cannot lower; the importer collects them all."""

    def __init__(self, node, reason: str):
        super().__init__(reason)
        self.node = node
        self.reason = reason


@dataclass
class OnnxNode:
    op_type: str
    domain: str
    name: str
    inputs: list  # value names; "" for an omitted optional input
    outputs: list
    attrs: dict = field(default_factory=dict)  # attribute name -> Python value (numpy for tensors)
    proto: object = None  # the onnx NodeProto

    @property
    def label(self) -> str:
        return self.name or f"{self.op_type}->{self.outputs[0] if self.outputs else '?'}"


class LoweringContext:
    def __init__(self, opsets: dict, shapes: dict, dtypes: dict, nodes: list, builder: ModelBuilder | None = None):
        self.opsets = dict(opsets)
        self.opset = int(self.opsets.get("", 0))
        self.builder = builder or ModelBuilder()
        self.shapes = dict(shapes)  # value name -> static shape tuple (from shape inference)
        self.dtypes = dict(dtypes)  # value name -> numpy dtype
        self.values: dict = {}  # value name -> IR tensor index
        self.consts: dict = {}  # value name -> numpy constant
        self.notes: list = []
        self._names: set = set()
        self._producers = {o: n for n in nodes for o in n.outputs if o}
        self._consumers: dict = {}
        for n in nodes:
            for i in n.inputs:
                if i:
                    self._consumers.setdefault(i, []).append(n)
        self.infer_fallback = None  # set by the importer: node -> {output name: (shape, dtype)}

    # ---- reading the node -----------------------------------------------------------
    def attr(self, node: OnnxNode, name: str, default=_REQUIRED):
        if name in node.attrs:
            return node.attrs[name]
        if default is _REQUIRED:
            raise self.unsupported(node, f"missing required attribute {name!r}")
        return default

    def has_input(self, node: OnnxNode, i: int) -> bool:
        return i < len(node.inputs) and node.inputs[i] != ""

    def const(self, node: OnnxNode, i: int):
        """The constant value of input i, or None when it is computed at run time or absent."""
        if not self.has_input(node, i):
            return None
        return self.consts.get(node.inputs[i])

    def plain_const(self, node: OnnxNode, i: int) -> bool:
        """Input i is an initializer as stored (not computed, not a dequantized weight): a rule
        that uses it unchanged takes `ctx.tensor(node, i)` and shares its memory."""
        return (self.has_input(node, i) and node.inputs[i] in self.consts and self.producer(node.inputs[i]) is None
                and self.consts[node.inputs[i]].dtype == np.float32)

    def release(self, node: OnnxNode, i: int) -> None:
        """Forget input i's constant when this node is its only reader (a rule that made its own,
        transformed copy frees the original's memory)."""
        name = node.inputs[i] if self.has_input(node, i) else None
        if name in self.consts and len(self._consumers.get(name, ())) == 1 and self.producer(name) is None:
            del self.consts[name]

    def require_const(self, node: OnnxNode, i: int, what: str = "") -> np.ndarray:
        value = self.const(node, i)
        if value is None:
            raise self.unsupported(node, f"input {i}{' (' + what + ')' if what else ''} must be a constant")
        return value

    def shape(self, node: OnnxNode, i: int) -> tuple:
        return self.value_shape(node.inputs[i])

    def dtype(self, node: OnnxNode, i: int) -> np.dtype:
        name = node.inputs[i]
        if name in self.consts:
            return self.consts[name].dtype
        if name in self.values:
            return self.builder.sg.tensors[self.values[name]].dtype
        return np.dtype(self.dtypes.get(name, np.float32))

    def value_shape(self, name: str) -> tuple:
        if name in self.consts:
            return tuple(self.consts[name].shape)
        if name in self.values:
            return tuple(self.builder.sg.tensors[self.values[name]].shape)
        shape = self.shapes.get(name)
        if shape is None:
            raise ModelError(f"ONNX value {name!r} has no static shape")
        return shape

    def rank(self, node: OnnxNode, i: int) -> int:
        return len(self.shape(node, i))

    def producer(self, name: str):
        return self._producers.get(name)

    def consumers(self, name: str) -> list:
        return list(self._consumers.get(name, ()))

    # ---- tensors -----------------------------------------------------------------------
    def tensor(self, node: OnnxNode, i: int) -> int:
        """The IR tensor index of input i (-1 when omitted); constants are materialized once."""
        if not self.has_input(node, i):
            return -1
        return self.value_tensor(node.inputs[i])

    def value_tensor(self, name: str) -> int:
        if name in self.values:
            return self.values[name]
        if name in self.consts:
            value = self.consts[name]
            if value.dtype in WIDENED:
                value = value.astype(np.float32)
            idx = self.builder.const(self.unique(name), value)
            self.values[name] = idx
            if value.dtype == self.consts[name].dtype and value.dtype != object:
                # one copy of the data: the constant becomes a read-only view of the IR buffer
                t = self.builder.sg.tensors[idx]
                self.consts[name] = np.frombuffer(t.buffer.data, value.dtype).reshape(value.shape)
            return idx
        raise ModelError(f"ONNX value {name!r} is used before it is produced")

    def output(self, node: OnnxNode, j: int = 0, shape=None, dtype=None) -> int:
        """Create the IR tensor for output j (named after the ONNX value)."""
        name = node.outputs[j]
        if shape is None or dtype is None:
            known_shape, known_dtype = self._inferred(node, name)
            shape = known_shape if shape is None else shape
            dtype = known_dtype if dtype is None else dtype
        if np.dtype(dtype) not in TYPE_OF_NUMPY:
            raise self.unsupported(node, f"{np.dtype(dtype)} tensors (TFLite has no such type)")
        idx = self.builder.tensor(self.unique(name), tuple(int(d) for d in shape), np.dtype(dtype))
        self.values[name] = idx
        return idx

    def _inferred(self, node: OnnxNode, name: str):
        shape, dtype = self.shapes.get(name), self.dtypes.get(name)
        if (shape is None or dtype is None) and self.infer_fallback is not None:
            found = self.infer_fallback(node).get(name)
            if found is not None:
                shape = found[0] if shape is None else shape
                dtype = found[1] if dtype is None else dtype
        if shape is None:
            runtime = [f"{k} ({i!r})" for k, i in enumerate(node.inputs) if k > 0 and i and i not in self.consts]
            if runtime:
                raise self.unsupported(node, f"input {', '.join(runtime)} is computed at run time and sets the "
                                             "output shape (must be constant)")
            raise ModelError(
                f"node {node.label} ({node.op_type}): output {name!r} has no static shape; "
                "pass input_shapes={...} with every input's full shape")
        if dtype is None:
            dtype = np.float32
        return tuple(shape), np.dtype(dtype)

    def fold(self, node: OnnxNode, j: int, value) -> None:
        """Output j is the constant `value`: nothing is emitted."""
        value = np.asarray(value)
        name = node.outputs[j]
        self.consts[name] = value
        self.shapes[name] = tuple(value.shape)
        self.dtypes[name] = value.dtype

    def alias(self, node: OnnxNode, j: int, tensor: int) -> None:
        """Output j is the existing IR tensor `tensor` (Identity, Dropout)."""
        self.values[node.outputs[j]] = tensor

    def temp(self, shape, dtype=np.float32, hint: str = "tmp") -> int:
        return self.builder.tensor(self.unique(hint), tuple(int(d) for d in shape), np.dtype(dtype))

    def add_const(self, value, hint: str = "const", dtype=None) -> int:
        value = np.asarray(value, dtype=dtype)
        if value.dtype in WIDENED:
            value = value.astype(np.float32)
        return self.builder.const(self.unique(hint), value)

    def ir(self, idx: int):
        """The IR Tensor at index idx."""
        return self.builder.sg.tensors[idx]

    def unique(self, name: str) -> str:
        base, k = name or "t", 1
        while name in self._names or not name:
            name, k = f"{base}_{k}", k + 1
        self._names.add(name)
        return name

    # ---- operators ---------------------------------------------------------------------
    def emit(self, op_type: str, inputs, outputs, options=None, layout: str | None = None, options_type=None):
        if options_type is None:
            spec = get_spec(op_type)
            options_type = spec.options if spec is not None else EXTRA_OPTIONS.get(op_type)
        op = self.builder.op(op_type, inputs, outputs, options or {}, options_type=options_type)
        if layout is not None:
            op.extra["layout"] = layout
        return op

    def unsupported(self, node: OnnxNode, reason: str) -> UnsupportedNode:
        return UnsupportedNode(node, reason)

    def note(self, text: str) -> None:
        self.notes.append(text)
