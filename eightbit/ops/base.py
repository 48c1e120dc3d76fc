"""One entry of the op table: everything eightbit knows about a builtin, next to each other.

An `OpSpec` holds, for one builtin operator:
- `options`: its options table in the schema ("Conv2DOptions");
- `kernel`: "module.Class" of its kernel under eightbit/kernels (kernels/registry.py resolves it
  from an explicit list of imported modules and checks every entry resolves);
- `types`: the kernel types it runs, a subset of TYPES (what `eightbit ops` prints);
- its quantization constraints (TFLite's quantization_spec.md / operator_property.cc): weights,
  bias, fixed output parameters, same-scale tensors, and `ptq`, the activation types the
  quantizer may produce for it (default: the integer types the kernel runs);
- its version rules: `version(sig) -> int` restating GetBuiltinOperatorVersion (op_version.cc)
  for this op, `runtime`, version -> first TFLite runtime with it (runtime_version.cc; None where
  that table has no entry, so TF skips it), and `newest`, the newest version the schema defines
  (what LiteRT registers).

The quantizer's `quantizable` / `int16` and the kernel's types come from the same entry, so they
cannot disagree: `ptq` must be a subset of `types` (checked when the entry is built).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

TYPES = ("float32", "int8", "uint8", "int16", "hybrid")
ALL = ("float32", "int8", "uint8", "int16")  # the usual kernel types of a quantizable op


@dataclass(frozen=True)
class Sig:
    """What a version rule sees of one operator: its tensors (ir.Tensor or None), options and
    input count, with the predicates op_version.cc uses."""

    ins: tuple
    outs: tuple
    options: dict
    n_inputs: int
    inputs: tuple = ()  # raw input indices (-1 = omitted)
    version: int = 1  # the version the file gives it (rules of ops op_version.cc does not list keep it)

    @classmethod
    def of(cls, sg, op) -> Sig:
        ins = tuple(sg.tensors[t] if t >= 0 else None for t in op.inputs)
        outs = tuple(sg.tensors[t] if t >= 0 else None for t in op.outputs)
        return cls(ins, outs, op.options, len(op.inputs), tuple(op.inputs), op.version or 1)

    def type(self, i: int = 0) -> str:
        return self.ins[i].type if i < len(self.ins) and self.ins[i] is not None else "NOTYPE"

    def out_type(self, i: int = 0) -> str:
        return self.outs[i].type if i < len(self.outs) and self.outs[i] is not None else "NOTYPE"

    @property
    def t0(self) -> str:
        return self.type(0)

    @property
    def t1(self) -> str:
        return self.type(1)

    @property
    def o0(self) -> str:
        return self.out_type(0)

    def dims(self, i: int = 0) -> int:
        return len(self.ins[i].shape) if i < len(self.ins) and self.ins[i] is not None else 0

    def quantized(self, i: int = 0) -> bool:
        return i < len(self.ins) and self.ins[i] is not None and self.ins[i].quantized

    def per_channel(self, i: int, outputs: bool = False) -> bool:
        ts = self.outs if outputs else self.ins
        return i < len(ts) and ts[i] is not None and ts[i].quantized and ts[i].quantization.scale.size > 1

    @property
    def broadcast(self) -> bool:
        a, b = (self.ins + (None, None))[:2]
        return a is not None and b is not None and tuple(a.shape) != tuple(b.shape)

    @property
    def broadcast_above_4d(self) -> bool:
        return self.broadcast and max(self.dims(0), self.dims(1)) > 4


def always(v: int = 1) -> Callable[[Sig], int]:
    """Version rule: the op has one version (or the rule does not depend on the operator)."""
    return lambda sig: v


def keep(sig: Sig) -> int:
    """Version rule of ops op_version.cc does not list: the operator keeps its version."""
    return sig.version


def by_type(table: dict, default: int = 1, of: int = 0) -> Callable[[Sig], int]:
    """Version rule: the version follows input `of`'s type, e.g. {"INT16": 3, "INT8": 2}."""
    return lambda sig: table.get(sig.type(of), default)


@dataclass(frozen=True, eq=False)
class OpSpec:
    name: str  # builtin name, e.g. "CONV_2D"
    options: str | None = None  # options table, e.g. "Conv2DOptions"
    kernel: str = ""  # "module.Class" under eightbit/kernels, e.g. "conv.Conv2D"
    types: tuple = ()  # kernel types (subset of TYPES)
    version: Callable[[Sig], int] = field(default=always(1), compare=False)
    runtime: dict = field(default_factory=dict, compare=False)  # version -> "1.5.0" or None
    newest: int = 1  # newest version LiteRT 2.3.0's reference resolver registers (probed; the fuzzer uses it)
    # Quantization constraints (TFLite's spec, quantization_spec.md / operator_property.cc):
    weight_inputs: tuple = ()  # inputs holding weights: symmetric int8 in [-127, 127]
    weight_channel_axis: int | None = None  # per-channel axis of those weights, None = per tensor
    bias_input: int | None = None  # int32 bias at input_scale * weight_scale (int64 for int16x8)
    fixed_output: dict | None = None  # {"INT8": (scale, zp), "INT16": (scale, zp), "UINT8": ...}
    same_scale: bool = False  # output must share the (first) input's scale and zero point
    same_scale_inputs: tuple = ()  # other inputs that must share the output's params (e.g. CONCATENATION all)
    # Activation types full-integer PTQ may give it; None = the integer types the kernel runs.
    # Narrower than `types` only with a reason (TF's quantizer keeps NEG float; LiteRT's int16 SUM
    # is broken), which the entry says in a comment.
    ptq: tuple | None = None
    non_float_inputs: tuple = ()  # inputs that are indices/shapes (never quantized)
    # A weight input fed at run time is quantized as an activation (BATCH_MATMUL of two
    # activations), instead of keeping the op float.
    variable_weights_ok: bool = False
    doc: str = ""  # one paragraph: what it computes and what its quantized form requires

    def __post_init__(self):
        bad = set(self.types) - set(TYPES)
        if bad:
            raise ValueError(f"{self.name}: unknown kernel types {sorted(bad)}")
        if self.ptq is not None and not set(self.ptq) <= set(self.types) & {"int8", "int16"}:
            raise ValueError(f"{self.name}: ptq {self.ptq} must be int8/int16 types its kernel runs {self.types}")

    @property
    def ptq_types(self) -> tuple:
        if self.ptq is not None:
            return self.ptq
        return tuple(t for t in ("int8", "int16") if t in self.types)

    @property
    def quantizable(self) -> bool:
        """Full-integer PTQ may quantize it (an int8 kernel that TF's quantizer uses)."""
        return "int8" in self.ptq_types

    @property
    def int16(self) -> bool:
        """int16x8 PTQ may give it int16 activations."""
        return "int16" in self.ptq_types

    @property
    def hybrid(self) -> bool:
        """It has a dynamic-range kernel: int8 weights, float activations."""
        return "hybrid" in self.types

    @property
    def kernel_module(self) -> str:
        return self.kernel.partition(".")[0]

    @property
    def kernel_class(self) -> str:
        return self.kernel.partition(".")[2]

    def version_of(self, sig: Sig) -> int:
        """The version TF's converter gives this operator (GetBuiltinOperatorVersion)."""
        return max(int(self.version(sig)), 1)
