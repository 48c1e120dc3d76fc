"""The Keras importer's graph builder: named tensors with known shapes, and one helper per builtin.

Lowering rules call these helpers instead of ModelBuilder directly so that every tensor gets a
unique, readable name (the Keras layer's name plus a suffix), every operator gets its options
table, and every intermediate shape is computed where the op is emitted. Shapes have the batch
dimension as 1 (a graph input's signature says -1); RESHAPE shapes keep -1 on the batch so the
converted model still resizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.ir.builder import ModelBuilder
from eightbit.kernels.registry import get_spec

ACT_CODE = {"RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
FUSES = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"})


@dataclass(frozen=True)
class T:
    """A tensor of the graph being built: its index and static shape (batch as 1)."""

    idx: int
    shape: tuple
    dtype: str = "float32"

    @property
    def rank(self) -> int:
        return len(self.shape)


class Emitter:
    def __init__(self):
        self.b = ModelBuilder()
        self._names: set = set()
        self.prefix = ""  # the layer being lowered (names its tensors)
        self.last_op = None
        self.notes: list = []

    # ---- tensors ------------------------------------------------------------------------------
    def name(self, suffix: str = "") -> str:
        base = self.prefix + (("/" + suffix) if suffix and self.prefix else suffix) or "t"
        name, k = base, 1
        while name in self._names:
            name = f"{base}_{k}"
            k += 1
        self._names.add(name)
        return name

    def tensor(self, shape, dtype="float32", name=None) -> T:
        shape = tuple(int(d) for d in shape)
        idx = self.b.tensor(self.name(name or "out"), shape, np.dtype(dtype))
        return T(idx, shape, np.dtype(dtype).name)

    def const(self, value, dtype="float32", name="const") -> T:
        value = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        idx = self.b.tensor(self.name(name), value.shape, value.dtype, data=value)
        return T(idx, tuple(value.shape), value.dtype.name)

    def ints(self, values, name="shape") -> T:
        return self.const(np.asarray(values, np.int32).reshape(-1), np.int32, name)

    # ---- operators ----------------------------------------------------------------------------
    def op(self, op_type, inputs, out_shape, options=None, dtype="float32", name=None):
        """Emit one builtin with one output of `out_shape` (a list of shapes gives several outputs)."""
        several = bool(out_shape) and isinstance(out_shape[0], (tuple, list))
        shapes = out_shape if several else [out_shape]
        outs = [self.tensor(s, dtype, name) for s in shapes]
        spec = get_spec(op_type)
        ins = [-1 if t is None else t.idx for t in inputs]
        self.last_op = self.b.op(op_type, ins, [o.idx for o in outs], options or {},
                                 options_type=spec.options if spec is not None else None)
        return outs if several else outs[0]

    def fuse(self, out: T, activation: str) -> bool:
        """Fuse RELU/RELU6/RELU_N1_TO_1 into the op that just produced `out`, when it can carry it."""
        op = self.last_op
        if activation not in ACT_CODE or op is None or op.outputs != [out.idx] or op.op_type not in FUSES:
            return False
        if op.options.get("fused_activation_function", 0):
            return False
        op.options["fused_activation_function"] = ACT_CODE[activation]
        return True

    # ---- one helper per builtin used often ------------------------------------------------------
    def unary(self, op_type, x: T, options=None) -> T:
        return self.op(op_type, [x], x.shape, options)

    def binary(self, op_type, a: T, b: T, options=None) -> T:
        return self.op(op_type, [a, b], broadcast_shape(a.shape, b.shape), options, dtype=a.dtype)

    def scalar_op(self, op_type, x: T, value, name="c") -> T:
        return self.binary(op_type, x, self.const(np.float32(value), name=name))

    def reshape(self, x: T, shape, keep_batch=True) -> T:
        """RESHAPE to `shape` (a full shape, batch included); the batch becomes -1 when it can."""
        shape = tuple(int(d) for d in shape)
        written = list(shape)
        if keep_batch and shape and -1 not in shape[1:]:
            written[0] = -1
        if -1 in shape:
            known = int(np.prod([d for d in shape if d != -1]))
            shape = tuple(int(np.prod(x.shape)) // known if d == -1 else d for d in shape)
        return self.op("RESHAPE", [x, self.ints(written)], shape, {"new_shape": written}, dtype=x.dtype)

    def transpose(self, x: T, perm) -> T:
        perm = [int(p) for p in perm]
        return self.op("TRANSPOSE", [x, self.ints(perm, "perm")], [x.shape[p] for p in perm], dtype=x.dtype)

    def reduce(self, op_type, x: T, axes, keepdims: bool) -> T:
        axes = sorted(a % x.rank for a in axes)
        shape = [1 if i in axes else d for i, d in enumerate(x.shape)] if keepdims else \
            [d for i, d in enumerate(x.shape) if i not in axes]
        return self.op(op_type, [x, self.ints(axes, "axes")], shape, {"keep_dims": bool(keepdims)})

    def concat(self, xs, axis: int) -> T:
        axis %= xs[0].rank
        shape = list(xs[0].shape)
        shape[axis] = sum(x.shape[axis] for x in xs)
        return self.op("CONCATENATION", xs, shape, {"axis": axis}, dtype=xs[0].dtype)

    def fully_connected(self, x: T, w, bias=None, keep_num_dims=None) -> T:
        """y = x @ w.T + bias over the last axis; w is [units, depth]."""
        w = np.asarray(w, np.float32)
        units = w.shape[0]
        b = self.const(np.zeros(units, np.float32) if bias is None else bias, name="bias")
        keep = x.rank > 2 if keep_num_dims is None else keep_num_dims
        shape = (*x.shape[:-1], units) if keep else (int(np.prod(x.shape[:-1])), units)
        return self.op("FULLY_CONNECTED", [x, self.const(w, name="kernel"), b], shape,
                       {"keep_num_dims": bool(keep)})

    def batch_matmul(self, a: T, b: T, adj_x=False, adj_y=False) -> T:
        m = a.shape[-1] if adj_x else a.shape[-2]
        n = b.shape[-2] if adj_y else b.shape[-1]
        batch = broadcast_shape(a.shape[:-2], b.shape[:-2])
        return self.op("BATCH_MATMUL", [a, b], (*batch, m, n), {"adj_x": adj_x, "adj_y": adj_y})

    def strided_slice(self, x: T, begin, end, strides=None, shrink_axis_mask=0) -> T:
        """Slice [begin, end) per axis; None in begin/end means the whole axis on that side."""
        strides = strides or [1] * x.rank
        begin_mask = sum(1 << i for i, b in enumerate(begin) if b is None)
        end_mask = sum(1 << i for i, e in enumerate(end) if e is None)
        b = [0 if v is None else int(v) for v in begin]
        e = [0 if v is None else int(v) for v in end]
        shape = []
        for i, d in enumerate(x.shape):
            if shrink_axis_mask & (1 << i):
                continue
            lo = 0 if begin[i] is None else (b[i] % d if b[i] < 0 else min(b[i], d))
            hi = d if end[i] is None else (e[i] % d if e[i] < 0 else min(e[i], d))
            shape.append(max(0, -(-(hi - lo) // strides[i])))
        return self.op("STRIDED_SLICE", [x, self.ints(b, "begin"), self.ints(e, "end"), self.ints(strides, "strides")],
                       shape, {"begin_mask": begin_mask, "end_mask": end_mask, "shrink_axis_mask": shrink_axis_mask},
                       dtype=x.dtype)


def to_numpy(v, dtype=np.float32) -> np.ndarray:
    """A Keras variable, backend tensor (torch, jax, tf) or array-like as a numpy array."""
    if hasattr(v, "detach"):  # torch tensors (and a Keras torch variable's value) may require grad
        v = v.detach().cpu()
    if hasattr(v, "numpy"):
        v = v.numpy()
    return np.asarray(v, dtype)


def broadcast_shape(a, b) -> tuple:
    return tuple(int(d) for d in np.broadcast_shapes(tuple(a), tuple(b)))
