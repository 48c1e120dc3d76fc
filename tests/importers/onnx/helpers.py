"""Build small ONNX models, run them in onnxruntime (the oracle), convert them with eightbit,
and compare in eightbit's interpreter and in LiteRT's reference kernels."""

from __future__ import annotations

import numpy as np

onnx = __import__("pytest").importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from tests.oracle import run_eightbit, run_litert  # noqa: E402


class C:
    """Marks a node argument as an initializer (a constant) instead of a graph input."""

    def __init__(self, value):
        self.value = np.asarray(value)


def one_node(op_type, args, attrs=None, opset=17, outputs=1, domain="", extra_nodes=()):
    """A model of one node. args: numpy arrays (graph inputs x0, x1, ...), C(array) constants,
    or None for an omitted optional input. Returns (ModelProto, feeds)."""
    inputs, feeds, inits, names = [], {}, [], []
    for k, a in enumerate(args):
        if a is None:
            names.append("")
        elif isinstance(a, C):
            name = f"c{k}"
            inits.append(numpy_helper.from_array(a.value, name))
            names.append(name)
        else:
            a = np.asarray(a)
            name = f"x{k}"
            inputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape))
            feeds[name] = a
            names.append(name)
    outs = [f"y{j}" for j in range(outputs)]
    node = helper.make_node(op_type, names, outs, domain=domain, **(attrs or {}))
    return graph_model([node, *extra_nodes], inputs, outs, inits, opset), feeds


def graph_model(nodes, inputs, output_names, inits=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_empty_tensor_value_info(o) for o in output_names],
                              initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = min(model.ir_version, 10)
    return with_output_types(model)


def with_output_types(model):
    """Graph outputs typed by ONNX shape inference (onnxruntime needs their element types)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for out in model.graph.output:
        if out.name in types and types[out.name].tensor_type.elem_type:
            out.type.CopyFrom(types[out.name])
        elif not out.type.tensor_type.elem_type:
            out.type.tensor_type.elem_type = TensorProto.FLOAT
    return model


def run_ort(model, feeds) -> list:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def convert(model, io_layout="keep", input_shapes=None, **settings) -> bytes:
    from eightbit.converter import TFLiteConverter

    conv = TFLiteConverter.from_onnx(model, input_shapes=input_shapes, io_layout=io_layout)
    for k, v in settings.items():
        setattr(conv, k, v)
    return conv.convert()


def assert_close(got, want, tol, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape} != onnxruntime {want.shape}"
    if want.dtype == np.bool_ or np.issubdtype(want.dtype, np.integer):
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    err = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
    assert err <= tol * max(scale, 1e-6) + 1e-6, f"{what}: max abs err {err:.3g} > {tol} x max|out| {scale:.3g}"


def check_against_ort(model, feeds, tol=1e-4, litert=True, io_layout="keep", input_shapes=None) -> bytes:
    """Convert, run in eightbit (and LiteRT), compare every output with onnxruntime's."""
    want = run_ort(model, feeds)
    data = convert(model, io_layout=io_layout, input_shapes=input_shapes)
    ins = [feeds[v.name] for v in model.graph.input if v.name in feeds]
    got = run_eightbit(data, ins)
    assert len(got) == len(want)
    for j, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, tol, f"eightbit output {j}")
    if litert:
        for j, (g, w) in enumerate(zip(litert_outputs(data, ins), want)):
            assert_close(g, w, tol, f"LiteRT output {j}")
    return data


def litert_outputs(data: bytes, ins) -> list:
    """LiteRT's reference kernels; its optimized builtins for the few ops BUILTIN_REF lacks (ELU)."""
    try:
        return run_litert(data, ins)
    except (ValueError, RuntimeError) as e:
        if "Didn't find op" not in str(e):
            raise
        return run_litert(data, ins, reference=False)
