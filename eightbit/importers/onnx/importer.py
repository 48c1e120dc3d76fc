"""import_onnx: ONNX graph -> source-layout (NCHW) IR, one rule per node (rules/)."""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError, UnsupportedOpError
from eightbit.importers.common import ImportedGraph
from eightbit.importers.onnx import loader
from eightbit.importers.onnx.context import LoweringContext, OnnxNode, UnsupportedNode
from eightbit.importers.onnx.patterns import fuse_patterns
from eightbit.importers.onnx.rules import find_rule, normalize_domain
from eightbit.ir.types import TYPE_OF_NUMPY

# Ops never evaluated at import time even with constant inputs: quantization must stay visible
# to the QDQ import, and random ops have no fixed value.
NO_FOLD = frozenset({
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "RandomNormal", "RandomUniform",
    "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli", "If", "Loop", "Scan",
})
FOLD_LIMIT = 1 << 24  # elements: larger constant results stay as ops (memory)


def import_onnx(model, input_shapes=None) -> ImportedGraph:
    """Lower an ONNX model (path, bytes or onnx.ModelProto; opsets 11-21) to an NCHW IR model.

    input_shapes: {input name: shape} for inputs with dynamic dimensions (a dynamic batch
    dimension alone defaults to 1). Raises UnsupportedOpError listing every node we cannot lower,
    ModelError for a malformed or non-ONNX model.
    """
    notes: list = []
    proto, _ = loader.load_proto(model)
    input_names = [v.name for v in loader.graph_inputs(proto)]
    output_names = [v.name for v in proto.graph.output]
    light = loader.shape_model(proto)
    loader.fix_input_shapes(light, input_shapes, notes, names=set(input_names))
    shapes, dtypes = loader.static_types(loader.infer_shapes(light, notes))
    del light
    if any(d == np.float16 for d in dtypes.values()):
        dtypes = {k: np.dtype(np.float32) if d == np.float16 else d for k, d in dtypes.items()}
        notes.append("float16 model: imported as float32 (inputs and outputs included); quantize it as usual")
    inits = loader.initializers(proto)
    nodes, fused = fuse_patterns(loader.decode_nodes(proto), inits, set(output_names))
    notes.extend(fused)
    opsets = {loader_domain(o.domain): int(o.version) for o in proto.opset_import}
    description = f"imported from ONNX ({proto.producer_name or 'unknown producer'}, opset {{}})"
    del proto, model  # the weights now live in `inits` only (the protobuf arena is freed)
    ctx = LoweringContext(opsets, shapes, dtypes, nodes)
    ctx.infer_fallback = lambda node: _infer_node(ctx, node)
    ctx.consts.update(inits)
    ctx.notes.extend(notes)
    inputs = []
    for name in input_names:
        if name not in shapes:
            raise ModelError(f"input {name!r} has no static shape; pass input_shapes={{{name!r}: [...]}}")
        if np.dtype(dtypes.get(name, np.float32)) not in TYPE_OF_NUMPY:
            raise ModelError(f"input {name!r} has element type {dtypes[name]}, which TFLite has no type for")
        inputs.append(ctx.builder.tensor(ctx.unique(name), shapes[name], dtypes.get(name, np.float32)))
        ctx.values[name] = inputs[-1]
    del inits  # ctx.consts holds them (as views of the IR buffers once materialized)
    _lower_all(ctx, nodes)
    outputs = [_graph_output(ctx, name) for name in output_names]
    ctx.builder.inputs(*inputs).outputs(*outputs)
    ir_model = ctx.builder.build()
    from eightbit.passes.graph import prune

    prune(ir_model)
    ir_model.description = description.format(ctx.opset)
    quantized = any(t.quantized for t in ir_model.main.tensors)
    return ImportedGraph(ir_model, layout="NCHW", notes=ctx.notes, quantized=quantized)


def loader_domain(domain: str) -> str:
    return normalize_domain(domain)


def lower_branch(ctx: LoweringContext, graph) -> list:
    """Lower the nodes of a subgraph (an If branch) into the same model; returns its output names."""
    from onnx import numpy_helper

    for init in graph.initializer:
        ctx.consts[init.name] = numpy_helper.to_array(init)
    _lower_all(ctx, loader.decode_nodes(None, graph))
    return [o.name for o in graph.output]


def _lower_all(ctx: LoweringContext, nodes: list) -> None:
    failed: list = []  # (node, reason)
    for node in nodes:
        if _try_fold(ctx, node):
            continue
        rule = find_rule(node.op_type, node.domain)
        try:
            if rule is None:
                raise UnsupportedNode(node, "")
            rule.fn(ctx, node)
        except UnsupportedNode as e:
            failed.append((e.node, e.reason))
            _placeholders(ctx, node)
        except (ModelError, KeyError, ValueError, IndexError) as e:
            if not failed:  # a real error, not the consequence of an earlier unsupported node
                if isinstance(e, ModelError):
                    raise
                raise ModelError(f"node {node.label} ({node.op_type}): {type(e).__name__}: {e}") from e
            _placeholders(ctx, node)
    if failed:
        raise _unsupported_error(failed, ctx.opsets)


def _unsupported_error(failed: list, opsets: dict) -> UnsupportedOpError:
    groups: dict = {}
    for node, reason in failed:
        key = (normalize_domain(node.domain), node.op_type, reason)
        groups.setdefault(key, []).append(node.label)
    items = []
    for (domain, op_type, reason), names in groups.items():
        first = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        why = f"{reason}; " if reason else ""
        label = f"{domain}::{op_type}" if domain else op_type
        items.append((label, opsets.get(domain, 1), len(names), f"{why}nodes: {first}"))
    return UnsupportedOpError(items)


def _placeholders(ctx: LoweringContext, node: OnnxNode) -> None:
    """Give a failed node's outputs tensors so later nodes can still be checked."""
    for j, name in enumerate(node.outputs):
        if name and name not in ctx.values and name not in ctx.consts:
            try:
                ctx.output(node, j)
            except (ModelError, UnsupportedNode):
                ctx.values[name] = ctx.temp((1,), np.float32, name)


def _try_fold(ctx: LoweringContext, node: OnnxNode) -> bool:
    """Evaluate a node whose inputs are all constants with ONNX's reference implementation."""
    if normalize_domain(node.domain) != "" or node.op_type in NO_FOLD:
        return False
    if node.op_type != "Constant":
        present = [i for i in node.inputs if i]
        if not present or any(i not in ctx.consts for i in present):
            return False
    try:
        results = run_node(ctx, node, {i: ctx.consts[i] for i in node.inputs if i})
    except Exception:
        return False  # the rule decides
    if any(np.asarray(r).size > FOLD_LIMIT for r in results):
        return False
    produced = [j for j, o in enumerate(node.outputs) if o]
    for j, value in zip(produced, results):
        ctx.fold(node, j, np.asarray(value))
    return True


def run_node(ctx: LoweringContext, node: OnnxNode, feeds: dict) -> list:
    """ONNX's reference implementation of one node (inside a model, so function ops expand)."""
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    inputs = [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(np.asarray(v).dtype), np.shape(v))
              for k, v in feeds.items()]
    outs = [helper.make_empty_tensor_value_info(o) for o in node.outputs if o]
    graph = helper.make_graph([node.proto], "one", inputs, outs)
    opsets = [helper.make_opsetid(d, v) for d, v in ctx.opsets.items()]
    return ReferenceEvaluator(helper.make_model(graph, opset_imports=opsets)).run(None, feeds)


def _infer_node(ctx: LoweringContext, node: OnnxNode) -> dict:
    """ONNX shape inference of one node, given the static shapes and constants known so far."""
    from onnx import helper, numpy_helper, shape_inference

    if node.proto is None:
        return {}
    inputs, inits = [], []
    for name in node.inputs:
        if not name:
            continue
        if name in ctx.consts:
            inits.append(numpy_helper.from_array(np.asarray(ctx.consts[name]), name))
            continue
        try:
            shape, dtype = ctx.value_shape(name), np.dtype(ctx.dtypes.get(name, np.float32))
            if name in ctx.values:
                dtype = ctx.ir(ctx.values[name]).dtype
        except ModelError:
            return {}
        inputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(dtype), shape))
    outs = [helper.make_empty_tensor_value_info(o) for o in node.outputs if o]
    graph = helper.make_graph([node.proto], "one", inputs, outs, initializer=inits)
    opsets = [helper.make_opsetid(d, v) for d, v in ctx.opsets.items()]
    try:
        inferred = shape_inference.infer_shapes(helper.make_model(graph, opset_imports=opsets), data_prop=True)
    except Exception:
        return {}
    shapes, dtypes = loader.static_types(inferred)
    found = {o: (shapes.get(o), dtypes.get(o)) for o in node.outputs if o and o in shapes}
    if len(found) < len([o for o in node.outputs if o]):
        found = _evaluate_on_zeros(ctx, node) or found
    return found


def _evaluate_on_zeros(ctx: LoweringContext, node: OnnxNode) -> dict:
    """Last resort for output shapes ONNX cannot infer: run the node on zeros (small inputs only)."""
    feeds = {}
    for k, name in enumerate(node.inputs):
        if not name or name in ctx.consts:
            feeds[name] = ctx.consts.get(name)
            continue
        if k > 0:  # a run-time parameter (shape, sizes, axes...): zeros would give a wrong shape
            return {}
        shape = ctx.value_shape(name)
        if int(np.prod(shape, dtype=np.int64)) > FOLD_LIMIT // 16:
            return {}
        dtype = ctx.ir(ctx.values[name]).dtype if name in ctx.values else ctx.dtypes.get(name, np.float32)
        feeds[name] = np.zeros(shape, dtype)
    try:
        results = run_node(ctx, node, {k: v for k, v in feeds.items() if k})
    except Exception:
        return {}
    return {o: (tuple(np.shape(r)), np.asarray(r).dtype) for o, r in zip(node.outputs, results) if o}


def _graph_output(ctx: LoweringContext, name: str) -> int:
    if name not in ctx.values and name not in ctx.consts:
        raise ModelError(f"graph output {name!r} is never produced")
    return ctx.value_tensor(name)
