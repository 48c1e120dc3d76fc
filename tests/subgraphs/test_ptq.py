"""PTQ of models with several subgraphs (variables, IF, WHILE): every mode gives a file LiteRT runs
with the outputs eightbit gives (tests/conftest.py also checks each file with our verifier), the
operators inside called subgraphs are quantized, values crossing IF / WHILE as integers carry one
set of parameters on both sides, and resource variables hold integers when asked
(TF's `_experimental_variable_quantization`)."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.quantize.converter import OpsSet, Optimize, TFLiteConverter
from tests.oracle import run_eightbit, run_litert
from tests.realmodels.test_realmodels import assert_close
from tests.subgraphs import models

BUILDERS = [models.streaming_accumulator, models.if_model, models.while_model, models.rnn_while_model,
            models.fc_if_model, models.fc_streaming_model, models.growing_while_model, models.nested_model]
COMPUTE = {"ADD", "MUL", "FULLY_CONNECTED", "TANH", "CONCATENATION", "LESS"}  # NEG has no integer kernel


def _samples(m, n=4, seed=0):
    """n samples; a boolean input alternates, so both IF branches run during calibration."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        sample = []
        for i in m.main.inputs:
            t = m.main.tensors[i]
            sample.append(np.array([k % 2 == 0]) if t.dtype == np.bool_ else rng.uniform(0, 1, t.shape).astype(t.dtype))
        out.append(sample)
    return out


def _convert(m, mode, variables=False, integer_io=False):
    conv = TFLiteConverter.from_model(m)
    conv.optimizations = [Optimize.DEFAULT]
    data = _samples(m)
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    if mode in ("int8", "int16x8"):
        conv.representative_dataset = lambda: iter(data)
    if mode == "int16x8":
        conv.target_spec.supported_ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                                          OpsSet.TFLITE_BUILTINS]
    if integer_io:
        conv.target_spec.supported_ops = [OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = conv.inference_output_type = np.int8
    conv._experimental_variable_quantization = variables
    return conv.convert(), conv.report


def _same_outputs(out, m):
    for sample in _samples(m, 2, seed=1):
        ins = eightbit.load(out)
        sample = [x if ins.main.tensors[i].type != "INT8" else
                  np.clip(np.round(x / ins.main.tensors[i].quantization.scale[0])
                          + ins.main.tensors[i].quantization.zero_point[0], -128, 127).astype(np.int8)
                  for i, x in zip(ins.main.inputs, sample)]
        # integers equal; floats within 1e-4 of the output's magnitude (float TANH: numpy's tanh and
        # glibc's tanhf, which LiteRT calls, differ in the last bit on some inputs)
        assert_close(run_eightbit(out, sample), run_litert(out, sample), "eightbit vs LiteRT")


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize("mode", ["dynamic", "float16", "int8", "int16x8"])
def test_every_mode_runs_in_litert_as_in_eightbit(build, mode):
    m = eightbit.load(build())
    out, _ = _convert(m, mode)
    assert len(eightbit.load(out).subgraphs) == len(m.subgraphs)
    _same_outputs(out, m)


def _params(sg, t):
    q = sg.tensors[t].quantization
    return sg.tensors[t].type, float(q.scale[0]), int(q.zero_point[0])


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize("mode", ["int8", "int16x8"])
def test_operators_inside_called_subgraphs_are_quantized(build, mode):
    out, report = _convert(eightbit.load(build()), mode)
    q = eightbit.load(out)
    act = "INT8" if mode == "int8" else "INT16"
    for s, sg in enumerate(q.subgraphs):
        for op in sg.operators:
            if op.op_type in COMPUTE and not (mode == "int16x8" and op.op_type == "LESS"):  # no int16 LESS
                assert sg.tensors[op.inputs[0]].type in (act, "INT32"), (s, op.op_type)  # int32: counters
    assert not any("never ran" in w for w in report.warnings)


@pytest.mark.parametrize("mode", ["int8", "int16x8"])
def test_while_values_share_parameters_across_subgraphs(mode):
    q = eightbit.load(_convert(eightbit.load(models.rnn_while_model()), mode)[0])
    main, cond, body = q.subgraphs
    loop = next(op for op in main.operators if op.op_type == "WHILE")
    for j in range(3):
        want = _params(main, loop.inputs[j])
        assert want[0] == ("INT8" if mode == "int8" else "INT16")
        assert _params(main, loop.outputs[j]) == want
        assert _params(cond, cond.inputs[j]) == want
        assert _params(body, body.inputs[j]) == want
        assert _params(body, body.outputs[j]) == want


def test_if_values_share_parameters_across_subgraphs():
    q = eightbit.load(_convert(eightbit.load(models.fc_if_model()), "int8")[0])
    main, *branches = q.subgraphs
    op = next(op for op in main.operators if op.op_type == "IF")
    for b in branches:
        assert _params(b, b.inputs[0]) == _params(main, op.inputs[1])
        assert _params(b, b.outputs[0]) == _params(main, op.outputs[0])
        assert all(b.tensors[o.inputs[0]].type == "INT8" for o in b.operators)


@pytest.mark.parametrize("build", [models.streaming_accumulator, models.fc_streaming_model])
@pytest.mark.parametrize("mode", ["int8", "int16x8"])
def test_resource_variables_quantized_when_asked(build, mode):
    m = eightbit.load(build())
    plain, _ = _convert(m, mode)
    out, report = _convert(m, mode, variables=True)
    act = "INT8" if mode == "int8" else "INT16"

    def variable_io(data):
        q = eightbit.load(data)
        seen = set()
        for sg in q.subgraphs:
            for op in sg.operators:
                if op.op_type == "READ_VARIABLE":
                    seen.add(_params(sg, op.outputs[0]) if sg.tensors[op.outputs[0]].type != "FLOAT32" else "FLOAT32")
                if op.op_type == "ASSIGN_VARIABLE":
                    t = op.inputs[1]
                    seen.add(_params(sg, t) if sg.tensors[t].type != "FLOAT32" else "FLOAT32")
        return seen

    assert variable_io(plain) == {"FLOAT32"}  # TF's default: the state stays float
    seen = variable_io(out)
    assert len(seen) == 1 and next(iter(seen))[0] == act  # one set of parameters: reads, assigns, initialiser
    assert report.passes["quantized_variables"] == 1
    _stream_same(out, m)


def _stream_same(out, m, steps=12):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    ref = Interpreter(model_content=out, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    ours = eightbit.Interpreter(model_content=out)
    for it in (ref, ours):
        it.allocate_tensors()
    for k, sample in enumerate(_samples(m, steps, seed=4)):
        for it in (ref, ours):
            for d, x in zip(it.get_input_details(), sample):
                it.set_tensor(d["index"], x)
            it.invoke()
        for a, b in zip(ours.get_output_details(), ref.get_output_details()):
            assert_close([ours.get_tensor(a["index"])], [ref.get_tensor(b["index"])], f"step {k}")


@pytest.mark.parametrize("build", [models.rnn_while_model, models.fc_if_model, models.fc_streaming_model])
def test_integer_only_io(build):
    m = eightbit.load(build())
    out, report = _convert(m, "int8", variables=True, integer_io=True)
    q = eightbit.load(out)
    assert all(q.main.tensors[i].type in ("INT8", "BOOL") for i in q.main.inputs + q.main.outputs)
    _same_outputs(out, m)


def test_a_branch_calibration_never_reached_stays_float_with_a_warning():
    m = eightbit.load(models.fc_if_model())
    conv = TFLiteConverter.from_model(m)
    conv.optimizations = [Optimize.DEFAULT]
    data = [[np.array([True]), np.full((1, 5), 0.5, np.float32)]]
    conv.representative_dataset = lambda: iter(data)
    q = eightbit.load(conv.convert())
    assert any("subgraph 2 ('else') never ran during calibration" in w for w in conv.report.warnings)
    assert any(q.subgraphs[2].tensors[o.outputs[0]].type == "FLOAT32" for o in q.subgraphs[2].operators)
    assert all(q.subgraphs[1].tensors[o.inputs[0]].type == "INT8" for o in q.subgraphs[1].operators)


@pytest.mark.parametrize("mode", ["dynamic", "float16"])
def test_weight_only_modes_reach_the_weights_inside_called_subgraphs(mode):
    m = eightbit.load(models.rnn_while_model(n=40))
    out, report = _convert(m, mode)
    q = eightbit.load(out)
    body = q.subgraphs[2]
    fc = next(op for op in body.operators if op.op_type == "FULLY_CONNECTED")
    assert body.tensors[fc.inputs[1]].type == ("INT8" if mode == "dynamic" else "FLOAT16") or any(
        body.tensors[o.inputs[0]].type == "FLOAT16" for o in body.operators if o.op_type == "DEQUANTIZE")
    assert any("z_w" in n for n in report.quantized_weights)
    _same_outputs(out, m)


def test_float_operators_in_a_called_subgraph_are_named_once_with_their_subgraph():
    m = eightbit.load(models.nested_model())
    _, report = _convert(m, "int8")
    assert [w for w in report.warnings if "kept in float" in w] == [
        "subgraph 2 ('else'): kept in float (DEQUANTIZE / QUANTIZE inserted around them): NEG (no integer kernel in TFLite)"]
    conv = TFLiteConverter.from_model(m)
    conv.optimizations = [Optimize.DEFAULT]
    conv.representative_dataset = lambda: iter(_samples(m))
    conv.target_spec.supported_ops = [OpsSet.TFLITE_BUILTINS_INT8]
    with pytest.raises(ValueError, match=r"^subgraph 2 \('else'\): full integer quantization .* NEG"):
        conv.convert()


def test_subgraphs_called_from_two_operators_are_quantized_inside_and_crossed_in_float():
    m = eightbit.load(models.shared_body_model())
    out, report = _convert(m, "int8")
    q = eightbit.load(out)
    assert [w for w in report.warnings if "elsewhere" in w] == [
        "WHILE in subgraph 0, WHILE in subgraph 0: their subgraphs are called from elsewhere too: values cross them "
        "in float"]
    body = q.subgraphs[2]
    assert body.tensors[body.inputs[1]].type == "FLOAT32"
    fc = next(op for op in body.operators if op.op_type == "FULLY_CONNECTED")
    assert body.tensors[fc.inputs[0]].type == "INT8"
    _same_outputs(out, m)


def test_int8_only_refuses_a_subgraph_calibration_never_reached():
    m = eightbit.load(models.fc_if_model())
    conv = TFLiteConverter.from_model(m)
    conv.optimizations = [Optimize.DEFAULT]
    conv.representative_dataset = lambda: iter([[np.array([True]), np.full((1, 5), 0.5, np.float32)]])
    conv.target_spec.supported_ops = [OpsSet.TFLITE_BUILTINS_INT8]
    with pytest.raises(ValueError, match=r"^subgraph 2 \('else'\) never ran during calibration, .* reach it$"):
        conv.convert()


@pytest.mark.parametrize("flag", [[], ["--quantize-variables"]])
def test_cli_quantizes_variables_when_asked(tmp_path, flag, capsys):
    from eightbit.cli import main

    src, data, out = tmp_path / "stream.tflite", tmp_path / "x.npy", tmp_path / "q.tflite"
    src.write_bytes(models.fc_streaming_model())
    np.save(data, np.random.default_rng(0).uniform(0, 1, (6, 1, 4)).astype(np.float32))
    assert main(["quantize", str(src), "-o", str(out), "--mode", "int8", "--data", str(data), *flag]) in (0, None)
    q = eightbit.load(out.read_bytes())
    read = next(op for op in q.main.operators if op.op_type == "READ_VARIABLE")
    assert q.main.tensors[read.outputs[0]].type == ("INT8" if flag else "FLOAT32")
