"""Loading ONNX models (path, bytes, ModelProto, external data, opsets 11-21) and the errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from eightbit.errors import ModelError, UnsupportedOpError
from eightbit.importers.onnx import import_onnx
from tests.importers.onnx.helpers import C, check_against_ort, convert, graph_model, one_node, run_ort
from tests.oracle import run_eightbit

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

R = np.random.default_rng(1)


def small_cnn(opset=17, batch="N", height=8):
    """Conv -> Relu -> ReduceMean over H, W -> Softmax, written for the given opset's signatures."""
    w = numpy_helper.from_array(R.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(R.standard_normal(4).astype(np.float32), "b")
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"])]
    inits = [w, b]
    if opset >= 18:
        inits.append(numpy_helper.from_array(np.array([2, 3], np.int64), "axes"))
        nodes.append(helper.make_node("ReduceMean", ["r", "axes"], ["m"], keepdims=0))
    else:
        nodes.append(helper.make_node("ReduceMean", ["r"], ["m"], axes=[2, 3], keepdims=0))
    nodes.append(helper.make_node("Softmax", ["m"], ["y"], axis=-1 if opset >= 13 else 1))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, height, 8])
    return graph_model(nodes, [x], ["y"], inits, opset)


def feeds(batch=1, height=8):
    return {"x": R.standard_normal((batch, 3, height, 8)).astype(np.float32)}


@pytest.mark.parametrize("opset", [11, 12, 13, 15, 17, 18, 19, 20, 21])
def test_opsets_11_to_21(opset):
    check_against_ort(small_cnn(opset, batch=1), feeds())


@pytest.mark.parametrize("opset", [6, 9])
def test_older_opsets(opset):
    model, f = one_node("Relu", [R.standard_normal((2, 3)).astype(np.float32)], opset=opset)
    check_against_ort(model, f)


def test_path_bytes_and_proto_give_the_same_model(tmp_path):
    model = small_cnn(batch=1)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    blobs = {kind: convert(src)
             for kind, src in (("proto", model), ("bytes", model.SerializeToString()), ("path", path),
                               ("str", str(path)))}
    assert len(set(blobs.values())) == 1


def test_the_callers_proto_is_not_changed():
    model = small_cnn(batch="N")
    before = model.SerializeToString()
    import_onnx(model)
    assert model.SerializeToString() == before


def test_external_data_file(tmp_path):
    model = small_cnn(batch=1)
    path = tmp_path / "ext.onnx"
    onnx.save(onnx.ModelProto.FromString(model.SerializeToString()), path, save_as_external_data=True,
              all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    assert (tmp_path / "weights.bin").exists()
    f = feeds()
    want = run_ort(model, f)[0]
    got = run_eightbit(convert(path), [f["x"]])[0]
    np.testing.assert_allclose(got, want, atol=1e-5 * np.abs(want).max())


def test_bytes_with_external_data_is_a_clear_error(tmp_path):
    path = tmp_path / "ext.onnx"
    onnx.save(small_cnn(batch=1), path, save_as_external_data=True, location="w.bin", size_threshold=0)
    with pytest.raises(ModelError, match="external data; pass the .onnx file's path"):
        import_onnx(path.read_bytes())


def test_missing_external_data_file(tmp_path):
    path = tmp_path / "ext.onnx"
    onnx.save(small_cnn(batch=1), path, save_as_external_data=True, location="w.bin", size_threshold=0)
    (tmp_path / "w.bin").unlink()
    with pytest.raises(ModelError, match="ext.onnx"):
        import_onnx(path)


@pytest.mark.parametrize("data, match", [
    (b"\x00\x01garbage that is not protobuf\xff\xff", "not a valid ONNX model|not an ONNX model"),
    (b"", "not an ONNX model"),
    (b"\x1c\x00\x00\x00TFL3" + b"\x00" * 32, "a .tflite model"),
    (b"PK\x03\x04" + b"\x00" * 32, "zip archive"),
])
def test_malformed_or_other_formats_are_model_errors(data, match):
    with pytest.raises(ModelError, match=match):
        import_onnx(data)


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="no such file"):
        import_onnx(tmp_path / "nope.onnx")


def test_every_unsupported_node_is_listed_once():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    nodes = [helper.make_node("Relu", ["x"], ["a"]),
             helper.make_node("Det", ["a"], ["d1"], name="det_first"),
             helper.make_node("Det", ["a"], ["d2"], name="det_second"),
             helper.make_node("Frobnicate", ["a"], ["f"], domain="com.example", name="frob"),
             helper.make_node("Add", ["d1", "d2"], ["s"]),
             helper.make_node("Mul", ["s", "f"], ["y"])]
    graph = helper.make_graph(nodes, "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    with pytest.raises(UnsupportedOpError) as err:
        import_onnx(model)
    items = {name: (count, reason) for name, _, count, reason in err.value.unsupported}
    assert set(items) == {"Det", "com.example::Frobnicate"}
    assert items["Det"][0] == 2 and "det_first, det_second" in items["Det"][1]
    assert items["com.example::Frobnicate"][0] == 1 and "frob" in items["com.example::Frobnicate"][1]
    assert "2 unsupported operator(s)" in str(err.value)


def test_unsupported_variant_names_the_reason():
    model, _ = one_node("Resize", [R.standard_normal((1, 2, 4, 4)).astype(np.float32), None,
                                   C(np.array([1, 1, 2, 2], np.float32))], {"mode": "cubic"})
    with pytest.raises(UnsupportedOpError, match="Resize.*mode 'cubic'"):
        import_onnx(model)


def test_linear_resize_with_a_fractional_scale_is_refused_not_approximated():
    model, _ = one_node("Resize", [R.standard_normal((1, 2, 5, 5)).astype(np.float32), None,
                                   C(np.array([1, 1, 1.5, 1.5], np.float32))], {"mode": "linear"})
    with pytest.raises(UnsupportedOpError, match="whole output sizes"):
        import_onnx(model)


def test_dynamic_dimension_asks_for_input_shapes():
    model = small_cnn(batch="N", height="H")
    with pytest.raises(ModelError, match=r"input 'x' has dynamic dimension 2 \('H'\).*input_shapes=\{'x'"):
        import_onnx(model)
    f = feeds(batch=2, height=6)
    want = run_ort(model, f)[0]
    got = run_eightbit(convert(model, input_shapes={"x": [2, 3, 6, 8]}), [f["x"]])[0]
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_dynamic_batch_alone_defaults_to_one_with_a_note():
    imported = import_onnx(small_cnn(batch="N"))
    assert imported.model.main.tensors[imported.model.main.inputs[0]].shape == (1, 3, 8, 8)
    assert any("batch" in n and "set to 1" in n for n in imported.notes)


@pytest.mark.parametrize("shapes, match", [
    ({"y": [1, 3, 8, 8]}, r"input_shapes names \['y'\]"),
    ({"x": [1, 3, 8]}, "rank 3"),
    ({"x": [1, -3, 8, 8]}, "non-negative"),
])
def test_bad_input_shapes_are_rejected(shapes, match):
    with pytest.raises(ModelError, match=match):
        import_onnx(small_cnn(), input_shapes=shapes)


def test_onnx_is_imported_lazily_and_missing_onnx_is_explained():
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import eightbit.importers.onnx as m\n"
            "try:\n    m.import_onnx(b'x')\nexcept ImportError as e:\n    print('ERR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'eightbit[onnx]'" in out


def test_imported_graph_contract():
    imported = import_onnx(small_cnn())
    assert imported.layout == "NCHW" and not imported.quantized
    conv = [op for op in imported.model.main.operators if op.op_type == "CONV_2D"]
    assert len(conv) == 1 and conv[0].extra["layout"] == "NCHW"
    assert imported.model.main.tensors[conv[0].inputs[1]].shape == (4, 3, 3, 3)  # ONNX's OIHW, untouched
    assert all(op.options_type or not op.options for op in imported.model.main.operators)


def test_float16_model_is_imported_as_float32():
    """A model exported in half precision (weights, activations, a Cast to float16 inside)."""
    w = numpy_helper.from_array(R.standard_normal((4, 3, 3, 3)).astype(np.float16), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Cast", ["c"], ["c32"], to=TensorProto.FLOAT),
             helper.make_node("Relu", ["c32"], ["r"]),
             helper.make_node("Cast", ["r"], ["y"], to=TensorProto.FLOAT16)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 3, 6, 6])
    model = graph_model(nodes, [x], ["y"], [w])
    f = {"x": R.standard_normal((1, 3, 6, 6)).astype(np.float16)}
    want = run_ort(model, f)[0].astype(np.float32)
    imported = import_onnx(model)
    assert any("float16" in n for n in imported.notes)
    got = run_eightbit(convert(model), [f["x"].astype(np.float32)])[0]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=5e-3 * np.abs(want).max())


def test_if_with_a_condition_known_at_import_is_inlined():
    """torch.jit-style shape check: If(Shape(x)[1] == 3) then Relu(x) * 2 else Neg(x)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t0"]),
                                helper.make_node("Mul", ["t0", "two"], ["t1"])], "then", [],
                               [helper.make_tensor_value_info("t1", TensorProto.FLOAT, [2, 3])],
                               initializer=[numpy_helper.from_array(np.float32(2.0), "two")])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e0"])], "else", [],
                               [helper.make_tensor_value_info("e0", TensorProto.FLOAT, [2, 3])])
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "one"], ["d"], axis=0),
             helper.make_node("Equal", ["d", "three"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    inits = [numpy_helper.from_array(np.array(1, np.int64), "one"), numpy_helper.from_array(np.array(3, np.int64), "three")]
    model = graph_model(nodes, [x], ["y"], inits)
    data = check_against_ort(model, {"x": R.standard_normal((2, 3)).astype(np.float32)})
    from eightbit import load

    assert [op.op_type for op in load(data).main.operators] == ["RELU", "MUL"]


def test_if_on_run_time_data_is_unsupported():
    x = helper.make_tensor_value_info("x", TensorProto.BOOL, [])
    branch = helper.make_graph([helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(
        np.ones(2, np.float32)))], "b", [], [helper.make_tensor_value_info("k", TensorProto.FLOAT, [2])])
    model = graph_model([helper.make_node("If", ["x"], ["y"], then_branch=branch, else_branch=branch)], [x], ["y"])
    with pytest.raises(UnsupportedOpError, match="If.*run time"):
        import_onnx(model)
