"""python -m eightbit.demo: the TensorFlow-free road, then the bundled TensorFlow-made model.

First an ONNX model exported from PyTorch (eightbit/data/digits_cnn.onnx, made by
tools/export_demo_onnx.py) is converted to .tflite by eightbit.TFLiteConverter.from_onnx (NCHW
moved to NHWC), run on the held-out digits, compared with onnxruntime's outputs stored beside it,
and quantized in every mode. This needs the `onnx` package (`pip install 'eightbit[onnx]'`; `make
demo` installs it); without it that part is skipped with a note.

Then it loads the float32 CNN in eightbit/data/, classifies the held-out handwritten digits, prints the
accuracy, a few predictions, and how far eightbit's outputs are from those TensorFlow Lite's
reference kernels computed for the same model (stored with the data). Then it quantizes the
model in every mode eightbit's TFLiteConverter has (dynamic range, float16, int8, int16x8) and
prints size, accuracy, agreement with float, SQNR and latency for each.

The helpers (load_digits, predict, accuracy) take any .tflite classifier of the same input,
float or quantized: integer inputs are quantized and integer outputs dequantized with the
model's own scale and zero point.
"""

from __future__ import annotations

import sys
import time
from importlib import resources

import numpy as np

import eightbit
from eightbit.quantize.compare import compare_modes, format_table, run_samples

DATA = resources.files("eightbit") / "data"
MODEL = "digits_cnn_float32.tflite"
ONNX_MODEL = "digits_cnn.onnx"
ONNX_OUTPUTS = "digits_cnn_onnx_outputs.npy"  # onnxruntime's outputs on eval_0 (tools/export_demo_onnx.py)
SHADES = " .:-=+*#%@"


def load_digits() -> dict:
    """eval_0, labels, heldout, calib_0, float_0 (see eightbit/data/README.md)."""
    with resources.as_file(DATA / "digits.npz") as path, np.load(path) as z:
        return {k: z[k] for k in z.files}


def load_model() -> eightbit.Model:
    return eightbit.load((DATA / MODEL).read_bytes())


def predict(model, samples: np.ndarray) -> np.ndarray:
    """Outputs (dequantized, float32, one row per sample) for samples shaped (n, 1, 8, 8, 1)."""
    return run_samples(model, samples)[0]


def accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    return 100.0 * float(np.mean(np.argmax(outputs.reshape(len(labels), -1), axis=-1) == labels))


def ascii_digit(x: np.ndarray) -> list:
    pixels = np.clip(np.round((x.reshape(8, 8) + 1) * 8), 0, 16).astype(int)  # back to 0..16
    return ["".join(SHADES[min(p * len(SHADES) // 17, len(SHADES) - 1)] * 2 for p in row) for row in pixels]


def convert_onnx():
    """The bundled ONNX model as .tflite bytes, its converter and the seconds conversion took
    (onnx's own import excluded), or (None, why, 0) without the onnx package."""
    try:
        import onnx  # noqa: F401 - imported before timing, and to say clearly what is missing
        import onnx.shape_inference  # noqa: F401
    except ImportError:
        return None, "needs the onnx package: pip install 'eightbit[onnx]' (make demo installs it)", 0.0
    with resources.as_file(DATA / ONNX_MODEL) as path:
        t0 = time.perf_counter()
        conv = eightbit.TFLiteConverter.from_onnx(str(path))
        data = conv.convert()
        return data, conv, time.perf_counter() - t0


def onnx_road(digits: dict) -> None:
    """Step 1: ONNX -> .tflite -> run, score, compare with onnxruntime -> quantize in every mode."""
    print(f"== 1. without TensorFlow: {ONNX_MODEL} (a PyTorch CNN exported to ONNX) -> .tflite ==")
    data, conv, took = convert_onnx()
    if data is None:
        print(f"skipped: {conv}\n")
        return
    model = eightbit.load(data)
    sg = model.main
    ops = ", ".join(f"{n} x{c}" for (n, _v), c in sorted(model.operator_summary().items()))
    src = len((DATA / ONNX_MODEL).read_bytes())
    print(f"TFLiteConverter.from_onnx: {src} bytes of ONNX -> {len(data)} bytes of .tflite in {took:.2f} s: {ops}")
    print(f"input {sg.tensors[sg.inputs[0]].name} {list(sg.tensors[sg.inputs[0]].shape)} (NHWC; ONNX had "
          f"{list(conv.source_input_shapes.values())[0]}); min_runtime_version {model.min_runtime_version}")
    for note in conv.import_notes:
        print(f"  {note}")
    x, labels, held = digits["eval_0"], digits["labels"], digits["heldout"]
    y = predict(model, x)
    ref = np.load(DATA / ONNX_OUTPUTS) if (DATA / ONNX_OUTPUTS).is_file() else None
    print(f"accuracy on the held-out digits: {accuracy(y[held], labels[held]):.2f}% (trained on 200 digits; the TensorFlow model below saw the full training split)")
    if ref is not None:
        agree = int(np.sum(np.argmax(y, -1) == np.argmax(ref, -1)))
        print(f"max |eightbit - onnxruntime| over all outputs: {float(np.max(np.abs(y - ref.reshape(y.shape)))):.2g}; "
              f"same predicted class for {agree}/{len(x)} samples")
    calib = list(digits["calib_0"])
    print(f"\nquantizing the imported model in every mode ({len(calib)} calibration samples), "
          f"then running the {int(held.sum())} held-out digits:")
    print(format_table(compare_modes(data, calib, x[held], labels[held])))
    print()


def main(argv=None) -> int:
    digits = load_digits()
    onnx_road(digits)
    print(f"== 2. what TensorFlow's converter made: {MODEL}, run and quantized by eightbit ==")
    model = load_model()
    x, labels, heldout = digits["eval_0"], digits["labels"], digits["heldout"]
    ops = ", ".join(f"{n} x{c}" for (n, _v), c in sorted(model.operator_summary().items()))
    print(f"model: {MODEL} ({len((DATA / MODEL).read_bytes())} bytes, float32): {ops}")
    print(f"data: {len(x)} handwritten 8x8 digits ({int(heldout.sum())} from the held-out test split); "
          "UCI Optical Recognition of Handwritten Digits, CC BY 4.0")

    t0 = time.perf_counter()
    y = predict(model, x)
    elapsed = time.perf_counter() - t0
    pred = np.argmax(y.reshape(len(x), -1), axis=-1)
    print(f"ran {len(x)} samples in {elapsed:.2f} s ({1000 * elapsed / len(x):.2f} ms each)")
    print(f"accuracy on the held-out digits: {accuracy(y[heldout], labels[heldout]):.2f}% "
          f"({int(np.sum(pred[heldout] == labels[heldout]))}/{int(heldout.sum())}); "
          f"on all {len(x)}: {accuracy(y, labels):.2f}%")
    diff = float(np.max(np.abs(y - digits["float_0"].reshape(y.shape))))
    agree = int(np.sum(pred == np.argmax(digits["float_0"].reshape(len(x), -1), axis=-1)))
    print(f"max |eightbit - TFLite reference kernels| over all outputs: {diff:.2g}; "
          f"same predicted class for {agree}/{len(x)} samples")

    print("\na few held-out predictions:")
    shown = [i for i in np.flatnonzero(heldout)[:4]]
    wrong = [i for i in np.flatnonzero(heldout & (pred != labels))[:1]]
    picks = shown + wrong
    art = [ascii_digit(x[i]) for i in picks]
    for row in range(8):
        print("   ".join(a[row] for a in art))
    caption = []
    for i in picks:
        p = y[i].reshape(-1)
        mark = "ok" if pred[i] == labels[i] else "WRONG"
        caption.append(f"{pred[i]} ({100 * p[pred[i]]:.0f}%) {mark}".ljust(16)[:16])
    print("   ".join(caption))
    print("   ".join(f"label {labels[i]}".ljust(16) for i in picks))

    print_quantization_table(model.to_bytes(), digits)
    return 0


def print_quantization_table(float_model: bytes, digits: dict) -> None:
    """The main job: quantize the float model in every mode, then measure each on held-out digits."""
    held = digits["heldout"]
    calib = list(digits["calib_0"])
    print(f"\nquantizing in every mode ({len(calib)} calibration samples, minmax, per-channel), "
          f"then running the {int(held.sum())} held-out digits:")
    rows = compare_modes(float_model, calib, digits["eval_0"][held], digits["labels"][held])
    print(format_table(rows))


if __name__ == "__main__":
    sys.exit(main())
