"""The seeds' snippet with only the import changed gives a dynamic-range model as TF would."""

from __future__ import annotations

import numpy as np

import eightbit as lite  # was: from tensorflow import lite
from tests.importers.keras.helpers import keras, predict, random_inputs, randomize
from tests.oracle import assert_same_as_litert, run_eightbit

L = keras.layers


def test_seeds_snippet_gives_dynamic_range_model():
    model = randomize(keras.Sequential([
        keras.Input((12, 12, 3)),
        L.Conv2D(16, 3, activation="relu"),       # 432 weights: stays float (< 1024, TF's threshold)
        L.Conv2D(32, 3, activation="relu"),       # 4608 weights: int8 per channel, hybrid conv
        L.GlobalAveragePooling2D(),
        L.Dense(64, activation="relu"),           # 2048 weights: int8, hybrid FULLY_CONNECTED
        L.Dense(10, activation="softmax"),        # 640 weights: float
    ]))

    converter = lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [lite.Optimize.DEFAULT]
    tflite_model = converter.convert()

    assert converter.mode() == "dynamic_range"
    m = lite.load(tflite_model)
    sg = m.main
    weights = {op.op_type + str(k): sg.tensors[op.inputs[1]] for k, op in enumerate(sg.operators)
               if op.op_type in ("CONV_2D", "FULLY_CONNECTED")}
    kinds = sorted((name.rstrip("0123456789"), w.type, int(np.prod(w.shape))) for name, w in weights.items())
    assert kinds == [("CONV_2D", "FLOAT32", 432), ("CONV_2D", "INT8", 4608),
                     ("FULLY_CONNECTED", "FLOAT32", 640), ("FULLY_CONNECTED", "INT8", 2048)]
    for w in weights.values():
        if w.type == "INT8":  # symmetric, one scale per output channel
            assert w.quantization.scale.size == w.shape[0] and not w.quantization.zero_point.any()
    fc = [op for op in sg.operators if op.op_type == "FULLY_CONNECTED" and sg.tensors[op.inputs[1]].type == "INT8"]
    assert fc[0].options.get("asymmetric_quantize_inputs") is True
    assert {sg.tensors[i].type for i in sg.inputs + sg.outputs} == {"FLOAT32"}
    assert m.signature_defs[0]["signature_key"] == "serving_default"

    inputs = random_inputs(model)
    assert_same_as_litert(tflite_model, inputs)
    want = predict(model, inputs)[0]
    assert np.max(np.abs(run_eightbit(tflite_model, inputs)[0] - want)) < 0.02
