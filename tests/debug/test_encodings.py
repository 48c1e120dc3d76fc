"""apply_encodings: AIMET encodings become TFLite parameters by AIMET's definition
(real = (q + offset) * scale on the unsigned grid), and the result still runs in LiteRT."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import eightbit
from eightbit.debug.encodings import apply_encodings, parse_encodings
from eightbit.debug.spec import check_spec
from tests.oracle import run_eightbit, run_litert

MODEL = os.path.join(os.path.dirname(__file__), "..", "data", "conformance", "models", "cnn__int8.tflite")


def _names():
    m = eightbit.load(MODEL)
    sg = m.main
    conv = next(op for op in sg.operators if op.op_type == "CONV_2D")
    return sg.tensors[conv.outputs[0]].name, sg.tensors[conv.inputs[1]].name, m


def _classic(weight_bits=8):
    act, weight, _ = _names()
    w_scales = [0.01 + 0.001 * c for c in range(8)]
    half = 1 << (weight_bits - 1)
    return {
        "activation_encodings": {"conv1_out": [{"bitwidth": 8, "scale": 0.02, "offset": -10, "min": -0.2,
                                                "max": 4.9, "is_symmetric": "False"}]},
        "param_encodings": {"conv1.weight": [{"bitwidth": weight_bits, "scale": s, "offset": -half,
                                              "is_symmetric": "True"} for s in w_scales]},
    }, {"conv1_out": act, "conv1.weight": weight}, w_scales


def test_parameters_follow_aimets_definition_and_the_model_runs():
    enc, names, w_scales = _classic()
    result = apply_encodings(MODEL, enc, names=names)
    assert result.unmatched == [] and len(result.applied) == 2
    sg = result.model.main
    ed = result.editor
    act = ed.tensor(names["conv1_out"]).tensor.quantization
    # AIMET offset -10 -> zero point 10 on the uint8 grid -> 10 - 128 = -118 in int8
    assert act.zero_point.tolist() == [-118] and act.scale.tolist() == [np.float32(0.02)]
    w = ed.tensor(names["conv1.weight"]).tensor.quantization
    assert w.zero_point.tolist() == [0] * 8 and w.scale.tolist() == np.float32(w_scales).tolist()
    # the max pool after the convolution shares its parameters; the bias follows input x weight
    pool = next(op for op in sg.operators if op.op_type == "MAX_POOL_2D")
    assert sg.tensors[pool.outputs[0]].quantization.zero_point.tolist() == [-118]
    assert check_spec(result.model) == []
    data = result.model.to_bytes()
    x = np.random.default_rng(0).integers(-128, 128, (1, 8, 8, 1), dtype=np.int8)
    np.testing.assert_array_equal(run_eightbit(data, [x])[0], run_litert(data, [x])[0])


def test_four_bit_weights_keep_their_range_in_int8():
    enc, names, _ = _classic(weight_bits=4)
    result = apply_encodings(MODEL, enc, names=names)
    w = result.editor.tensor(names["conv1.weight"]).tensor
    assert w.type == "INT8" and w.data.min() >= -8 and w.data.max() <= 7
    assert w.quantization.zero_point.tolist() == [0] * 8  # offset -8 on a 4-bit grid is symmetric
    assert check_spec(result.model) == []


def test_versioned_layout_gives_the_same_model():
    enc, names, w_scales = _classic()
    versioned = {"version": "1.0.0",
                 "activation_encodings": [{"name": "conv1_out", "bw": 8, "dtype": "INT", "enc_type": "PER_TENSOR",
                                           "is_sym": False, "scale": [0.02], "offset": [-10]}],
                 "param_encodings": [{"name": "conv1.weight", "bw": 8, "dtype": "INT", "enc_type": "PER_CHANNEL",
                                      "is_sym": True, "scale": w_scales, "offset": [-128] * 8}]}
    a = apply_encodings(MODEL, enc, names=names).model.to_bytes()
    b = apply_encodings(MODEL, json.dumps(versioned), names=names).model.to_bytes()
    assert a == b


def test_unmatched_and_unfit_encodings_are_reported_or_refused(tmp_path):
    enc, names, _ = _classic()
    enc["activation_encodings"]["nowhere"] = [{"bitwidth": 8, "scale": 0.1, "offset": 0}]
    enc["activation_encodings"]["wide"] = [{"bitwidth": 16, "scale": 0.1, "offset": -32768}]
    names["wide"] = names["conv1_out"]
    path = tmp_path / "enc.json"
    path.write_text(json.dumps(enc))
    result = apply_encodings(MODEL, str(path), names=names)
    assert result.unmatched == ["nowhere"]
    assert any("16-bit encoding does not fit INT8" in n for n in result.notes)
    with pytest.raises(eightbit.ModelError, match="nowhere: no tensor"):
        apply_encodings(MODEL, enc, names=names, strict=True)


@pytest.mark.parametrize("bad,match", [
    ("{not json", "not JSON"),
    ({"weights": {}}, "activation_encodings"),
    ({"activation_encodings": {"a": [{"scale": 0.1}]}}, "needs bitwidth, scale and offset"),
])
def test_malformed_encodings_are_one_clear_error(bad, match):
    with pytest.raises(eightbit.ModelError, match=match):
        parse_encodings(bad)
