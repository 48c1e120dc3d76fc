"""Train a small Keras CNN on the bundled digits, convert it in every mode and compare accuracy
with Keras's own (the figures in docs/keras.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import eightbit
from tests.importers.keras.helpers import keras
from tests.oracle import run_eightbit, run_litert

DIGITS = Path(eightbit.__file__).parent / "data" / "digits.npz"
L = keras.layers


def train_digits_model():
    """Keras CNN trained on the 100 labelled training digits; returns (model, test x, test labels, calib)."""
    d = np.load(DIGITS)
    x, y, heldout = d["eval_0"][:, 0], d["labels"], d["heldout"]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8, 8, 1), name="digit"),
        L.Conv2D(8, 3, padding="same"), L.BatchNormalization(), L.ReLU(),
        L.MaxPooling2D(2),
        L.Conv2D(16, 3, padding="same", activation="relu6"),
        L.AveragePooling2D(2),
        L.Flatten(), L.Dropout(0.2),
        L.Dense(32, activation="relu"),
        L.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x[~heldout], y[~heldout], epochs=40, batch_size=20, verbose=0)
    return model, x[heldout], y[heldout], d["calib_0"][:, 0]


def convert(model, mode, calib):
    conv = eightbit.TFLiteConverter.from_keras_model(model)
    if mode != "float32":
        conv.optimizations = [eightbit.Optimize.DEFAULT]
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    if mode in ("int8", "int8_io", "int16x8"):
        conv.representative_dataset = lambda: ([c[None]] for c in calib)
    if mode == "int8_io":
        conv.inference_input_type = conv.inference_output_type = np.int8
    if mode == "int16x8":
        conv.target_spec.supported_ops = [eightbit.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    return conv.convert()


def predictions(data, x, run):
    """Class predictions of a .tflite over the batch x (int8 inputs quantized with the input's parameters)."""
    sg = eightbit.load(data).main
    t_in = sg.tensors[sg.inputs[0]]
    if t_in.type == "INT8":
        qp = t_in.quantization
        x = np.clip(np.round(x / qp.scale[0]) + qp.zero_point[0], -128, 127).astype(np.int8)
    return np.argmax(run(data, [x])[0], axis=1)


MODES = ["float32", "dynamic_range", "float16", "int8", "int8_io", "int16x8"]


@pytest.fixture(scope="module")
def trained():
    return train_digits_model()


@pytest.mark.parametrize("mode", MODES)
def test_digits_accuracy(trained, mode):
    model, x, y, calib = trained
    keras_acc = float(np.mean(np.argmax(model.predict(x, verbose=0), 1) == y))
    assert keras_acc > 0.8
    data = convert(model, mode, calib)
    ours = predictions(data, x, run_eightbit)
    acc = float(np.mean(ours == y))
    if mode in ("float32", "dynamic_range", "float16"):
        assert acc == keras_acc
    else:
        assert acc >= keras_acc - 0.02
    if mode in ("int8", "int8_io", "int16x8"):  # integer models: LiteRT's reference kernels agree on every digit
        np.testing.assert_array_equal(ours, predictions(data, x, run_litert))
