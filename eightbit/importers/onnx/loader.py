"""Read an ONNX model (path, bytes or ModelProto), fix its input shapes, run ONNX shape inference."""

from __future__ import annotations

import os

import numpy as np

from eightbit.errors import ModelError
from eightbit.importers.onnx.context import OnnxNode

MIN_OPSET = 11
# Opsets 7-10 are read as they are (the rules know their attribute forms: Upsample, Resize-10,
# axes/split/pads as attributes); onnx's version converter would turn Upsample into a half-pixel
# Resize, which is not what Upsample computes. Older models are converted to opset 11.
MIN_READ_OPSET = 7


def require_onnx():
    """The onnx module, or an ImportError that says how to get it."""
    try:
        import onnx
    except ImportError as e:  # pragma: no cover - the test environment has onnx
        raise ImportError("importing ONNX models needs the 'onnx' package: pip install 'eightbit[onnx]'") from e
    return onnx


def load_proto(model):
    """(ModelProto with external data loaded, functions inlined, opset >= 11; owned): owned is
    False when it is the caller's own object, which is then only read, never changed."""
    onnx = require_onnx()
    if isinstance(model, onnx.ModelProto):
        proto = model
    elif isinstance(model, (bytes, bytearray, memoryview)):
        proto = _parse(bytes(model), "the given bytes")
    elif isinstance(model, (str, os.PathLike)):
        proto = _load_path(os.fspath(model))
    else:
        raise TypeError(f"ONNX model must be a path, bytes or onnx.ModelProto, not {type(model).__name__}")
    _check_onnx(proto)
    owned = proto is not model
    if proto.functions:
        from onnx import inliner

        proto, owned = inliner.inline_local_functions(proto), True
    upgraded = _upgrade_opset(proto)
    return upgraded, owned or upgraded is not proto


def _load_path(path: str):
    onnx = require_onnx()
    if not os.path.isfile(path):
        raise ModelError(f"{path}: no such file")
    with open(path, "rb") as f:
        head = f.read(8)
    _reject_other_formats(head, path)
    try:
        return onnx.load(path, load_external_data=True)
    except (FileNotFoundError, OSError) as e:
        raise ModelError(f"{path}: cannot read its external data ({e})") from None
    except Exception as e:  # protobuf's DecodeError and friends
        raise ModelError(f"{path}: not a valid ONNX model ({type(e).__name__}: {e})") from None


def _parse(data: bytes, what: str):
    onnx = require_onnx()
    _reject_other_formats(data[:8], what)
    try:
        proto = onnx.load_from_string(data)
    except Exception as e:
        raise ModelError(f"{what}: not a valid ONNX model ({type(e).__name__}: {e})") from None
    for init in proto.graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            raise ModelError(f"{what}: initializer {init.name!r} uses external data; pass the .onnx file's path")
    return proto


def _reject_other_formats(head: bytes, what: str):
    if head[4:8] == b"TFL3":
        raise ModelError(f"{what}: this is a .tflite model, not ONNX (use TFLiteConverter.from_tflite / eightbit.load)")
    if head[:4] == b"PK\x03\x04":
        raise ModelError(f"{what}: a zip archive (a Keras or PyTorch file?), not an ONNX model")
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        raise ModelError(f"{what}: an HDF5 (Keras .h5) file, not an ONNX model")


def _check_onnx(proto):
    if proto.ir_version <= 0 or not proto.HasField("graph") or not proto.opset_import:
        raise ModelError("not an ONNX model: no ir_version, graph or opset_import")
    if not proto.graph.output:
        raise ModelError(f"ONNX graph {proto.graph.name!r} has no outputs")


def default_opset(proto) -> int:
    for o in proto.opset_import:
        if o.domain in ("", "ai.onnx"):
            return int(o.version)
    return 0


def _upgrade_opset(proto):
    version = default_opset(proto)
    if version >= MIN_READ_OPSET:
        return proto
    from onnx import version_converter

    try:
        return version_converter.convert_version(proto, MIN_OPSET)
    except Exception as e:
        raise ModelError(f"ONNX opset {version} is older than {MIN_OPSET} and could not be upgraded ({e})") from None


def graph_inputs(proto) -> list:
    """The graph inputs that are real inputs (old exporters also list initializers as inputs)."""
    inits = {i.name for i in proto.graph.initializer}
    return [v for v in proto.graph.input if v.name not in inits]


SMALL_CONSTANT = 64  # elements: initializers up to this size keep their values for shape inference


def shape_model(proto):
    """A light copy for shape inference: nodes and small initializers (the shape arithmetic);
    large initializers become typed graph inputs, so no weight bytes are copied."""
    onnx = require_onnx()
    from onnx import helper

    light = onnx.ModelProto()
    light.ir_version = proto.ir_version
    light.opset_import.extend(proto.opset_import)
    g, src = light.graph, proto.graph
    g.name = src.name
    g.node.extend(src.node)
    g.input.extend(src.input)
    g.output.extend(src.output)
    listed = {v.name for v in src.input}
    for init in src.initializer:
        if int(np.prod(init.dims, dtype=np.int64)) <= SMALL_CONSTANT:
            g.initializer.append(init)
        elif init.name not in listed:
            g.input.append(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    return light


def fix_input_shapes(proto, input_shapes, notes: list, names=None) -> None:
    """Write static dimensions into the graph inputs; a dynamic batch (dim 0) becomes 1.
    names: the real inputs (default: graph inputs that are not initializers)."""
    given = dict(input_shapes or {})
    inputs = graph_inputs(proto) if names is None else [v for v in proto.graph.input if v.name in names]
    names = [v.name for v in inputs]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ModelError(f"input_shapes names {unknown}, but the model's inputs are {names}")
    for v in inputs:
        dims = v.type.tensor_type.shape.dim
        if v.name in given:
            shape = [int(d) for d in given[v.name]]
            if len(shape) != len(dims) and len(dims) > 0:
                raise ModelError(f"input_shapes[{v.name!r}] has rank {len(shape)}, the model's input has rank {len(dims)}")
            if any(d < 0 for d in shape):
                raise ModelError(f"input_shapes[{v.name!r}] = {shape}: every dimension must be a non-negative integer")
            del dims[:]
            for d in shape:
                dims.add().dim_value = d
            continue
        original = [x.dim_value if x.HasField("dim_value") else (x.dim_param or "?") for x in dims]
        for k, d in enumerate(dims):
            if d.HasField("dim_value") and d.dim_value >= 0:
                continue
            label = d.dim_param or "?"
            if k == 0 and len(dims) > 1:
                d.dim_value = 1
                notes.append(f"input {v.name!r}: dynamic batch dimension {label!r} set to 1")
                continue
            raise ModelError(
                f"input {v.name!r} has dynamic dimension {k} ({label!r}) in shape {original}; "
                f"pass input_shapes={{{v.name!r}: [...]}} with a static shape (CLI: --input-shape {v.name}=...)")


def infer_shapes(proto, notes: list):
    """ONNX shape inference with data propagation, after clearing stale value_info."""
    onnx = require_onnx()
    del proto.graph.value_info[:]
    for out in proto.graph.output:
        if out.type.HasField("tensor_type"):
            out.type.tensor_type.ClearField("shape")
    try:
        return onnx.shape_inference.infer_shapes(proto, strict_mode=False, data_prop=True)
    except Exception as e:
        notes.append(f"ONNX shape inference failed ({type(e).__name__}); shapes inferred node by node")
        return proto


def static_types(proto) -> tuple[dict, dict]:
    """value name -> static shape, value name -> numpy dtype, for every typed value."""
    from onnx import helper

    shapes, dtypes = {}, {}
    g = proto.graph
    for v in list(g.input) + list(g.value_info) + list(g.output):
        tt = v.type.tensor_type if v.type.HasField("tensor_type") else None
        if tt is None:
            continue
        if tt.elem_type:
            try:
                dtypes[v.name] = np.dtype(helper.tensor_dtype_to_np_dtype(tt.elem_type))
            except (KeyError, TypeError):
                pass
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            shapes[v.name] = tuple(int(d.dim_value) for d in tt.shape.dim)
    return shapes, dtypes


def initializers(proto) -> dict:
    from onnx import numpy_helper

    return {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}


def decode_nodes(proto, graph=None) -> list:
    """The nodes of the model's graph (or of `graph`, a subgraph such as an If branch)."""
    from onnx import helper, numpy_helper

    nodes = []
    for k, n in enumerate((graph if graph is not None else proto.graph).node):
        attrs = {}
        for a in n.attribute:
            value = helper.get_attribute_value(a)
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            elif a.type == a.TENSOR:
                value = numpy_helper.to_array(value)
            elif a.type == a.STRINGS:
                value = [s.decode("utf-8", "replace") for s in value]
            attrs[a.name] = value
        own = type(n)()
        own.CopyFrom(n)  # its own message: the model (and its weight bytes) can then be freed
        nodes.append(OnnxNode(n.op_type, n.domain, n.name or f"{n.op_type}_{k}", list(n.input), list(n.output),
                              attrs, own))
    return nodes
