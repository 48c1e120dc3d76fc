"""Model surgery: find, read, change, rename, remove and insert, then save re-verified.

    ed = eightbit.debug.Editor("model_int8.tflite")
    conv = ed.op("CONV_2D", 0)                      # the first CONV_2D (or ed.ops(...) for all)
    w = ed.tensor("*conv1*weights*")                # a unique fnmatch pattern, or the exact name
    w.values()                                      # real values (dequantized when quantized)
    w.set_quantization(scale=[...], zero_point=0, axis=0, requantize=True)
    ed.rename(w, "conv1/w")
    ed.remove_op(ed.op("RESHAPE", 0))               # its consumers read its input instead
    ed.insert_op("RELU", after=conv)                # between conv's output and its consumers
    ed.save("edited.tflite")                        # re-read by our verifier; refuses to overwrite

Everything works on the IR (`eightbit.ir`), and the model is written only at `save`, so a model
can be edited in several steps and checked (`ed.check()`, TFLite's quantization spec) between them.
"""

from __future__ import annotations

import copy
import fnmatch

import numpy as np

from eightbit.debug.spec import check_spec
from eightbit.errors import ModelError
from eightbit.ir import Model, Operator, QuantParams, Tensor, load
from eightbit.passes.graph import add_tensor, copy_model, replace_uses, unique_name


class TensorRef:
    """One tensor of the edited subgraph, by index."""

    def __init__(self, editor: Editor, index: int):
        self.editor, self.index = editor, index

    @property
    def tensor(self) -> Tensor:
        return self.editor.sg.tensors[self.index]

    @property
    def name(self) -> str:
        return self.tensor.name

    def __repr__(self):
        t = self.tensor
        return f"TensorRef({self.index}, {t.name!r}, {t.type}{list(t.shape)})"

    def values(self) -> np.ndarray:
        """The constant's real values: dequantized (per channel aware) when quantized."""
        t = self.tensor
        if t.data is None:
            raise ModelError(f"tensor {t.name!r} is not a constant: it has no stored values")
        if not t.quantized or t.dtype.kind not in "iu":
            return np.array(t.data)
        q = t.quantization
        shape = [1] * t.data.ndim
        if q.scale.size > 1:
            shape[q.quantized_dimension] = -1
        scale = q.scale.astype(np.float64).reshape(shape)
        zp = (q.zero_point if q.zero_point.size else np.zeros(1, np.int64)).reshape(shape)
        return ((t.data.astype(np.int64) - zp) * scale).astype(np.float32)

    def set_values(self, values) -> None:
        """Replace a constant. A quantized constant takes real values and stores them quantized
        with its current parameters (rounded half away from zero, clamped to its type)."""
        t = self.tensor
        values = np.asarray(values, np.float64)
        if tuple(values.shape) != tuple(t.shape):
            raise ValueError(f"tensor {t.name!r} has shape {list(t.shape)}, the new values {list(values.shape)}")
        if not t.quantized or t.dtype.kind not in "iu":
            t.set_data(values.astype(t.dtype), keep_type=True)
            return
        t.set_data(_quantize(values, t.quantization, t.dtype), keep_type=True)

    def set_quantization(self, scale, zero_point=0, axis: int = 0, requantize: bool = True) -> None:
        """New scale(s) and zero point(s); a quantized constant's values are requantized so it
        keeps (as nearly as the new grid allows) the real values it had, unless requantize=False."""
        t = self.tensor
        scale = np.atleast_1d(np.asarray(scale, np.float32))
        zp = np.broadcast_to(np.atleast_1d(np.asarray(zero_point, np.int64)), scale.shape).copy()
        if np.any(scale <= 0) or not np.all(np.isfinite(scale)):
            raise ValueError(f"tensor {t.name!r}: scales must be positive and finite")
        if scale.size > 1 and not (0 <= axis < len(t.shape) and t.shape[axis] == scale.size):
            raise ValueError(f"tensor {t.name!r}: {scale.size} scales do not fit dimension {axis} of {list(t.shape)}")
        real = self.values() if (requantize and t.data is not None and t.quantized) else None
        t.quantization = QuantParams(scale, zp, axis if scale.size > 1 else 0)
        if real is not None:
            self.set_values(real)


def _quantize(values: np.ndarray, q: QuantParams, dtype) -> np.ndarray:
    shape = [1] * values.ndim
    if q.scale.size > 1:
        shape[q.quantized_dimension] = -1
    scaled = values / q.scale.astype(np.float64).reshape(shape)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    info = np.iinfo(dtype)
    zp = (q.zero_point if q.zero_point.size else np.zeros(1, np.int64)).reshape(shape)
    return np.clip(rounded + zp, info.min, info.max).astype(dtype)


class Editor:
    """Edits one subgraph (the main one by default) of a copy of the model."""

    def __init__(self, model, subgraph: int = 0):
        source = model if isinstance(model, Model) else load(model)
        self.model = copy_model(source)
        if not 0 <= subgraph < len(self.model.subgraphs):
            raise ModelError(f"subgraph {subgraph} out of range 0..{len(self.model.subgraphs) - 1}")
        self.sg = self.model.subgraphs[subgraph]

    # ---- finding -------------------------------------------------------------------------
    def tensors(self, pattern: str = "*") -> list[TensorRef]:
        """Every tensor whose name matches the fnmatch pattern (an exact name matches itself)."""
        return [TensorRef(self, i) for i, t in enumerate(self.sg.tensors)
                if t.name == pattern or fnmatch.fnmatchcase(t.name, pattern)]

    def tensor(self, name_or_pattern) -> TensorRef:
        """The one tensor with this name, or the one matching this pattern (an error otherwise)."""
        if isinstance(name_or_pattern, TensorRef):
            return name_or_pattern
        if isinstance(name_or_pattern, int):
            if not 0 <= name_or_pattern < len(self.sg.tensors):
                raise ModelError(f"tensor index {name_or_pattern} out of range 0..{len(self.sg.tensors) - 1}")
            return TensorRef(self, name_or_pattern)
        exact = [i for i, t in enumerate(self.sg.tensors) if t.name == name_or_pattern]
        if len(exact) == 1:
            return TensorRef(self, exact[0])
        found = self.tensors(name_or_pattern)
        if len(found) != 1:
            names = ", ".join(repr(r.name) for r in found[:5]) + (" ..." if len(found) > 5 else "")
            raise ModelError(f"{len(found)} tensors match {name_or_pattern!r}" + (f": {names}" if found else ""))
        return found[0]

    def ops(self, op_type: str | None = None, output: str | None = None) -> list[Operator]:
        """Operators of a type (e.g. "CONV_2D"), and/or writing a tensor matching `output`."""
        out = []
        for op in self.sg.operators:
            if op_type is not None and op.name != op_type.upper():
                continue
            if output is not None and not any(
                    i >= 0 and fnmatch.fnmatchcase(self.sg.tensors[i].name, output) for i in op.outputs):
                continue
            out.append(op)
        return out

    def op(self, op_type: str | None = None, nth: int = 0, output: str | None = None) -> Operator:
        found = self.ops(op_type, output)
        if not -len(found) <= nth < len(found):
            raise ModelError(f"no operator #{nth} of type {op_type or 'any'}"
                             + (f" writing {output!r}" if output else "") + f" ({len(found)} found)")
        return found[nth]

    def index_of(self, op: Operator) -> int:
        for k, o in enumerate(self.sg.operators):
            if o is op:
                return k
        raise ModelError("that operator is not in the edited subgraph")

    # ---- changing the graph --------------------------------------------------------------
    def rename(self, tensor, new_name: str) -> None:
        ref = self.tensor(tensor)
        if any(t.name == new_name for i, t in enumerate(self.sg.tensors) if i != ref.index):
            raise ModelError(f"a tensor named {new_name!r} exists already")
        old = ref.tensor.name
        ref.tensor.name = new_name
        for sd in self.model.signature_defs:
            for io in (*sd.get("inputs", ()), *sd.get("outputs", ())):
                if io.get("tensor_index") == ref.index and io.get("name") == old:
                    io["name"] = new_name

    def remove_op(self, op: Operator, keep_input: int = 0) -> None:
        """Remove an operator; whatever read its output reads its input `keep_input` instead
        (graph outputs too). Shapes and types must agree, or the graph would be wrong."""
        k = self.index_of(op)
        if len(op.outputs) != 1:
            raise ModelError(f"op {k} {op.name} has {len(op.outputs)} outputs: remove_op rewires one")
        src, dst = op.inputs[keep_input], op.outputs[0]
        a, b = self.sg.tensors[src], self.sg.tensors[dst]
        if a.type != b.type or tuple(a.shape) != tuple(b.shape):
            raise ModelError(f"op {k} {op.name}: input {keep_input} is {a.type}{list(a.shape)} but its output is "
                             f"{b.type}{list(b.shape)}; removing it would change what its consumers read")
        del self.sg.operators[k]
        self._rewire(dst, src)

    def insert_op(self, op_type: str, after: Operator | None = None, tensor=None, inputs=(), options=None,
                  options_type: str | None = None, output_like=None) -> Operator:
        """Insert `op_type` reading a tensor (the output of `after`, or `tensor`) plus extra
        `inputs`; its new output takes the old tensor's place for every consumer and graph output."""
        if (after is None) == (tensor is None):
            raise ValueError("give exactly one of after= (an operator) or tensor= (a tensor)")
        src = after.outputs[0] if after is not None else self.tensor(tensor).index
        like = self.sg.tensors[self.tensor(output_like).index if output_like is not None else src]
        quant = copy.deepcopy(like.quantization)
        out = add_tensor(self.sg, unique_name(self.sg, f"{self.sg.tensors[src].name}/{op_type.lower()}"),
                         like.shape, like.type, quantization=quant, like=like)
        self._rewire(src, out)
        extra = [self.tensor(i).index for i in inputs]
        new = Operator(op_type=op_type.upper(), inputs=[src, *extra], outputs=[out], options=dict(options or {}),
                       options_type=options_type)
        pos = self.index_of(after) + 1 if after is not None else self._first_reader(out)
        self.sg.operators.insert(pos, new)
        return new

    def _rewire(self, old: int, new: int) -> None:
        """Every reader of `old` (operators, graph outputs, this subgraph's signature outputs) reads `new`."""
        replace_uses(self.sg, old, new)
        sg_index = self.model.subgraphs.index(self.sg)
        for sd in self.model.signature_defs:
            if sd.get("subgraph_index", 0) == sg_index:
                for io in sd.get("outputs", ()):
                    if io.get("tensor_index") == old:
                        io["tensor_index"] = new

    def _first_reader(self, t: int) -> int:
        for k, op in enumerate(self.sg.operators):
            if t in op.inputs:
                return k
        return len(self.sg.operators)

    # ---- checking and saving -------------------------------------------------------------
    def check(self) -> list:
        """TFLite quantization-spec violations of the edited model (eightbit.debug.spec)."""
        return check_spec(self.model)

    def to_bytes(self) -> bytes:
        data = self.model.to_bytes()
        load(data)  # our verifier re-reads what we wrote: a broken edit fails here, not on a device
        return data

    def save(self, path, overwrite: bool = False) -> list:
        """Write the edited model (atomically; an existing file only with overwrite=True) after
        re-verifying it; returns its quantization-spec violations (empty when it conforms)."""
        self.to_bytes()
        self.model.save(path, overwrite=overwrite)
        return self.check()
