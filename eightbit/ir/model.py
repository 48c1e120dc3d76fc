"""The in-memory model: what every pass, kernel and writer works on.

It mirrors the .tflite structure (tensors referenced by index inside a subgraph,
buffers shared through Buffer objects) so reading and writing lose nothing, but
operator codes are resolved to names and options to plain dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eightbit.ir.types import numpy_dtype, type_of_dtype


@dataclass(eq=False)
class Buffer:
    """Constant bytes; tensors sharing one Buffer object share one .tflite buffer."""

    data: bytes = b""  # or a read-only memoryview on the file's bytes (eightbit.load)

    def __len__(self):
        return len(self.data)

    def __deepcopy__(self, memo):
        # The bytes are immutable (bytes, or a read-only view): a copied model shares them.
        return Buffer(self.data)

    def __reduce__(self):
        return Buffer, (bytes(self.data),)


@dataclass
class QuantParams:
    """real = (q - zero_point) * scale, per tensor or per `quantized_dimension`."""

    scale: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    zero_point: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quantized_dimension: int = 0
    min: np.ndarray | None = None
    max: np.ndarray | None = None
    details: dict | None = None  # CustomQuantization etc., kept as read

    def __post_init__(self):
        self.scale = np.asarray(self.scale, np.float32).reshape(-1)
        self.zero_point = np.asarray(self.zero_point, np.int64).reshape(-1)
        if self.min is not None:
            self.min = np.asarray(self.min, np.float32).reshape(-1)
        if self.max is not None:
            self.max = np.asarray(self.max, np.float32).reshape(-1)

    @property
    def is_quantized(self) -> bool:
        return self.scale.size > 0

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    def __eq__(self, other):
        if not isinstance(other, QuantParams):
            return NotImplemented
        return (
            np.array_equal(self.scale, other.scale)
            and np.array_equal(self.zero_point, other.zero_point)
            and self.quantized_dimension == other.quantized_dimension
        )


@dataclass(eq=False)
class Tensor:
    name: str
    shape: tuple
    type: str = "FLOAT32"  # TFLite TensorType name
    buffer: Buffer | None = None
    quantization: QuantParams | None = None
    shape_signature: tuple | None = None
    is_variable: bool = False
    sparsity: dict | None = None
    has_rank: bool = False
    extra: dict = field(default_factory=dict)  # schema fields we carry but do not interpret

    @property
    def dtype(self) -> np.dtype:
        return numpy_dtype(self.type)

    @property
    def is_constant(self) -> bool:
        return self.buffer is not None and len(self.buffer.data) > 0

    @property
    def quantized(self) -> bool:
        return self.quantization is not None and self.quantization.is_quantized

    @property
    def data(self) -> np.ndarray | None:
        """The constant value (dense, shaped), or None for activations and sparse tensors."""
        if not self.is_constant or self.sparsity is not None:
            return None
        raw = self.buffer.data
        count = int(np.prod(self.shape, dtype=np.int64))
        if self.type == "INT4":
            return _unpack_int4(raw, count).reshape(self.shape)
        if self.type in ("STRING", "RESOURCE", "VARIANT"):
            return None
        # A buffer may be larger than the shape needs (the verifier only rejects smaller ones).
        return np.frombuffer(raw, self.dtype, count).reshape(self.shape)

    @property
    def stored_values(self) -> np.ndarray | None:
        """The buffer's values as a flat array of the tensor's dtype, as stored (for a sparse
        tensor: its non-zero values in traversal order), or None without data."""
        if not self.is_constant or self.type in ("STRING", "RESOURCE", "VARIANT"):
            return None
        raw = self.buffer.data
        if self.type == "INT4":
            return _unpack_int4(raw, 2 * len(raw))
        size = self.dtype.itemsize
        return np.frombuffer(raw, self.dtype, len(raw) // size)

    def set_data(self, value: np.ndarray, keep_type: bool = False) -> None:
        """Give this tensor a new constant value (a new Buffer: others sharing the old keep it)."""
        value = np.ascontiguousarray(value)
        if not keep_type:
            self.type = type_of_dtype(value.dtype)
        else:
            value = value.astype(self.dtype)
        self.shape = tuple(int(d) for d in value.shape)
        self.buffer = Buffer(value.tobytes())
        if self.shape_signature is not None:
            self.shape_signature = self.shape


def _unpack_int4(raw: bytes, count: int) -> np.ndarray:
    b = np.frombuffer(raw, np.uint8)
    lo = (b & 0x0F).astype(np.int8)
    hi = (b >> 4).astype(np.int8)
    both = np.stack([lo, hi], axis=1).reshape(-1)[:count]
    return np.where(both > 7, both - 16, both).astype(np.int8)


@dataclass(eq=False)
class Operator:
    op_type: str  # builtin name ("CONV_2D") or "CUSTOM"
    inputs: list
    outputs: list
    options: dict = field(default_factory=dict)  # builtin options fields
    version: int = 1
    options_type: str | None = None  # options table name, e.g. "Conv2DOptions"
    custom_code: str | None = None
    custom_options: bytes | None = None
    intermediates: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # other schema fields (builtin_options2, ...)

    @property
    def name(self) -> str:
        return self.custom_code if self.op_type == "CUSTOM" and self.custom_code else self.op_type


@dataclass(eq=False)
class Subgraph:
    tensors: list
    operators: list
    inputs: list
    outputs: list
    name: str | None = None
    extra: dict = field(default_factory=dict)

    def add_tensor(self, tensor: Tensor) -> int:
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def producers(self) -> dict:
        """tensor index -> index of the operator writing it."""
        return {t: i for i, op in enumerate(self.operators) for t in op.outputs if t >= 0}

    def consumers(self) -> dict:
        """tensor index -> list of operator indices reading it."""
        out: dict = {}
        for i, op in enumerate(self.operators):
            for t in op.inputs:
                if t >= 0:
                    out.setdefault(t, []).append(i)
        return out


@dataclass(eq=False)
class Metadata:
    name: str
    buffer: Buffer


@dataclass(eq=False)
class Model:
    subgraphs: list
    buffers: list = field(default_factory=lambda: [Buffer()])  # [0] is TFLite's empty sentinel
    version: int = 3
    description: str | None = None
    metadata: list = field(default_factory=list)
    signature_defs: list = field(default_factory=list)  # dicts: signature_key, subgraph_index, inputs, outputs
    extra: dict = field(default_factory=dict)  # metadata_buffer and fields we only carry

    @property
    def main(self) -> Subgraph:
        return self.subgraphs[0]

    @property
    def min_runtime_version(self) -> str | None:
        for m in self.metadata:
            if m.name == "min_runtime_version":
                return m.buffer.data.split(b"\0", 1)[0].decode("ascii", "replace")
        return None

    def to_bytes(self) -> bytes:
        from eightbit.ir.serialize import model_to_bytes  # serialize imports this module

        return model_to_bytes(self)

    def save(self, path, overwrite: bool = True) -> None:
        from eightbit.ir.serialize import save_model

        save_model(self, path, overwrite=overwrite)

    def operator_summary(self) -> dict:
        """(op name, version) -> count over all subgraphs."""
        counts: dict = {}
        for sg in self.subgraphs:
            for op in sg.operators:
                key = (op.name, op.version)
                counts[key] = counts.get(key, 0) + 1
        return counts

    def __repr__(self):
        ops = sum(len(sg.operators) for sg in self.subgraphs)
        return f"Model({len(self.subgraphs)} subgraph(s), {ops} operators, {len(self.buffers)} buffers)"


def tensor_summary(t: Tensor) -> str:
    q = ""
    if t.quantized:
        qp = t.quantization
        q = f" q(scale={qp.scale[:3].tolist()}{'...' if qp.scale.size > 3 else ''}, zp={qp.zero_point[:3].tolist()})"
    return f"{t.name}: {t.type}{list(t.shape)}{q}"


