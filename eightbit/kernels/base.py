"""What every kernel sees and must provide.

A kernel is a class with two static methods:
  prepare(op: OpContext) -> params   # all float math on scales happens here, once
  eval(params, *inputs) -> array or tuple of arrays (one per output)
and `types`, the subset of TYPES it runs (for `eightbit ops`). `eval` receives one numpy
array per operator input (None where the input is optional and left out), with the
runtime shapes, and must return arrays of the output tensors' dtypes. Quantized paths
are integer-only. A kernel that cannot run a type raises UnsupportedTypeError in prepare.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eightbit.errors import ModelError
from eightbit.ops.base import TYPES  # noqa: F401 - re-exported: the kernel types of the op table


class UnsupportedTypeError(ModelError):
    """This kernel has no implementation for the operator's tensor types."""


@dataclass
class TensorInfo:
    """A tensor as a kernel's prepare sees it (shape as allocated, constant data if any)."""

    name: str
    type: str  # TFLite type name: "FLOAT32", "INT8", ...
    dtype: np.dtype
    shape: tuple
    scales: np.ndarray | None = None  # float32 array (size 1 = per tensor); None = not quantized
    zero_points: np.ndarray | None = None  # int64 array
    quantized_dimension: int = 0
    data: np.ndarray | None = None  # constant value, dense
    index: int = -1
    # A sparse constant (Tensor.sparsity set, e.g. DENSIFY's input) has data None and instead:
    # `sparsity`, the SparsityParameters dict exactly as read (traversal_order, block_map,
    # dim_metadata: [{format 0 DENSE / 1 SPARSE_CSR, dense_size, array_segments_type,
    # array_segments: {"values": ...}, array_indices_type, array_indices}], where Int32Vector and
    # Uint16Vector values are lists and Uint8Vector values are bytes), and `sparse_values`, the
    # stored (non-zero) values as a 1-D array of the tensor's dtype. eval receives sparse_values
    # for such an input.
    sparsity: dict | None = None
    sparse_values: np.ndarray | None = None

    @property
    def quantized(self) -> bool:
        return self.scales is not None and self.scales.size > 0

    @property
    def scale(self) -> float:
        """Per-tensor scale as a Python float (float32 value widened, as TFLite's double)."""
        return float(self.scales[0]) if self.quantized else 0.0

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0]) if self.quantized and self.zero_points.size else 0


@dataclass
class OpContext:
    op_type: str
    version: int
    options: dict
    inputs: list  # TensorInfo or None per operator input
    outputs: list  # TensorInfo per output
    index: int = -1  # operator index in its subgraph
    custom_options: bytes | None = None
    extra: dict = field(default_factory=dict)
    intermediates: list = field(default_factory=list)  # TensorInfo per operator intermediate (LSTM's scales)

    def where(self) -> str:
        return f"operator {self.index} ({self.op_type} v{self.version})"

    def unsupported(self, why: str):
        return UnsupportedTypeError(f"{self.where()}: {why}")


class Kernel:
    types: tuple = ()

    @staticmethod
    def prepare(op: OpContext):
        raise UnsupportedTypeError(f"{op.op_type} has no kernel")

    @staticmethod
    def eval(params, *inputs):
        raise NotImplementedError


class Unary(Kernel):
    """One input, one output of the same type and shape, elementwise (TFLite's GenericPrepare).

    `check(op, allowed)` is the shared prepare check; the fuzzer and the generic tests treat every
    subclass as an elementwise op of one input."""

    @staticmethod
    def check(op: OpContext, allowed: tuple) -> tuple:
        x, out = op.inputs[0], op.outputs[0]
        if x.type not in allowed:
            raise op.unsupported(f"{op.op_type} runs {', '.join(allowed)}, not {x.type}")
        if out.type != x.type:
            raise op.unsupported(f"{op.op_type} output type {out.type} differs from input type {x.type}")
        return x, out

    @staticmethod
    def check_quantized(op: OpContext) -> tuple:
        """Quantized int8 / int16 input and output of one type (int16: zero points 0, as TFLite's
        elementwise kernels require)."""
        x, out = Unary.check(op, ("INT8", "INT16"))
        if not (x.quantized and out.quantized):
            raise op.unsupported(f"{op.op_type} {x.type} needs quantized input and output")
        if x.type == "INT16" and (x.zero_point != 0 or out.zero_point != 0):
            raise op.unsupported(f"{op.op_type} int16 needs zero points 0")
        return x, out


class FloatUnary(Unary):
    """A float32-only elementwise op: subclasses give `float_eval(x) -> float32 array`."""

    @classmethod
    def prepare(cls, op: OpContext):
        cls.check(op, ("FLOAT32",))

    @classmethod
    def eval(cls, params, x):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return np.asarray(cls.float_eval(x), np.float32)

    @staticmethod
    def float_eval(x):
        raise NotImplementedError
