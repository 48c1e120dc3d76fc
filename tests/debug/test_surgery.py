"""Model surgery on real TF-made models; every edited file is run in LiteRT and in eightbit."""

from __future__ import annotations

import os

import numpy as np
import pytest

import eightbit
from eightbit.debug.surgery import Editor
from tests.oracle import run_eightbit, run_litert

MODELS = os.path.join(os.path.dirname(__file__), "..", "data", "conformance", "models")


def _path(name):
    return os.path.join(MODELS, f"{name}.tflite")


def _image(seed=0):
    return np.random.default_rng(seed).integers(-128, 128, (1, 8, 8, 1), dtype=np.int8)


def _same_in_litert(data: bytes, x):
    ours, ref = run_eightbit(data, [x]), run_litert(data, [x])
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a, b)
    return ours[0]


def test_find_by_type_pattern_and_exact_name():
    ed = Editor(_path("cnn__int8"))
    assert [op.name for op in ed.ops("conv_2d")] == ["CONV_2D", "CONV_2D"]
    assert ed.op("CONV_2D", 1) is ed.ops("CONV_2D")[1]
    assert ed.tensor("serving_default_image:0").index == 0
    assert ed.tensor("*average_pooling2d*").tensor.type == "INT8"
    with pytest.raises(eightbit.ModelError, match="tensors match"):
        ed.tensor("*conv2d*")
    with pytest.raises(eightbit.ModelError, match="no operator #5 of type CONV_2D"):
        ed.op("CONV_2D", 5)


def test_values_are_the_dequantized_constant():
    ed = Editor(_path("cnn__int8"))
    conv = ed.op("CONV_2D", 0)
    w = ed.tensor(conv.inputs[1])
    t = w.tensor
    expected = t.data.astype(np.float64) * t.quantization.scale.astype(np.float64).reshape(-1, 1, 1, 1)
    np.testing.assert_allclose(w.values(), expected.astype(np.float32), rtol=0, atol=0)
    with pytest.raises(eightbit.ModelError, match="not a constant"):
        ed.tensor(0).values()


def test_new_weight_scale_requantizes_and_bias_rule_is_checked():
    ed = Editor(_path("cnn__int8"))
    conv = ed.op("CONV_2D", 0)
    x, w, b = (ed.tensor(i) for i in conv.inputs[:3])
    before = w.values()
    new_scale = w.tensor.quantization.scale * np.float32(2.0)
    w.set_quantization(new_scale, 0, axis=0)
    # the coarser grid keeps every real value within half of a new step
    assert np.all(np.abs(w.values() - before) <= new_scale.reshape(-1, 1, 1, 1) / 2 * (1 + 1e-5))
    assert [v.rule for v in ed.check()] == ["bias_scale"]  # the bias no longer matches input x weight
    in_scale = x.tensor.quantization.scale[0]
    b.set_quantization(np.float32(in_scale) * new_scale, 0, axis=0)
    assert ed.check() == []
    _same_in_litert(ed.to_bytes(), _image())


def test_insert_and_remove_ops_rewire_consumers_and_outputs():
    ed = Editor(_path("opmix_act__int8"))
    original = _same_in_litert(ed.to_bytes(), _image(1))
    conv = ed.op("CONV_2D")
    relu = ed.insert_op("RELU", after=conv)  # the convolution's output goes negative: RELU changes it
    assert ed.index_of(relu) == ed.index_of(conv) + 1 and ed.op("RELU6").inputs[0] == relu.outputs[0]
    inserted = _same_in_litert(ed.to_bytes(), _image(1))
    assert not np.array_equal(original, inserted)  # the graph really changed...
    ed.remove_op(relu)  # ...and removing the op restores it
    np.testing.assert_array_equal(_same_in_litert(ed.to_bytes(), _image(1)), original)


def test_insert_after_the_last_op_moves_the_graph_output_and_signature():
    ed = Editor(_path("mlp__int8"))
    softmax = ed.op("SOFTMAX")
    new = ed.insert_op("RELU", after=softmax)
    assert ed.sg.outputs == new.outputs
    assert ed.model.signature_defs[0]["outputs"][0]["tensor_index"] == new.outputs[0]
    x = np.random.default_rng(2).integers(-128, 128, (1, 64), dtype=np.int8)
    _same_in_litert(ed.to_bytes(), x)


def test_remove_refuses_to_change_what_consumers_read():
    ed = Editor(_path("cnn__int8"))
    with pytest.raises(eightbit.ModelError, match="removing it would change"):
        ed.remove_op(ed.op("MAX_POOL_2D"))


def test_rename_updates_signature_and_refuses_duplicates():
    ed = Editor(_path("cnn__int8"))
    out = ed.sg.outputs[0]
    ed.rename(out, "probabilities")
    assert ed.tensor("probabilities").index == out
    with pytest.raises(eightbit.ModelError, match="exists already"):
        ed.rename(0, "probabilities")
    m = eightbit.load(ed.to_bytes())
    assert m.main.tensors[out].name == "probabilities"


def test_save_verifies_and_never_overwrites_unless_asked(tmp_path):
    ed = Editor(_path("cnn__int8"))
    p = tmp_path / "edited.tflite"
    assert ed.save(p) == []
    with pytest.raises(FileExistsError):
        ed.save(p)
    ed.tensor(ed.op("CONV_2D").inputs[1]).tensor.quantization.zero_point[:] = 1
    found = ed.save(p, overwrite=True)
    assert [v.rule for v in found] == ["weight_symmetric"]


def test_editing_never_touches_the_source_model():
    m = eightbit.load(_path("cnn__int8"))
    before = m.to_bytes()
    ed = Editor(m)
    ed.rename(0, "x")
    ed.insert_op("RELU", after=ed.op("CONV_2D"))
    assert m.to_bytes() == before
