"""Structural checks on a decoded model: every index in range, data large enough, no cycles.

Each failure raises ModelError naming the table path and index, so a user can find
the bad field with any FlatBuffers viewer.
"""

from __future__ import annotations

from math import prod
from operator import gt

import numpy as np

from eightbit.errors import ModelError
from eightbit.schema import TENSOR_TYPE_NAMES

# Elements per tensor we agree to allocate: beyond this a shape field is garbage, not a model.
MAX_TENSOR_ELEMENTS = 1 << 31
MAX_RANK = 64  # numpy's limit; TFLite kernels stop at 4 to 6
_BYTES = {"FLOAT32": 4, "FLOAT16": 2, "INT32": 4, "UINT8": 1, "INT64": 8, "BOOL": 1, "INT16": 2,
          "COMPLEX64": 8, "INT8": 1, "FLOAT64": 8, "COMPLEX128": 16, "UINT64": 8, "UINT32": 4,
          "UINT16": 2, "BFLOAT16": 2}


def _fail(msg):
    raise ModelError(f"malformed model: {msg}")


def verify_structure(m: dict) -> None:
    codes = m.get("operator_codes") or []
    buffers = m.get("buffers") or []
    subgraphs = m.get("subgraphs") or []
    if not subgraphs:
        _fail("Model.subgraphs is empty: nothing to run")
    for i, c in enumerate(codes):
        code = max(c.get("builtin_code") or 0, c.get("deprecated_builtin_code") or 0)
        if code < 0:
            _fail(f"operator_codes[{i}] has negative builtin code {code}")
    for s, sg in enumerate(subgraphs):
        _verify_subgraph(s, sg, len(codes), buffers)
        _verify_called_subgraphs(s, sg, len(subgraphs))
    for k, md in enumerate(m.get("metadata") or []):
        if not 0 <= md.get("buffer", 0) < max(len(buffers), 1):
            _fail(f"metadata[{k}] ({md.get('name')!r}) refers to buffer {md.get('buffer')} of {len(buffers)}")
    for k, sd in enumerate(m.get("signature_defs") or []):
        si = sd.get("subgraph_index", 0)
        if not 0 <= si < len(subgraphs):
            _fail(f"signature_defs[{k}] refers to subgraph {si} of {len(subgraphs)}")
        n = len(subgraphs[si].get("tensors") or [])
        for part in ("inputs", "outputs"):
            for j, tm in enumerate(sd.get(part) or []):
                if not 0 <= tm.get("tensor_index", 0) < n:
                    _fail(f"signature_defs[{k}].{part}[{j}] tensor_index {tm.get('tensor_index')} out of range 0..{n - 1}")


# Options naming another subgraph (IF, WHILE, CALL_ONCE, CALL): it must exist and not be the main one.
_SUBGRAPH_FIELDS = ("then_subgraph_index", "else_subgraph_index", "cond_subgraph_index",
                    "body_subgraph_index", "init_subgraph_index", "subgraph")


def _verify_called_subgraphs(s, sg, n_subgraphs):
    for o, op in enumerate(sg.get("operators") or []):
        opts = op.get("builtin_options")
        if not isinstance(opts, dict):
            continue
        for f in _SUBGRAPH_FIELDS:
            if f in opts and opts[f] is not None and not 0 < opts[f] < n_subgraphs:
                _fail(f"subgraphs[{s}].operators[{o}] option {f} = {opts[f]}: the model has subgraphs "
                      f"0..{n_subgraphs - 1} (0, the main graph, cannot be called)")


def _verify_subgraph(s, sg, n_codes, buffers):
    tensors = sg.get("tensors") or []
    n = len(tensors)
    where = f"subgraphs[{s}]"
    for t_idx, t in enumerate(tensors):
        _verify_tensor(f"{where}.tensors[{t_idx}]", t, buffers)
    for part in ("inputs", "outputs"):
        for j, ti in enumerate(sg.get(part) or []):
            if not 0 <= ti < n:
                _fail(f"{where}.{part}[{j}] = {ti}, out of range 0..{n - 1}")
    available = set(sg.get("inputs") or [])
    constants = set()
    for t_idx, t in enumerate(tensors):
        if t.get("buffer", 0) and len(buffers[t["buffer"]].get("data") or b""):
            constants.add(t_idx)
        elif t.get("is_variable"):
            available.add(t_idx)
    available |= constants
    producers = {}
    ops = sg.get("operators") or []
    for o, op in enumerate(ops):
        for j, ti in enumerate(op.get("outputs") or []):
            if ti == -1:
                continue  # optional output left out
            if not 0 <= ti < n:
                _fail(f"{where}.operators[{o}].outputs[{j}] = {ti}, out of range -1..{n - 1}")
            if ti in constants:
                _fail(f"{where}.operators[{o}].outputs[{j}] writes tensor {ti} ({tensors[ti].get('name')!r}), "
                      "which is a constant")
            producers.setdefault(ti, o)
    for o, op in enumerate(ops):
        if not 0 <= op.get("opcode_index", 0) < n_codes:
            _fail(f"{where}.operators[{o}].opcode_index {op.get('opcode_index')} out of range 0..{n_codes - 1}")
        for j, ti in enumerate(op.get("inputs") or []):
            if ti == -1:
                continue  # optional input left out
            if not 0 <= ti < n:
                _fail(f"{where}.operators[{o}].inputs[{j}] = {ti}, out of range -1..{n - 1}")
            if ti in available:
                continue
            p = producers.get(ti)
            if p is None and _is_empty(tensors[ti]):
                continue  # a constant with zero elements has no bytes, and TFLite accepts it
            if p is None:
                name = tensors[ti].get("name")
                _fail(f"{where}.operators[{o}] reads tensor {ti} ({name!r}), which nothing produces")
            if p >= o:
                _fail(f"{where}.operators[{o}] reads tensor {ti} produced by operators[{p}]: a cycle "
                      "or an operator order that cannot run")
        _verify_options(f"{where}.operators[{o}]", op.get("builtin_options"))
        for j, ti in enumerate(op.get("intermediates") or []):
            if not 0 <= ti < n:
                _fail(f"{where}.operators[{o}].intermediates[{j}] = {ti}, out of range 0..{n - 1}")
    for j, ti in enumerate(sg.get("outputs") or []):
        if ti not in available and ti not in producers:
            _fail(f"{where}.outputs[{j}] is tensor {ti} ({tensors[ti].get('name')!r}), which nothing produces")


# Options that are sizes or steps: kernels divide by them, loop over them or build strided
# views from them, so a garbage value must stop here (TFLite's converter never writes one).
_POSITIVE_OPTIONS = ("stride_w", "stride_h", "stride_d", "dilation_w_factor", "dilation_h_factor",
                     "dilation_d_factor", "filter_width", "filter_height", "block_size")
MAX_WINDOW = 1 << 16


def _verify_options(where, options):
    if not options or options.keys().isdisjoint(_POSITIVE_OPTIONS):
        return
    for name in _POSITIVE_OPTIONS:
        v = options.get(name)
        if v is not None and not 1 <= v <= MAX_WINDOW:
            _fail(f"{where}.builtin_options.{name} = {v}, expected 1..{MAX_WINDOW}")


def _is_empty(t: dict) -> bool:
    shape = t.get("shape") or []
    return bool(shape) and 0 in shape


def _element_count(where, t, shape):
    """Elements of `shape`, failing on a negative dimension or more than we allocate."""
    # Zero dimensions count as 1 here: a [0, 2**40, 2**40] tensor is empty but still not a shape
    # numpy takes.
    bounded = 1
    for d in shape:
        if d < 0:
            _fail(f"{where} ({t.get('name')!r}) has a negative dimension in shape {shape}")
        if d > 1:
            bounded *= d
    if bounded > MAX_TENSOR_ELEMENTS:
        # The message gives the product as float64 arithmetic has it, as it always has.
        count = int(np.prod(np.asarray(shape, dtype=np.float64)))
        _fail(f"{where} ({t.get('name')!r}) shape {shape} has {count} elements, more than we allocate")
    # Every partial product is at most `bounded` <= 2**31: exact in float64 and in int.
    return prod(shape)


def _verify_tensor(where, t, buffers):
    shape = t.get("shape") or []
    if len(shape) > MAX_RANK:
        _fail(f"{where} ({t.get('name')!r}) has {len(shape)} dimensions, more than {MAX_RANK}")
    count = _element_count(where, t, shape)
    b = t.get("buffer", 0)
    if not 0 <= b < max(len(buffers), 1):
        _fail(f"{where} ({t.get('name')!r}) refers to buffer {b}, out of range 0..{len(buffers) - 1}")
    if t.get("type", 0) not in TENSOR_TYPE_NAMES:
        _fail(f"{where} ({t.get('name')!r}) has unknown tensor type {t.get('type')}")
    data = (buffers[b].get("data") or b"") if buffers else b""
    typ = TENSOR_TYPE_NAMES[t.get("type", 0)]
    if data and t.get("sparsity") is None and typ in _BYTES:
        need = count * _BYTES[typ]
        if len(data) < need:
            _fail(f"{where} ({t.get('name')!r}) {typ}{shape} needs {need} bytes but buffer {b} holds {len(data)}")
    if t.get("sparsity") is not None:
        _verify_sparsity(f"{where} ({t.get('name')!r})", t["sparsity"], shape, len(data), _BYTES.get(typ, 1))
    if data and typ == "INT4" and t.get("sparsity") is None and len(data) < (count + 1) // 2:
        _fail(f"{where} ({t.get('name')!r}) INT4{shape} needs {(count + 1) // 2} bytes but buffer {b} holds {len(data)}")
    q = t.get("quantization")
    if q:
        # Lists, or numpy arrays when the reader was asked for them (eightbit.load).
        scale, zp = q.get("scale"), q.get("zero_point")
        scale, zp = (() if scale is None else scale), (() if zp is None else zp)
        if len(scale) and len(zp) and len(zp) not in (1, len(scale)):
            _fail(f"{where} ({t.get('name')!r}) has {len(scale)} scales but {len(zp)} zero points")
        if len(scale) > 1:
            qd = q.get("quantized_dimension", 0)
            if not 0 <= qd < len(shape) or shape[qd] != len(scale):
                _fail(f"{where} ({t.get('name')!r}) has {len(scale)} per-channel scales on dimension {qd} "
                      f"of shape {shape}")


def _min(values):
    # Uint8Vector indices come as bytes: numpy's min is far faster than iterating them.
    return int(np.frombuffer(values, np.uint8).min()) if isinstance(values, bytes) else min(values)


def _max(values):
    return int(np.frombuffer(values, np.uint8).max()) if isinstance(values, bytes) else max(values)


def _verify_sparsity(where, sp, shape, data_len, elem_size):
    """TFLite's sparse format (schema.fbs SparsityParameters): every index and count consistent,
    so densifying it can neither read nor write out of bounds."""
    order = list(sp.get("traversal_order") or [])
    block_map = list(sp.get("block_map") or [])
    dims = sp.get("dim_metadata") or []
    rank, n = len(shape), len(order)
    where = f"{where} sparsity"
    if n != rank + len(block_map):
        _fail(f"{where}: traversal_order has {n} entries, expected rank {rank} + {len(block_map)} block dims")
    if sorted(order) != list(range(n)):
        _fail(f"{where}: traversal_order {order} is not a permutation of 0..{n - 1}")
    if len(dims) != n:
        _fail(f"{where}: {len(dims)} dim_metadata entries for {n} traversal dimensions")
    if len(set(block_map)) != len(block_map) or any(not 0 <= b < rank for b in block_map):
        _fail(f"{where}: block_map {block_map} must name distinct dimensions 0..{rank - 1}")
    extent = list(shape) + [0] * len(block_map)
    position = {d: i for i, d in enumerate(order)}
    for k, b in enumerate(block_map):
        dm = dims[position[rank + k]]
        size = dm.get("dense_size", 0)
        if dm.get("format", 0) != 0 or size <= 0 or shape[b] % size:
            _fail(f"{where}: block dimension {rank + k} must be DENSE with a size dividing {shape[b]}, "
                  f"got format {dm.get('format', 0)} size {size}")
        extent[rank + k] = size
        extent[b] = shape[b] // size
    count = 1
    for i, dm in enumerate(dims):
        ext = extent[order[i]]
        fmt = dm.get("format", 0)
        if fmt == 0:
            if dm.get("dense_size", 0) != ext:
                _fail(f"{where}: dim_metadata[{i}] dense_size {dm.get('dense_size', 0)}, expected {ext}")
            count *= ext
        elif fmt == 1:
            seg = list((dm.get("array_segments") or {}).get("values") or [])
            idx = (dm.get("array_indices") or {}).get("values") or []
            if len(seg) != count + 1 or seg[0] != 0 or seg[-1] != len(idx):
                _fail(f"{where}: dim_metadata[{i}] array_segments must have {count + 1} entries from 0 to "
                      f"{len(idx)}, got {len(seg)} entries")
            if any(map(gt, seg, seg[1:])):
                _fail(f"{where}: dim_metadata[{i}] array_segments decrease")
            if len(idx) and not 0 <= _min(idx) <= _max(idx) < ext:
                _fail(f"{where}: dim_metadata[{i}] array_indices outside 0..{ext - 1}")
            count = len(idx)
        else:
            _fail(f"{where}: dim_metadata[{i}] has unknown format {fmt}")
    if data_len < count * elem_size:
        _fail(f"{where}: {count} stored values need {count * elem_size} bytes, buffer holds {data_len}")
