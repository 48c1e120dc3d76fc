"""Each named stage of full-integer PTQ (quantize/ptq.py) on its own, on the corpus float models,
against TensorFlow's own int8 / int16x8 models of the same float model and calibration data (the
oracle: its converter chose those parameters, weights and operators)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

import eightbit
from eightbit.passes import optimize
from eightbit.quantize.calibration import calibrate, ranges
from eightbit.quantize.ptq import PtqState, QuantizationError, Report, plan_operators
from eightbit.quantize.ptq_choose import choose_params
from eightbit.quantize.ptq_constants import quantize_constants
from eightbit.quantize.ptq_rewrite import finish, requantize_shared, rewrite_types
from eightbit.quantize.versions import min_runtime_version, update_versions
from tests.quantize.helpers import calib_gen, float_model_path, tf_model


@cache
def _ranges(name: str) -> dict:
    m = eightbit.load(float_model_path(name))
    optimize(m)
    return ranges(calibrate(m, calib_gen(name), "minmax", progress=False))


def _state(name: str, act: str = "INT8", report: Report | None = None) -> PtqState:
    m = eightbit.load(float_model_path(name))
    optimize(m)
    st = PtqState(m.main, act, _ranges(name), len(m.main.tensors))
    st.plans = plan_operators(m.main, act, report=report or Report())
    st.model = m
    return st


def _tf_tensors(name: str, variant: str = "int8_floatio") -> dict:
    return {t.name: t for t in tf_model(name, variant).main.tensors}


def test_plan_operators_follows_the_table():
    report = Report()
    st = _state("opmix_hswish", "INT16", report)
    kept = {st.sg.operators[k].op_type for k, _, _ in report.float_ops}
    assert kept == {"HARD_SWISH", "PRELU"}  # no int16 kernel in TFLite (their ptq types are int8)
    assert all("no int16 kernel" in why for _, _, why in report.float_ops)
    conv = next(pl for pl in st.plans.values() if pl.spec.name == "CONV_2D")
    assert (conv.act_in, conv.weights, conv.bias) == ([0], [1], 2)
    with pytest.raises(QuantizationError, match="HARD_SWISH"):
        plan_operators(st.sg, "INT16", allow_float=False, report=Report())


def test_plan_operators_denylist_keeps_ops_float():
    m = eightbit.load(float_model_path("cnn"))
    report = Report()
    plans = plan_operators(m.main, "INT8", denylist=["SOFTMAX"], report=report)
    assert [m.main.operators[k].op_type for k, _, why in report.float_ops if why == "denylisted"] == ["SOFTMAX"]
    assert all(m.main.operators[k].op_type != "SOFTMAX" for k in plans)


@pytest.mark.parametrize("name", ["cnn", "dwsep", "mlp"])
def test_choose_params_are_tensorflows(name):
    """Every activation's scale and zero point is the one TF's converter chose (same calibration)."""
    st = _state(name)
    choose_params(st)
    tf = _tf_tensors(name)
    compared = 0
    for t, p in st.params.items():
        theirs = tf.get(st.sg.tensors[t].name)
        if theirs is None or theirs.type != "INT8" or st.sg.tensors[t].is_constant:
            continue
        assert int(p.zero_point[0]) == int(theirs.quantization.zero_point[0]), st.sg.tensors[t].name
        assert np.isclose(float(p.scale[0]), float(theirs.quantization.scale[0]), rtol=1e-6)
        compared += 1
    assert compared >= 2


def test_choose_params_fixed_and_shared():
    st = _state("cnn")
    choose_params(st)
    sg = st.sg
    for k in st.plans:
        op = sg.operators[k]
        if op.op_type == "SOFTMAX":  # the table's fixed output
            p = st.params[op.outputs[0]]
            assert (float(p.scale[0]), int(p.zero_point[0])) == (1 / 256, -128)
        if op.op_type in ("MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE"):  # same_scale
            assert st.params[op.outputs[0]].same(st.params[op.inputs[0]])


def test_quantize_constants_are_tensorflows_weights():
    st = _state("cnn")
    choose_params(st)
    quantize_constants(st, per_channel=True, bias_overflow="widen_weight_scale", report=Report())
    tf = _tf_tensors("cnn")
    checked = 0
    for i in st.new_inputs.values():
        t = st.sg.tensors[i]
        theirs = tf.get(t.name)
        if theirs is None or theirs.type != t.type:
            continue
        assert np.array_equal(t.data, theirs.data), t.name
        assert np.allclose(t.quantization.scale, theirs.quantization.scale, rtol=1e-6), t.name
        checked += 1
    kinds = {st.sg.tensors[i].type for i in st.new_inputs.values()}
    assert checked >= 4 and kinds == {"INT8", "INT32"}


def test_quantize_constants_bias_overflow_error():
    st = _state("cnn")
    choose_params(st)
    k = next(k for k, pl in st.plans.items() if pl.bias is not None)
    op = st.sg.operators[k]
    bias = st.sg.tensors[op.inputs[st.plans[k].bias]]
    bias.set_data(np.full_like(bias.data, 1e30))
    with pytest.raises(QuantizationError, match=f"operator {k}"):
        quantize_constants(st, per_channel=True, bias_overflow="error", report=Report())


@pytest.mark.parametrize("io", ["FLOAT32", "INT8"])
def test_rewrite_types_and_finish_give_tensorflows_operators(io):
    st = _state("cnn")
    report = Report()
    choose_params(st)
    quantize_constants(st, True, "widen_weight_scale", report)
    rewrite_types(st, io, io)
    requantize_shared(st, report)
    finish(st, report)
    ops = [op.op_type for op in st.sg.operators]
    tf_ops = [op.op_type for op in tf_model("cnn", "int8_floatio").main.operators]
    if io == "FLOAT32":
        assert ops == tf_ops  # QUANTIZE first, DEQUANTIZE last, as TF's
    else:
        assert ops == [o for o in tf_ops if o not in ("QUANTIZE", "DEQUANTIZE")]
        assert st.sg.tensors[st.sg.inputs[0]].type == "INT8" and st.sg.tensors[st.sg.outputs[0]].type == "INT8"
    assert report.quantized_ops == {o: tf_ops.count(o) for o in set(tf_ops) - {"QUANTIZE", "DEQUANTIZE"}}
    for op in st.sg.operators:
        if op.op_type not in ("QUANTIZE", "DEQUANTIZE"):
            assert all(st.sg.tensors[t].type != "FLOAT32" for t in op.inputs + op.outputs if t >= 0)


def test_finish_sets_int16_options_and_versions_are_the_rules():
    st = _state("mlp", "INT16")
    report = Report()
    choose_params(st)
    quantize_constants(st, True, "widen_weight_scale", report)
    rewrite_types(st, "FLOAT32", "FLOAT32")
    requantize_shared(st, report)
    finish(st, report)
    fcs = [op for op in st.sg.operators if op.op_type == "FULLY_CONNECTED"]
    assert fcs and all(op.options["quantized_bias_type"] == 4 for op in fcs)
    update_versions(st.model)
    assert {op.version for op in fcs} == {11}  # int16 x int8 with an int64 bias type
    # SOFTMAX 3 (int16) needs 2.3.0; FULLY_CONNECTED 11 has no runtime_version.cc entry: skipped as TF does
    assert min_runtime_version(st.model) == "2.3.0"


def test_requantize_shared_inserts_quantize_where_fixed_choices_meet():
    """opmix_shape concatenates tensors of different ranges; TF's model requantizes the same way."""
    st = _state("opmix_shape")
    report = Report()
    choose_params(st)
    quantize_constants(st, True, "widen_weight_scale", report)
    rewrite_types(st, "FLOAT32", "FLOAT32")
    requantize_shared(st, report)
    tf_ops = [op.op_type for op in tf_model("opmix_shape", "int8_floatio").main.operators]
    # TF's QUANTIZE ops beyond the one on the graph input are its requantizations.
    assert report.requantize_ops == tf_ops.count("QUANTIZE") - 1
