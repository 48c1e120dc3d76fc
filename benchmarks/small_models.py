"""Small models for the interpreter benchmark, where the fixed cost per operator dominates.

- digits_cnn_float32: the bundled digits CNN (eightbit/data/digits_cnn_float32.tflite, 7 operators,
  8x8 input), as TensorFlow's converter made it;
- digits_cnn_int8: the same model quantized by eightbit (full integer, int8 edges), calibrated on
  the bundled calibration digits;
- op_chain_N: N int8 ADDs of a [1, 16] tensor and a constant, one after another: the time per
  invoke divided by N is the fixed cost of one operator (the arithmetic on 16 elements is noise).

`small_models()` gives {name: model bytes}; the int8 digits model is quantized on first use.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

CHAIN_LENGTH = 100


def digits_float() -> bytes:
    return (resources.files("eightbit") / "data" / "digits_cnn_float32.tflite").read_bytes()


def digits_int8() -> bytes:
    from eightbit.demo import load_digits
    from eightbit.quantize.converter import Optimize, TFLiteConverter

    calib = load_digits()["calib_0"][:100]
    conv = TFLiteConverter.from_tflite(digits_float())
    conv.optimizations = [Optimize.DEFAULT]
    conv.progress = False
    conv.representative_dataset = lambda: ([np.asarray(s, np.float32).reshape(1, 8, 8, 1)] for s in calib)
    conv.inference_input_type = np.int8
    conv.inference_output_type = np.int8
    return conv.convert()


def op_chain(n: int = CHAIN_LENGTH, width: int = 16) -> bytes:
    """n int8 ADDs in a row: y_k = y_{k-1} + c, all with scale 0.05 and zero point 0."""
    from eightbit.ir.builder import ModelBuilder

    b = ModelBuilder()
    q = {"scale": 0.05, "zero_point": 0}
    x = b.tensor("x", [1, width], np.int8, **q)
    c = b.tensor("c", [1, width], np.int8, data=np.ones((1, width), np.int8), **q)
    prev = x
    for k in range(n):
        out = b.tensor(f"y{k}", [1, width], np.int8, **q)
        b.op("ADD", [prev, c], [out], {"fused_activation_function": 0}, options_type="AddOptions")
        prev = out
    return b.inputs(x).outputs(prev).build().to_bytes()


def small_models() -> dict:
    return {"digits_cnn_float32": digits_float(), "digits_cnn_int8": digits_int8(),
            f"op_chain_{CHAIN_LENGTH}": op_chain()}
