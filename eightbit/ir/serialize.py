"""Schema dicts <-> IR. Everything the file carries comes back out on write."""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError
from eightbit.ir.model import Buffer, Metadata, Model, Operator, QuantParams, Subgraph, Tensor
from eightbit.ir.types import type_code, type_name
from eightbit.schema import ENUMS, OPERATOR_NAMES, TENSOR_TYPE_NAMES, BuiltinOperator
from eightbit.schema.codec import UNION_TABLES
from eightbit.tflite import atomic_write, read_bytes, read_flatbuffer, write_flatbuffer

_OPTIONS_UNION = UNION_TABLES["BuiltinOptions"]
_OPTIONS_CODE = {v: k for k, v in _OPTIONS_UNION.items()}
_OPT2_UNION = UNION_TABLES["BuiltinOptions2"]
_OPT2_CODE = {v: k for k, v in _OPT2_UNION.items()}
_TENSOR_KNOWN = {"shape", "type", "buffer", "name", "quantization", "is_variable", "sparsity",
                 "shape_signature", "has_rank"}
_UNKNOWN_PREFIX = "UNKNOWN_BUILTIN_"  # a code newer than our schema: kept, written back as read
_OP_KNOWN = {"opcode_index", "inputs", "outputs", "builtin_options_type", "builtin_options",
             "custom_options", "intermediates", "large_custom_options_offset",
             "large_custom_options_size", "builtin_options2_type", "builtin_options2"}


# Vectors QuantParams keeps as numpy arrays: read straight into arrays, not via Python lists.
_QUANT_ARRAYS = frozenset(("QuantizationParameters", f) for f in ("scale", "zero_point", "min", "max"))
# What an absent scale or zero point becomes. Shared by every such tensor: QuantParams holds its
# own view, and a view of nothing cannot be written through.
_NO_SCALE, _NO_ZERO_POINT = np.zeros(0, np.float32), np.zeros(0, np.int64)


def load(path_or_bytes) -> Model:
    """Read a .tflite file (path or bytes) into the IR; ModelError if it is malformed."""
    return model_from_dict(read_flatbuffer(read_bytes(path_or_bytes), arrays=_QUANT_ARRAYS))


def model_from_dict(m: dict) -> Model:
    buffers = [Buffer(b.get("data") or b"") for b in (m.get("buffers") or [{}])]
    if not buffers:
        buffers = [Buffer()]
    codes = [_op_code(c) for c in (m.get("operator_codes") or [])]
    subgraphs = [_subgraph_from_dict(sg, codes, buffers) for sg in m["subgraphs"]]
    metadata = [Metadata(md.get("name") or "", buffers[md.get("buffer", 0)]) for md in (m.get("metadata") or [])]
    for md in metadata:  # constants stay views on the file's bytes; metadata is read as bytes
        md.buffer.data = bytes(md.buffer.data)
    sigs = [
        {
            "signature_key": sd.get("signature_key") or "",
            "subgraph_index": sd.get("subgraph_index", 0),
            "inputs": [{"name": t.get("name") or "", "tensor_index": t.get("tensor_index", 0)} for t in sd.get("inputs") or []],
            "outputs": [{"name": t.get("name") or "", "tensor_index": t.get("tensor_index", 0)} for t in sd.get("outputs") or []],
        }
        for sd in (m.get("signature_defs") or [])
    ]
    extra = {}
    if m.get("metadata_buffer"):
        # Buffer indices, kept as Buffer objects so they survive renumbering on write.
        extra["metadata_buffer"] = [_buffer_at(buffers, b, f"Model.metadata_buffer[{k}]")
                                    for k, b in enumerate(m["metadata_buffer"])]
    return Model(subgraphs, buffers, m.get("version", 3), m.get("description"), metadata, sigs, extra)


def _buffer_at(buffers, b, where):
    if not 0 <= b < len(buffers):
        raise ModelError(f"malformed model: {where} refers to buffer {b}, out of range 0..{len(buffers) - 1}")
    return buffers[b]


def _op_code(c: dict):
    # Codes above 127 live in builtin_code; old files only have deprecated_builtin_code.
    code = max(c.get("builtin_code") or 0, c.get("deprecated_builtin_code") or 0)
    name = OPERATOR_NAMES.get(code, f"{_UNKNOWN_PREFIX}{code}")
    return name, c.get("version") or 1, c.get("custom_code")


def _subgraph_from_dict(sg: dict, codes, buffers) -> Subgraph:
    tensors = [_tensor_from_dict(t, buffers) for t in (sg.get("tensors") or [])]
    ops = [_op_from_dict(o, codes) for o in (sg.get("operators") or [])]
    extra = {k: v for k, v in sg.items() if k not in ("tensors", "operators", "inputs", "outputs", "name")}
    return Subgraph(tensors, ops, list(sg.get("inputs") or []), list(sg.get("outputs") or []), sg.get("name"), extra)


def _tensor_from_dict(t: dict, buffers) -> Tensor:
    q = t.get("quantization")
    qp = None
    if q is not None:
        scale, zero_point = q.get("scale"), q.get("zero_point")  # lists or numpy arrays
        qp = QuantParams(
            _NO_SCALE if scale is None else scale, _NO_ZERO_POINT if zero_point is None else zero_point,
            q.get("quantized_dimension", 0),
            q.get("min"), q.get("max"),
            {"details_type": q.get("details_type"), "details": q.get("details")} if q.get("details") else None,
        )
    b = t.get("buffer", 0)
    sig = t.get("shape_signature")
    return Tensor(
        name=t.get("name") or "",
        shape=tuple(t.get("shape") or ()),
        type=TENSOR_TYPE_NAMES.get(t.get("type", 0)) or type_name(t.get("type", 0)),
        buffer=buffers[b] if b else None,
        quantization=qp,
        shape_signature=tuple(sig) if sig is not None else None,
        is_variable=bool(t.get("is_variable")),
        sparsity=t.get("sparsity"),
        has_rank=bool(t.get("has_rank")),
        extra={k: v for k, v in t.items() if k not in _TENSOR_KNOWN and v is not None},
    )


def _op_from_dict(o: dict, codes) -> Operator:
    name, version, custom = codes[o.get("opcode_index", 0)]
    opt_type = _OPTIONS_UNION.get(o.get("builtin_options_type", 0))
    extra = {k: v for k, v in o.items() if k not in _OP_KNOWN and v is not None}
    if o.get("builtin_options2") is not None:
        extra["builtin_options2"] = (_OPT2_UNION[o["builtin_options2_type"]], o["builtin_options2"])
    return Operator(
        op_type=name, inputs=list(o.get("inputs") or []), outputs=list(o.get("outputs") or []),
        options=dict(o.get("builtin_options") or {}), version=version, options_type=opt_type,
        custom_code=custom, custom_options=o.get("custom_options"),
        intermediates=list(o.get("intermediates") or []), extra=extra,
    )


def model_to_dict(model: Model) -> dict:
    # Buffers keep their order; one that nothing refers to any more but still holds bytes
    # (a pass replaced a tensor's data) is dropped, so rewritten models do not carry dead weights.
    used = {id(b) for b in _referenced_buffers(model)}
    buffers = [b for b in model.buffers if id(b) in used or not len(b.data)]
    if not buffers or len(buffers[0].data):
        buffers.insert(0, Buffer())  # buffer 0 is the empty sentinel TFLite expects
    index = {}
    for i, b in enumerate(buffers):
        index.setdefault(id(b), i)

    def buffer_index(b):
        if b is None:
            return 0
        if id(b) not in index:
            index[id(b)] = len(buffers)
            buffers.append(b)
        return index[id(b)]

    codes, code_index = [], {}
    subgraphs = [_subgraph_to_dict(sg, buffer_index, codes, code_index) for sg in model.subgraphs]
    metadata = [{"name": md.name, "buffer": buffer_index(md.buffer)} for md in model.metadata]
    # Every buffer index is handed out before the buffer list is written (a metadata_buffer
    # entry may name a buffer the model's list no longer holds).
    extra = {k: [buffer_index(b) for b in v] if k == "metadata_buffer" else v for k, v in model.extra.items()}
    out = {
        "version": model.version,
        "operator_codes": codes,
        "subgraphs": subgraphs,
        "description": model.description,
        "buffers": [{"data": b.data} if len(b.data) else {} for b in buffers],
        "metadata": metadata or None,
        "signature_defs": [
            {"signature_key": sd["signature_key"], "subgraph_index": sd["subgraph_index"],
             "inputs": sd["inputs"], "outputs": sd["outputs"]}
            for sd in model.signature_defs
        ] or None,
    }
    out.update(extra)
    return out


def _referenced_buffers(model: Model):
    for sg in model.subgraphs:
        for t in sg.tensors:
            if t.buffer is not None:
                yield t.buffer
    for md in model.metadata:
        yield md.buffer
    yield from model.extra.get("metadata_buffer") or ()


def _subgraph_to_dict(sg, buffer_index, codes, code_index):
    out = {
        "tensors": [_tensor_to_dict(t, buffer_index) for t in sg.tensors],
        "inputs": list(sg.inputs),
        "outputs": list(sg.outputs),
        "operators": [_op_to_dict(op, codes, code_index) for op in sg.operators],
        "name": sg.name,
    }
    out.update(sg.extra)
    return out


def _tensor_to_dict(t: Tensor, buffer_index) -> dict:
    try:
        tcode = type_code(t.type)
    except KeyError:
        raise ModelError(f"tensor {t.name!r} has unknown type {t.type!r}") from None
    out = {
        "shape": [int(d) for d in t.shape],
        "type": tcode,
        "buffer": buffer_index(t.buffer),
        "name": t.name,
        "is_variable": t.is_variable,
        "sparsity": t.sparsity,
        "shape_signature": [int(d) for d in t.shape_signature] if t.shape_signature is not None else None,
        "has_rank": t.has_rank,
    }
    q = t.quantization
    if q is not None:
        out["quantization"] = {
            "min": q.min.tolist() if q.min is not None else None,
            "max": q.max.tolist() if q.max is not None else None,
            "scale": q.scale.tolist() if q.scale.size else None,
            "zero_point": q.zero_point.tolist() if q.zero_point.size else None,
            "quantized_dimension": int(q.quantized_dimension),
        }
        if q.details:
            out["quantization"].update(q.details)
    out.update(t.extra)
    return out


def _op_to_dict(op: Operator, codes, code_index) -> dict:
    key = (op.op_type, op.version, op.custom_code if op.op_type == "CUSTOM" else None)
    if key not in code_index:
        if op.op_type in BuiltinOperator:
            code = BuiltinOperator[op.op_type]
        elif op.op_type.startswith(_UNKNOWN_PREFIX) and op.op_type[len(_UNKNOWN_PREFIX):].isdigit():
            code = int(op.op_type[len(_UNKNOWN_PREFIX):])
        else:
            raise ModelError(f"operator type {op.op_type!r} is not a TFLite builtin")
        code_index[key] = len(codes)
        codes.append({
            "deprecated_builtin_code": min(code, ENUMS["BuiltinOperator"]["PLACEHOLDER_FOR_GREATER_OP_CODES"]),
            "custom_code": key[2],
            "version": op.version,
            "builtin_code": code,
        })
    out = {
        "opcode_index": code_index[key],
        "inputs": list(op.inputs),
        "outputs": list(op.outputs),
        "custom_options": op.custom_options,
        "intermediates": list(op.intermediates) or None,
    }
    if op.options_type:
        if op.options_type not in _OPTIONS_CODE:
            raise ModelError(f"operator {op.name}: options_type {op.options_type!r} is not a BuiltinOptions table")
        out["builtin_options_type"] = _OPTIONS_CODE[op.options_type]
        out["builtin_options"] = op.options
    elif op.options:
        raise ModelError(f"operator {op.name} has options {sorted(op.options)} but no options_type "
                         "(the options table name, e.g. 'Conv2DOptions')")
    for k, v in op.extra.items():
        if k == "builtin_options2":
            out["builtin_options2_type"] = _OPT2_CODE[v[0]]
            out["builtin_options2"] = v[1]
        else:
            out[k] = v
    return out


def model_to_bytes(model: Model) -> bytes:
    return write_flatbuffer(model_to_dict(model))


def save_model(model: Model, path, overwrite: bool = True) -> None:
    atomic_write(path, model_to_bytes(model), overwrite=overwrite)
