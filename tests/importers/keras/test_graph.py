"""Graph-level behaviour: Functional topologies, nested models, keras.ops nodes, signatures,
dynamic batch, unsupported layers in one error, files (.keras, .h5) and the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

import eightbit
from eightbit.errors import ModelError, UnsupportedOpError
from eightbit.importers.keras import import_keras, import_keras_file
from tests.importers.keras.helpers import (
    assert_close,
    check_float,
    check_int8,
    float_bytes,
    keras,
    predict,
    random_inputs,
    randomize,
)
from tests.oracle import run_eightbit, run_litert

L = keras.layers
ops = keras.ops


def multi_io_model():
    img = keras.Input((8, 8, 3), name="image")
    meta = keras.Input((4,), name="meta")
    x = L.Conv2D(4, 3, activation="relu")(img)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Concatenate()([x, L.Dense(4)(meta)])
    return keras.Model([img, meta], [L.Dense(3, name="logits")(x), L.Dense(1, activation="sigmoid", name="p")(x)])


def test_multi_input_output_and_signature():
    model = randomize(multi_io_model())
    inputs = random_inputs(model)
    data = check_float(model, inputs)
    check_int8(model, inputs, random_inputs(model, batch=4, seed=3))
    from ai_edge_litert.interpreter import Interpreter

    sigs = Interpreter(model_content=data).get_signature_list()
    assert sigs == {"serving_default": {"inputs": ["image", "meta"], "outputs": ["output_0", "output_1"]}}
    runner = Interpreter(model_content=data).get_signature_runner("serving_default")
    got = runner(image=inputs[0], meta=inputs[1])
    want = predict(model, inputs)
    assert_close([got["output_0"], got["output_1"]], want)


def test_nested_models_and_residual_reader():
    block = keras.Sequential([L.Conv2D(4, 3, padding="same"), L.BatchNormalization()], name="block")
    x = keras.Input((6, 6, 4))
    y = L.Add()([x, block(x)])
    z = L.Activation("relu")(y)  # y has another reader below: the ReLU must not be fused into the ADD
    out = L.Concatenate()([z, L.Conv2D(2, 1)(y)])
    model = randomize(keras.Model(x, out))
    inputs = random_inputs(model)
    check_float(model, inputs)
    check_int8(model, inputs, random_inputs(model, batch=4, seed=3))


def test_batchnorm_folded_into_conv():
    model = randomize(keras.Sequential([keras.Input((6, 6, 3)), L.Conv2D(4, 3), L.BatchNormalization(), L.ReLU()]))
    ops_used = [op.op_type for op in import_keras(model).model.main.operators]
    assert ops_used == ["CONV_2D"]
    check_float(model, random_inputs(model))


def test_keras_ops_nodes():
    x = keras.Input((4, 6))
    y = (x + 3.0) * (1.0 / 6.0)
    y = ops.reshape(y, (-1, 6, 4))
    y = ops.transpose(y, (0, 2, 1))
    y = ops.mean(y, axis=1, keepdims=True) - ops.max(y, axis=1, keepdims=True)
    z = ops.relu(x[:, 1:3, ::2]) / 2.0
    model = keras.Model(x, [y, ops.sqrt(ops.square(z) + 1.0)])
    inputs = random_inputs(model)
    check_float(model, inputs)
    check_int8(model, inputs, random_inputs(model, batch=4, seed=3))


def test_dynamic_batch():
    model = randomize(keras.Sequential([keras.Input((5, 5, 2)), L.Conv2D(3, 3), L.Flatten(), L.Dense(4)]))
    data = float_bytes(model)
    inputs = random_inputs(model, batch=3)
    want = predict(model, inputs)
    assert_close(run_eightbit(data, inputs), want)
    assert_close(run_litert(data, inputs), want)


class Doubler(L.Layer):
    def call(self, x):
        return x * 2


def test_every_unsupported_layer_in_one_error():
    x = keras.Input((6,))
    y = L.Lambda(lambda t: t + 1, name="plus_one")(x)
    y = Doubler(name="doubler")(y)
    y = L.Dense(3, activation=lambda t: t, name="dense_custom_act")(y)
    y = L.Lambda(lambda t: t * 3, name="times_three")(y)
    with pytest.raises(UnsupportedOpError) as e:
        import_keras(keras.Model(x, y))
    msg = str(e.value)
    for name in ("plus_one", "times_three", "doubler", "dense_custom_act", "Lambda", "Doubler", "Dense"):
        assert name in msg, msg
    assert "Lambda (keras.src.layers.core.lambda_layer) x2" in msg


def test_call_options_found_while_lowering_are_listed_together():
    q = keras.Input((4, 6))
    mask = keras.Input((4, 4), dtype="bool")
    y = L.MultiHeadAttention(2, 3, name="masked_mha")(q, q, attention_mask=mask)
    z = L.Attention(name="masked_attention")([q, q], mask=[None, None], return_attention_scores=True)[0]
    with pytest.raises(UnsupportedOpError) as e:
        import_keras(keras.Model([q, mask], [y, z]))
    assert "masked_mha" in str(e.value) and "masked_attention" in str(e.value), str(e.value)


def test_subclassed_and_unbuilt_models_are_clear_errors():
    class Net(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ModelError, match="subclassed"):
        import_keras(Net())
    with pytest.raises(ModelError, match="no input shape"):
        import_keras(keras.Sequential([L.Dense(2)]))


def test_eightbit_import_does_not_import_keras():
    code = ("import sys, eightbit, eightbit.converter, eightbit.importers.keras; "
            "print('keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_files(tmp_path, suffix):
    model = randomize(keras.Sequential([keras.Input((6, 6, 3)), L.Conv2D(4, 3, activation="relu"),
                                        L.BatchNormalization(), L.Flatten(), L.Dense(2, activation="softmax")]))
    path = tmp_path / f"model{suffix}"
    model.save(path)
    inputs = random_inputs(model)
    want = predict(model, inputs)
    imported = import_keras_file(path)
    assert imported.layout == "NHWC"
    data = eightbit.TFLiteConverter.from_keras_model_file(str(path)).convert()
    assert_close(run_eightbit(data, inputs), want)
    assert_close(run_litert(data, inputs), want)


def test_file_errors(tmp_path):
    with pytest.raises(ModelError, match="no such file"):
        import_keras_file(tmp_path / "missing.keras")
    bad = tmp_path / "model.pb"
    bad.write_bytes(b"x")
    with pytest.raises(ModelError, match="SavedModel"):
        import_keras_file(bad)
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="junk.keras"):
        import_keras_file(junk)


def test_cli_convert_dynamic_range(tmp_path):
    model = randomize(keras.Sequential([keras.Input((40,)), L.Dense(64), L.Dense(3)]))
    src, out = tmp_path / "m.keras", tmp_path / "m.tflite"
    model.save(src)
    from eightbit.cli import main

    assert main(["convert", "--keras_model_file", str(src), "--output_file", str(out), "--quantize", "dynamic"]) == 0
    types = {t.type for t in eightbit.load(out.read_bytes()).main.tensors if t.is_constant}
    assert "INT8" in types


@pytest.mark.parametrize("form", ["flags", "positional"])
def test_cli_convert(tmp_path, form):
    model = randomize(keras.Sequential([keras.Input((5, 5, 2)), L.Conv2D(3, 3), L.Flatten(), L.Dense(4)]))
    src, out = tmp_path / "m.keras", tmp_path / "m.tflite"
    model.save(src)
    args = ["--keras_model_file", str(src), "--output_file", str(out)] if form == "flags" else [str(src), "-o", str(out)]
    from eightbit.cli import main

    assert main(["convert", *args]) == 0
    inputs = random_inputs(model)
    assert_close(run_litert(out.read_bytes(), inputs), predict(model, inputs))


@pytest.mark.parametrize("kind", ["mha", "lstm", "gru_bidirectional", "time_distributed"])
def test_dynamic_batch_sequences(kind):
    x = keras.Input((5, 6))
    if kind == "mha":
        y = L.MultiHeadAttention(2, 3)(x, x, use_causal_mask=True)
    elif kind == "lstm":
        y = L.LSTM(4, return_sequences=True)(x)
    elif kind == "gru_bidirectional":
        y = L.Bidirectional(L.GRU(3))(x)
    else:
        y = L.TimeDistributed(L.Dense(2))(x)
    model = randomize(keras.Model(x, y))
    data = float_bytes(model)
    inputs = random_inputs(model, batch=3)
    want = predict(model, inputs)
    assert_close(run_eightbit(data, inputs), want)
    assert_close(run_litert(data, inputs), want)
