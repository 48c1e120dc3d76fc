"""eightbit convert MODEL -o OUT.tflite: ONNX, Keras (.keras, .h5) or .tflite to .tflite, optionally quantized.

    eightbit convert model.onnx -o model.tflite [--input-shape NAME=1,3,224,224] [--io-layout keep]
    eightbit convert model.onnx -o model_int8.tflite --quantize int8 --data calib.npz [--method mse]
    eightbit convert --keras_model_file model.keras --output_file model.tflite     (tflite_convert's flags)

--data: an .npz with one array per model input (named by input name or input_<i>), samples on
axis 0, each shaped like the input with or without its batch dimension; for an ONNX image input
the source's NCHW layout is accepted too.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from eightbit.cli.quantize import IO_TYPES, convert_quietly, npz_dataset
from eightbit.converter import OpsSet, Optimize, TFLiteConverter
from eightbit.quantize.calibration import METHODS
from eightbit.quantize.ptq import DENYLIST_HELP
from eightbit.tflite import atomic_write

QUANTIZE = ("int8", "int16x8", "dynamic", "float16")
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
# tflite_convert's --inference_type / --inference_input_type values
TF_TYPES = {"FLOAT": "float32", "FLOAT32": "float32", "INT8": "int8", "QUANTIZED_UINT8": "uint8", "UINT8": "uint8",
            "INT16": "int16", "QUANTIZED_INT16": "int16"}


def add_parser(subparsers):
    p = subparsers.add_parser(
        "convert", help="convert an ONNX, Keras (.keras/.h5) or .tflite model to .tflite, optionally quantized",
        description="Convert an ONNX model, a Keras 3 model file (.keras, .h5) or a .tflite to .tflite without "
                    "TensorFlow; channel-first ONNX graphs become NHWC. --quantize applies post-training "
                    "quantization (int8 and int16x8 calibrate on --data); an ONNX model already quantized (QDQ, "
                    "QOperator) converts to integer operators with its own parameters. tflite_convert's "
                    "--output_file, --keras_model_file, --inference_type and --inference_input_type work too.",
    )
    p.add_argument("model", nargs="?", help="model.onnx, model.keras, model.h5 or model.tflite")
    p.add_argument("-o", "--output", "--output_file", dest="output", help=".tflite to write (atomically)")
    p.add_argument("--keras_model_file", help="a Keras model file (tflite_convert's flag)")
    p.add_argument("--saved_model_dir", help="(TensorFlow SavedModels need TensorFlow: see the error)")
    p.add_argument("--input-shape", "--input_shapes", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="static shape of an ONNX input with dynamic dimensions; repeatable")
    p.add_argument("--io-layout", default="NHWC", choices=("NHWC", "keep"),
                   help="NHWC (default): image inputs/outputs in TFLite's layout; keep: the source's layout")
    p.add_argument("--quantize", choices=QUANTIZE, help="post-training quantization mode")
    p.add_argument("--data", metavar="CALIB.npz", help="calibration samples (int8, int16x8)")
    p.add_argument("--method", default="minmax", choices=METHODS, help="calibration method (default minmax, as TF)")
    p.add_argument("--percentile", type=float, default=99.99, help="for --method percentile (default 99.99)")
    p.add_argument("--io", choices=sorted(IO_TYPES), help="input and output type of a fully quantized model")
    p.add_argument("--inference_type", type=str.upper, choices=sorted(TF_TYPES),
                   help="tflite_convert: INT8 / QUANTIZED_UINT8 mean full integer quantization (--quantize int8)")
    p.add_argument("--inference_input_type", type=str.upper, choices=sorted(TF_TYPES), help="tflite_convert: input type")
    p.add_argument("--inference_output_type", type=str.upper, choices=sorted(TF_TYPES), help="output type")
    p.add_argument("--mean_values", "--mean_value", metavar="M[,M...]", help="tflite_convert: an integer input's zero point (one per "
                   "input; real = (q - mean) / std), with --std_dev_values")
    p.add_argument("--std_dev_values", "--std_values", "--std_value", metavar="S[,S...]", help="tflite_convert: an integer input's 1 / scale")
    p.add_argument("--denylist", action="append", default=[], metavar="OP_OR_PATTERN",
                   help=f"keep in float: {DENYLIST_HELP}; repeatable or comma-separated")
    p.add_argument("--no-float-fallback", action="store_true",
                   help="fail if an operator cannot be quantized instead of keeping it float")
    p.add_argument("--per-tensor", action="store_true", help="per-tensor instead of per-channel weight scales")
    p.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    p.set_defaults(func=run)


def parse_input_shapes(entries) -> dict | None:
    shapes = {}
    for entry in entries:
        name, sep, dims = entry.rpartition("=")
        if not sep or not name:
            raise ValueError(f"--input-shape {entry!r}: expected NAME=D0,D1,... (e.g. input=1,3,224,224)")
        try:
            shapes[name] = [int(d) for d in dims.replace("x", ",").split(",") if d.strip()]
        except ValueError:
            raise ValueError(f"--input-shape {entry!r}: dimensions must be integers") from None
    return shapes or None


def _source(args) -> tuple[str, str]:
    if args.saved_model_dir:
        raise ValueError(f"--saved_model_dir {args.saved_model_dir}: TensorFlow SavedModels need TensorFlow to read; "
                         "export the model from Keras (a .keras file) or to ONNX and convert that instead")
    path = args.keras_model_file or args.model
    if not path:
        raise ValueError("no model given: eightbit convert MODEL.onnx -o OUT.tflite (or --keras_model_file)")
    if args.keras_model_file and args.model:
        raise ValueError("give the model either as MODEL or as --keras_model_file, not both")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory (a SavedModel?); SavedModels need TensorFlow: export the model "
                         "from Keras (a .keras file) or to ONNX and convert that instead")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    low = path.lower()
    if args.keras_model_file or low.endswith(KERAS_SUFFIXES):
        return path, "keras"
    if low.endswith(".tflite"):
        return path, "tflite"
    if low.endswith(".onnx"):
        return path, "onnx"
    raise ValueError(f"{path}: cannot tell the model's format from its name; use .onnx, .keras, .h5 or .tflite")


def load_converter(path: str, kind: str, args) -> TFLiteConverter:
    shapes = parse_input_shapes(args.input_shape)
    if shapes and kind != "onnx":
        raise ValueError("--input-shape applies to ONNX models only")
    if kind == "onnx":
        return TFLiteConverter.from_onnx(path, input_shapes=shapes, io_layout=args.io_layout)
    if kind == "keras":
        return TFLiteConverter.from_keras_model_file(path)
    return TFLiteConverter.from_tflite(path)


def _io_type(args) -> str | None:
    ins = TF_TYPES.get(args.inference_input_type) if args.inference_input_type else None
    outs = TF_TYPES.get(args.inference_output_type) if args.inference_output_type else None
    if (ins or outs) and args.io:
        raise ValueError("give --io or --inference_input_type/--inference_output_type, not both")
    if ins and outs and ins != outs:
        raise ValueError("different input and output types are not supported; give one --io type")
    return args.io or ins or outs


def source_layout_dataset(conv: TFLiteConverter, gen):
    """Calibration samples given in the source's NCHW layout are moved to the model's NHWC inputs."""
    sg = conv._model.main
    targets = [tuple(sg.tensors[i].shape) for i in sg.inputs]
    sources = [conv.source_input_shapes.get(sg.tensors[i].name) for i in sg.inputs]

    def fix(sample, want, src):
        x = np.asarray(sample)
        if src is None or len(want) != 4 or tuple(src) == want:
            return x
        if x.shape in (tuple(src), tuple(src[1:])):
            return np.moveaxis(x, -3, -1)
        return x

    def wrapped():
        for sample in gen():
            yield [fix(x, w, s) for x, w, s in zip(sample, targets, sources)]

    return wrapped


def configure(conv: TFLiteConverter, args, mode: str | None, io: str | None) -> int:
    """Set the converter's attributes for --quantize; returns the number of calibration samples."""
    conv.calibration_method = args.method
    conv.percentile = args.percentile
    conv.per_channel = not args.per_tensor
    conv.denylist = [d.strip() for entry in args.denylist for d in entry.split(",") if d.strip()]
    if mode is None:
        if args.data:
            raise ValueError("--data is calibration data for --quantize int8 / int16x8")
        return 0
    conv.optimizations = [Optimize.DEFAULT]
    if mode in ("int8", "int16x8"):
        if not args.data:
            raise ValueError(f"--quantize {mode} needs calibration data: --data CALIB.npz")
        gen, n, _keys = npz_dataset(conv._model, args.data)
        conv.representative_dataset = source_layout_dataset(conv, gen)
        ops = [OpsSet.TFLITE_BUILTINS_INT8] if mode == "int8" else [
            OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        conv.target_spec.supported_ops = ops if args.no_float_fallback else ops + [OpsSet.TFLITE_BUILTINS]
        if io:
            conv.inference_input_type = conv.inference_output_type = IO_TYPES[io]
        return n
    if args.data:
        raise ValueError(f"--data is used by --quantize int8 and int16x8, not by --quantize {mode}")
    if io and io != "float32":
        raise ValueError(f"--io {io} needs full integer quantization (--quantize int8 or int16x8)")
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    return 0


def run(args) -> int:
    if not args.output:
        raise ValueError("no output file: -o OUT.tflite (or --output_file)")
    if os.path.exists(args.output) and not args.force:
        raise FileExistsError(f"{args.output} exists; pass --force to replace it")
    path, kind = _source(args)
    io = _io_type(args)
    mode = args.quantize
    if args.inference_type and TF_TYPES[args.inference_type] != "float32":
        if mode not in (None, "int8", "int16x8"):
            raise ValueError(f"--inference_type {args.inference_type} conflicts with --quantize {mode}")
        io = io or TF_TYPES[args.inference_type]
        mode = "int16x8" if TF_TYPES[args.inference_type] == "int16" else "int8"
    conv = load_converter(path, kind, args)
    quantized_note = None
    if conv.quantized_import and (mode or args.data):
        # already integer: the source's own parameters are kept, nothing is recalibrated
        quantized_note = "--quantize / --data ignored: the model is already quantized (its parameters are kept)"
        mode, args.data = None, None
    n_samples = configure(conv, args, mode, io)
    if conv.quantized_import and io:
        conv.inference_input_type = conv.inference_output_type = IO_TYPES[io]
    out = convert_quietly(conv, args.data)
    if args.mean_values is not None or args.std_dev_values is not None:
        out = pin_input_quantization(out, _floats(args.mean_values, "--mean_values"),
                                     _floats(args.std_dev_values, "--std_dev_values"))
    atomic_write(args.output, out, overwrite=args.force)
    print_summary(conv, path, args, out, mode, n_samples, quantized_note)
    return 0


def _floats(text, flag) -> list:
    if text is None:
        raise ValueError("--mean_values and --std_dev_values go together")
    try:
        return [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{flag} {text!r}: expected comma-separated numbers") from None


def pin_input_quantization(data: bytes, means: list, stds: list) -> bytes:
    """tflite_convert's --mean_values / --std_dev_values (one per input, in order): each integer
    input gets scale 1/std and zero point mean (eightbit.converter.pin_input_stats)."""
    from eightbit.converter import pin_input_stats
    from eightbit.ir import load

    sg = load(data).main
    if len(means) != len(sg.inputs) or len(stds) != len(sg.inputs):
        raise ValueError(f"--mean_values / --std_dev_values: give one value per input ({len(sg.inputs)})")
    names = [sg.tensors[t].name for t in sg.inputs]
    return pin_input_stats(data, {n: (m, s) for n, m, s in zip(names, means, stds)})


def _human(n: int) -> str:
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def print_summary(conv, path, args, out: bytes, mode, n_samples: int, extra_note=None) -> None:
    from eightbit.ir import load

    w = sys.stdout.write
    rep = conv.report
    what = mode or ("quantized source" if conv.quantized_import else "float32")
    w(f"{path} -> {args.output} ({what}" + (f", {n_samples} calibration samples, {args.method}" if n_samples else "")
      + ")\n")
    model = load(out)
    ops = sorted(model.operator_summary().items())
    w(f"  operators ({sum(c for _, c in ops)}): " + ", ".join(f"{n} v{v} x{c}" for (n, v), c in ops) + "\n")
    sg = model.main
    for kind, idx in (("input", sg.inputs), ("output", sg.outputs)):
        for i in idx:
            t = sg.tensors[i]
            w(f"  {kind} {t.name}: {t.type} {list(t.shape)}\n")
    if rep.quantized_ops:
        w("  quantized operators: " + ", ".join(f"{k} x{v}" for k, v in sorted(rep.quantized_ops.items())) + "\n")
    floats = sorted({f"{name} ({why})" for _, name, why in rep.float_ops if why != "already a (de)quantization operator"})
    if floats:
        w("  kept in float: " + ", ".join(floats) + "\n")
    for note in conv.import_notes + ([extra_note] if extra_note else []):
        w(f"  import: {note}\n")
    before = os.path.getsize(path)
    w(f"  size: {_human(before)} -> {_human(len(out))} ({len(out) / max(before, 1):.1%} of the source)\n")
    for msg in rep.warnings:
        w(f"  warning: {msg}\n")
