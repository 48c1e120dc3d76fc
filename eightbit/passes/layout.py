"""Move a channel-first (NCHW) graph to TFLite's channel-last layout (docs/design/importers.md).

Every tensor gets a *placement*: the tensor that physically holds its data and a permutation
`perm` with physical axis i = source axis perm[i] (identity: as the source has it; (0,2,3,1):
NHWC). Operators are visited in order and each picks the placement of its outputs from those of
its inputs:

- layout-sensitive builtins marked `extra["layout"] == "NCHW"` need channel-last activations and
  produce channel-last outputs; their constant weights are transposed once;
- layout-agnostic builtins (elementwise, concat, reductions, pad, slices, gather, split, pack...)
  work in whatever placement their input has: their axis constants and options are remapped;
- a TRANSPOSE of the source is absorbed (its output is its input under another permutation);
- everything else (RESHAPE, FULLY_CONNECTED, BATCH_MATMUL, unknown ops) needs the source layout.

When an operator needs a tensor in a placement it does not have, one TRANSPOSE is inserted per
(tensor, placement) and reused; it is always taken from the tensor's own data, so pairs cancel by
construction. Constants are permuted, never transposed at run time (a QDQ weight, DEQUANTIZE of
an int8 constant, is permuted at the constant, its per-channel axis following); a move of size-1
axes only is a RESHAPE; a flatten read only by FULLY_CONNECTED reorders the weights' columns
instead of transposing the activation. The operator rules live in `layout_rules.py`.
"""

from __future__ import annotations

import numpy as np

from eightbit.ir import Model, QuantParams
from eightbit.ir.model import Operator, Tensor
from eightbit.passes.graph import add_constant, prune, sort_topologically, unique_name

# Builtins whose activations are channel-first when the importer marks them NCHW.
SENSITIVE = frozenset({
    "CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D",
    "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH",
})


def identity(rank: int) -> tuple:
    return tuple(range(rank))


def channels_last(rank: int) -> tuple:
    """NCHW -> NHWC for rank 4 (and N C L -> N L C, N C D H W -> N D H W C)."""
    return (0, *range(2, rank), 1) if rank >= 3 else identity(rank)


def inverse(perm) -> tuple:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def relative(have, want) -> tuple:
    """The transpose taking data placed by `have` to data placed by `want`."""
    pos = inverse(have)
    return tuple(pos[w] for w in want)


def same_memory(shape, have, want) -> bool:
    """True when both placements lay out the elements in the same order (only size-1 axes move)."""
    return [a for a in have if shape[a] != 1] == [a for a in want if shape[a] != 1]


def removing(perm, removed) -> tuple:
    """The placement of a tensor after source axes `removed` are dropped from one placed by perm."""
    kept = [a for a in perm if a not in removed]
    order = sorted(kept)
    return tuple(order.index(a) for a in kept)


def inserting(perm, axis: int) -> tuple[tuple, int]:
    """(placement, physical position) after a new source axis `axis` is inserted: the new axis goes
    right before the source axis that follows it (or after the one before it)."""
    rank = len(perm)
    pos = inverse(perm)
    p = pos[axis] if axis < rank else (pos[axis - 1] + 1 if rank else 0)
    moved = [a if a < axis else a + 1 for a in perm]
    return tuple(moved[:p] + [axis] + moved[p:]), p


class LayoutPass:
    """State of one to_nhwc run over a model's main subgraph."""

    def __init__(self, model: Model, io_layout: str):
        self.model = model
        self.sg = model.main
        self.io_layout = io_layout
        self.src = {i: tuple(int(d) for d in t.shape) for i, t in enumerate(self.sg.tensors)}
        self.src_sig = {i: t.shape_signature for i, t in enumerate(self.sg.tensors)}
        self.where: dict = {}  # source tensor -> (physical tensor, perm)
        self.cache: dict = {}  # (physical tensor, relative perm) -> tensor holding the moved data
        self.ops: list = []  # the rewritten operator list
        self.inserted = 0  # TRANSPOSE operators added
        self.uses = self._count_uses()
        self.readers: dict = {}  # source tensor -> operators of the source graph reading it
        for op in self.sg.operators:
            for t in op.inputs:
                if t >= 0:
                    self.readers.setdefault(t, []).append(op)
        self.producer: dict = {}  # physical tensor -> operator writing it (in self.ops)

    def _count_uses(self) -> dict:
        uses: dict = {}
        for op in self.sg.operators:
            for t in op.inputs:
                if t >= 0:
                    uses[t] = uses.get(t, 0) + 1
        for t in self.sg.outputs:
            uses[t] = uses.get(t, 0) + 1
        return uses

    # ---- placements ------------------------------------------------------------------------
    def rank(self, t: int) -> int:
        return len(self.src[t])

    def placed(self, t: int) -> tuple:
        """(physical tensor, perm) of source tensor t."""
        return self.where.get(t, (t, identity(self.rank(t))))

    def perm(self, t: int) -> tuple:
        return self.placed(t)[1]

    def is_const(self, t: int) -> bool:
        return t >= 0 and self.sg.tensors[t].is_constant

    def place(self, t: int, perm) -> None:
        """Record that output t is written in placement perm (its shape becomes physical)."""
        perm = tuple(perm)
        tensor = self.sg.tensors[t]
        tensor.shape = tuple(self.src[t][a] for a in perm)
        sig = self.src_sig.get(t)
        if sig is not None and len(sig) == len(perm):
            tensor.shape_signature = tuple(sig[a] for a in perm)
        self.where[t] = (t, perm)

    def get(self, t: int, want) -> int:
        """A tensor holding source tensor t's data in placement `want` (inserted once, reused)."""
        if t < 0:
            return t
        want = tuple(want)
        idx, have = self.placed(t)
        if have == want:
            return idx
        key = (idx, relative(have, want))  # by the data and the move: equal requests share one TRANSPOSE
        if key not in self.cache:
            if self.sg.tensors[idx].is_constant:
                self.cache[key] = self._permute_constant(t, idx, have, want)
            elif self._constant_chain(idx):
                self.cache[key] = self._permute_chain(t, idx, have, want)
            else:
                self.cache[key] = self._convert(t, idx, have, want)
        return self.cache[key]

    def _permute_constant(self, t: int, idx: int, have, want, copy: bool = False) -> int:
        rel = relative(have, want)
        tensor = self.sg.tensors[idx]
        data = np.transpose(tensor.data, rel)
        qp = _permuted_quant(tensor.quantization, rel)
        if not copy and idx == t and self.uses.get(t, 0) <= 1 and t not in self.sg.outputs:
            tensor.set_data(data, keep_type=True)  # its only reader asks: permute in place, keep its name
            tensor.quantization = qp
            self.where[t] = (t, want)
            return t
        new = add_constant(self.sg, tensor.name + "/" + _perm_tag(rel), data, quantization=qp)
        self.sg.tensors[new].type = tensor.type
        self.src[new] = tuple(data.shape)
        return new

    def _constant_chain(self, idx: int) -> bool:
        """A DEQUANTIZE / QUANTIZE / CAST of a constant (a QDQ weight): permute the constant instead."""
        op = self.producer.get(idx)
        return (op is not None and op.op_type in ("DEQUANTIZE", "QUANTIZE", "CAST") and len(op.inputs) == 1
                and self.is_const(op.inputs[0]))

    def _permute_chain(self, t: int, idx: int, have, want) -> int:
        op = self.producer[idx]
        src_in = op.inputs[0]
        rel = relative(have, want)
        in_idx, in_have = self.placed(src_in)
        out = self.sg.tensors[idx]
        qp = _permuted_quant(out.quantization, rel)
        if idx == t and self.uses.get(t, 0) <= 1 and t not in self.sg.outputs:
            # the chain has no other reader: permute its constant and output where they are
            op.inputs[0] = self._permute_constant(src_in, in_idx, in_have, tuple(in_have[r] for r in rel),
                                                  copy=self.uses.get(src_in, 0) > 1)
            self.place(t, want)
            out.quantization = qp
            return t
        new_in = self._permute_constant(src_in, in_idx, in_have, tuple(in_have[r] for r in rel), copy=True)
        new_out = self._new_activation(out, tuple(self.src[t][a] for a in want), out.name + "/" + _perm_tag(want), qp)
        self._emit(Operator(op.op_type, [new_in], [new_out], dict(op.options), op.version, op.options_type))
        return new_out

    def _new_activation(self, like: Tensor, shape, name, quantization) -> int:
        new = Tensor(name=unique_name(self.sg, name), shape=tuple(shape), type=like.type, quantization=quantization)
        idx = self.sg.add_tensor(new)
        self.src[idx] = tuple(shape)
        return idx

    def _convert(self, t: int, idx: int, have, want) -> int:
        """Insert the RESHAPE (only size-1 axes move) or TRANSPOSE from placement have to want."""
        rel = relative(have, want)
        tensor = self.sg.tensors[idx]
        shape = tuple(self.src[t][a] for a in want)
        new = self._new_activation(tensor, shape, f"{self.sg.tensors[t].name}/{_perm_tag(want)}",
                                   _permuted_quant(tensor.quantization, rel))
        if tensor.shape_signature is not None and len(tensor.shape_signature) == len(rel):
            self.sg.tensors[new].shape_signature = tuple(tensor.shape_signature[a] for a in rel)
        if same_memory(self.src[t], have, want):
            shape_c = self.const(f"{tensor.name}/shape", np.asarray(shape, np.int32))
            self._emit(Operator("RESHAPE", [idx, shape_c], [new], {"new_shape": list(shape)},
                                options_type="ReshapeOptions"))
        else:
            perm_c = self.const(f"{tensor.name}/perm", np.asarray(rel, np.int32))
            self._emit(Operator("TRANSPOSE", [idx, perm_c], [new], {}, options_type="TransposeOptions"))
            self.inserted += 1
        return new

    def const(self, name: str, value: np.ndarray) -> int:
        idx = add_constant(self.sg, name, np.asarray(value))
        self.src[idx] = tuple(np.shape(value))
        return idx

    def _emit(self, op: Operator) -> None:
        self.ops.append(op)
        for t in op.outputs:
            if t >= 0:
                self.producer[t] = op

    def emit(self, op: Operator, out_perms) -> None:
        """Append op (inputs already rewritten) with its outputs placed by out_perms."""
        op.extra.pop("layout", None)
        for t, perm in zip(op.outputs, out_perms):
            if t >= 0:
                self.place(t, perm)
        self._emit(op)

    def alias(self, out: int, src: int, perm) -> None:
        """out is src's data placed by perm (an absorbed TRANSPOSE)."""
        idx, _ = self.placed(src)
        self.where[out] = (idx, tuple(perm))

    # ---- the run ----------------------------------------------------------------------------
    def run(self) -> int:
        from eightbit.passes.layout_rules import channel_first_inputs, rewrite

        sort_topologically(self.sg)
        if self.io_layout == "NHWC":
            for t in channel_first_inputs(self.sg):
                self.place(t, channels_last(4))
        for op in list(self.sg.operators):
            rewrite(self, op)
        self._fix_outputs()
        self.sg.operators = self.ops
        prune(self.model)
        return self.inserted

    def _fix_outputs(self) -> None:
        sg = self.sg
        for k, t in enumerate(list(sg.outputs)):
            idx, have = self.placed(t)
            keep_nhwc = self.io_layout == "NHWC" and self.rank(t) == 4 and have == channels_last(4)
            new = idx if keep_nhwc else self.get(t, identity(self.rank(t)))
            if new == t:
                continue
            if new in sg.inputs or new in sg.outputs[:k]:  # the output is another edge: copy it
                new = self._copy(new)
            name = sg.tensors[t].name
            sg.tensors[t].name = unique_name(sg, name + "/source")
            sg.tensors[new].name = name
            sg.outputs[k] = new

    def _copy(self, idx: int) -> int:
        tensor = self.sg.tensors[idx]
        new = self._new_activation(tensor, tensor.shape, tensor.name + "/copy", tensor.quantization)
        shape_c = self.const(f"{tensor.name}/shape", np.asarray(tensor.shape, np.int32))
        self._emit(Operator("RESHAPE", [idx, shape_c], [new], {"new_shape": list(tensor.shape)},
                            options_type="ReshapeOptions"))
        return new


def _perm_tag(perm) -> str:
    perm = tuple(perm)
    if len(perm) > 2 and perm == channels_last(len(perm)):
        return "nhwc"
    if perm == identity(len(perm)):
        return "nchw" if len(perm) == 4 else "source"
    return "t" + "".join(map(str, perm))


def _permuted_quant(qp: QuantParams | None, rel) -> QuantParams | None:
    """Quantization of a tensor transposed by rel: the per-channel axis follows its dimension."""
    if qp is None:
        return None
    if not qp.per_channel:
        return qp
    new_dim = inverse(rel)[qp.quantized_dimension]
    return QuantParams(qp.scale.copy(), qp.zero_point.copy(), new_dim, qp.min, qp.max, qp.details)


def to_nhwc(model: Model, io_layout: str = "NHWC") -> int:
    """Rewrite a channel-first model (layout-sensitive ops marked extra["layout"] == "NCHW") in
    TFLite's NHWC layout, in place; returns how many TRANSPOSE operators were inserted.

    io_layout="NHWC": channel-first image inputs and outputs become NHWC (the signature changes);
    "keep": inputs and outputs keep the source's shapes (TRANSPOSE at the edges where needed).
    """
    if io_layout not in ("NHWC", "keep"):
        raise ValueError(f"io_layout must be 'NHWC' or 'keep', got {io_layout!r}")
    return LayoutPass(model, io_layout).run()


__all__ = ["SENSITIVE", "channels_last", "to_nhwc"]
