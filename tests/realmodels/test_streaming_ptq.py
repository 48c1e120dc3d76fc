"""PTQ of a real streaming model with resource variables, against what TensorFlow wrote.

okay_nabu (pymicro-wakeword) was converted by TF from a float streaming model with
`_experimental_variable_quantization = True`, int8 input, uint8 output, TFLITE_BUILTINS_INT8.
Undoing its quantization (floatify.py) gives that float model back as near as the file tells; our
PTQ of it with TF's settings must give TF's graph (same operators, tensor types, int8 resource
variables, and the very same int8 weights and per-channel scales), and run in LiteRT's reference
kernels as in eightbit over many invokes."""

from __future__ import annotations

import collections
from functools import lru_cache

import numpy as np
import pytest

import eightbit
from eightbit.quantize.converter import OpsSet, Optimize, TFLiteConverter
from tests.realmodels.floatify import floatify
from tests.realmodels.test_realmodels import MODELS, assert_close

WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def _original():
    return eightbit.load(MODELS["okay_nabu"][0].read_bytes())


def _frames(n=40, seed=0):
    t = _original().main.tensors[_original().main.inputs[0]]
    scale, zp = float(t.quantization.scale[0]), int(t.quantization.zero_point[0])
    rng = np.random.default_rng(seed)
    return [((rng.integers(-128, 20, (1, 3, 40)) - zp) * scale).astype(np.float32) for _ in range(n)]


@lru_cache(maxsize=2)
def _quantized(variables: bool) -> bytes:
    conv = TFLiteConverter.from_model(floatify(_original()))
    conv.optimizations = [Optimize.DEFAULT]
    frames = _frames()
    conv.representative_dataset = lambda: ([x] for x in frames)
    conv.target_spec.supported_ops = [OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type, conv.inference_output_type = np.int8, np.uint8
    conv._experimental_variable_quantization = variables
    return conv.convert()


def _op_counts(sg):
    return collections.Counter(op.op_type for op in sg.operators)


def test_ptq_of_the_float_streaming_model_gives_tfs_graph():
    tf_model, ours = _original(), eightbit.load(_quantized(True))
    assert len(ours.subgraphs) == 2
    for a, b in zip(tf_model.subgraphs, ours.subgraphs):
        assert _op_counts(b) == _op_counts(a)
        assert collections.Counter(t.type for t in b.tensors) == collections.Counter(t.type for t in a.tensors)
    for sg in ours.subgraphs:  # the state is int8 everywhere: reads, assigns, the initial values
        for op in sg.operators:
            if op.op_type in ("READ_VARIABLE", "ASSIGN_VARIABLE"):
                t = op.outputs[0] if op.op_type == "READ_VARIABLE" else op.inputs[1]
                assert sg.tensors[t].type == "INT8"
    mine = [op for op in ours.main.operators if op.op_type in WEIGHTED]
    theirs = [op for op in tf_model.main.operators if op.op_type in WEIGHTED]
    for a, b in zip(theirs, mine):
        wa, wb = tf_model.main.tensors[a.inputs[1]], ours.main.tensors[b.inputs[1]]
        np.testing.assert_array_equal(wb.data, wa.data)
        np.testing.assert_allclose(wb.quantization.scale, wa.quantization.scale, rtol=1e-6)


@pytest.mark.parametrize("variables", [True, False])
def test_quantized_streaming_model_runs_in_litert_as_in_eightbit_every_step(variables):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    data = _quantized(variables)
    q = eightbit.load(data)
    if not variables:  # TF's default: the state stays float, QUANTIZE / DEQUANTIZE around it
        assert all(q.main.tensors[op.outputs[0]].type == "FLOAT32" for op in q.main.operators
                   if op.op_type == "READ_VARIABLE")
    ref = Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                      experimental_preserve_all_tensors=True)
    ours = eightbit.Interpreter(model_content=data, experimental_preserve_all_tensors=True)
    for it in (ref, ours):
        it.allocate_tensors()
    compared = [d["index"] for d in ours.get_tensor_details() if np.dtype(d["dtype"]) in (np.int8, np.uint8)]
    t = q.main.tensors[q.main.inputs[0]]
    for step, x in enumerate(_frames(30, seed=1)):
        xq = np.clip(np.round(x / t.quantization.scale[0]) + t.quantization.zero_point[0], -128, 127).astype(np.int8)
        for it in (ref, ours):
            it.set_tensor(it.get_input_details()[0]["index"], xq)
            it.invoke()
        for i in compared:
            np.testing.assert_array_equal(ours.get_tensor(i), ref.get_tensor(i), err_msg=f"step {step}, tensor {i}")


def test_the_float_model_streams_in_eightbit_as_in_litert():
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    data = floatify(_original()).to_bytes()
    ref = Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    ours = eightbit.Interpreter(model_content=data)
    for it in (ref, ours):
        it.allocate_tensors()
    for step, x in enumerate(_frames(20, seed=2)):
        for it in (ref, ours):
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
        got, want = (it.get_tensor(it.get_output_details()[0]["index"]) for it in (ours, ref))
        assert_close([got], [want], f"step {step}")


@pytest.mark.parametrize("mode", ["dynamic", "float16", "int16x8"])
def test_other_modes_of_the_float_streaming_model_run_in_litert_as_in_eightbit(mode):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    conv = TFLiteConverter.from_model(floatify(_original()))
    conv.optimizations = [Optimize.DEFAULT]
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    if mode == "int16x8":
        frames = _frames(20)
        conv.representative_dataset = lambda: ([x] for x in frames)
        conv.target_spec.supported_ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        conv._experimental_variable_quantization = True
    data = conv.convert()
    if mode == "int16x8":
        q = eightbit.load(data)
        assert {q.main.tensors[op.outputs[0]].type for op in q.main.operators if op.op_type == "READ_VARIABLE"} \
            == {"INT16"}
    ref = Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    ours = eightbit.Interpreter(model_content=data)
    for it in (ref, ours):
        it.allocate_tensors()
    for step, x in enumerate(_frames(15, seed=3)):
        for it in (ref, ours):
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
        got, want = (it.get_tensor(it.get_output_details()[0]["index"]) for it in (ours, ref))
        assert_close([got], [want], f"{mode} step {step}")


@pytest.mark.slow
def test_check_models_script_passes_on_the_stored_models(capsys):
    from tests.realmodels import check_models

    assert check_models.main([str(MODELS["okay_nabu"][0]), "--floatify", "--steps", "5"]) == 0
    out = capsys.readouterr().out
    assert "okay_nabu[float]" in out and "ptq_int8 1/1" in out and "FAIL" not in out
