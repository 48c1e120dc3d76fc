"""eightbit quantize IN.tflite -o OUT.tflite --mode {dynamic,float16,int8,int16x8}: post-training quantization.

int8 and int16x8 need calibration data: --data CALIB.npz with one array per model input, named
by the input's (signature or tensor) name or `input_<i>` by position, samples on axis 0, each
sample shaped like the input with or without its batch dimension.
"""

from __future__ import annotations

import logging
import os
import sys

import numpy as np

from eightbit.cli.arrays import load_arrays, match_inputs
from eightbit.ir import load
from eightbit.quantize.calibration import METHODS, CalibrationError
from eightbit.quantize.converter import OpsSet, Optimize, TFLiteConverter
from eightbit.quantize.ptq import DENYLIST_HELP
from eightbit.tflite import atomic_write

MODES = ("dynamic", "float16", "int8", "int16x8")
IO_TYPES = {"float32": np.float32, "int8": np.int8, "uint8": np.uint8, "int16": np.int16}


def add_parser(subparsers):
    p = subparsers.add_parser(
        "quantize", help="post-training quantization of a float .tflite model",
        description="Quantize a float .tflite model as TensorFlow's converter does: dynamic range (int8 weights), "
                    "float16 weights, full integer int8, or int16 activations with int8 weights. int8 and int16x8 "
                    "calibrate on --data: an .npz with one array per input (named by input name or input_<i>), "
                    "samples on axis 0, each shaped like the input with or without the batch dimension.",
    )
    p.add_argument("model", help="float .tflite file")
    p.add_argument("-o", "--output", required=True, help="quantized .tflite to write (atomically)")
    p.add_argument("--mode", required=True, choices=MODES, help="quantization mode")
    p.add_argument("--data", metavar="CALIB.npz", help="calibration samples (int8, int16x8)")
    p.add_argument("--method", default="minmax", choices=METHODS, help="calibration method (default minmax, as TF)")
    p.add_argument("--percentile", type=float, default=99.99, help="for --method percentile (default 99.99)")
    p.add_argument("--io", default="float32", choices=sorted(IO_TYPES),
                   help="input and output type of the quantized model (default float32: QUANTIZE/DEQUANTIZE at the edges)")
    p.add_argument("--denylist", action="append", default=[], metavar="OP_OR_PATTERN",
                   help=f"keep in float: {DENYLIST_HELP}; repeatable or comma-separated")
    p.add_argument("--no-float-fallback", action="store_true",
                   help="fail if an operator cannot be quantized (TF's TFLITE_BUILTINS_INT8-only) instead of keeping it float")
    p.add_argument("--per-tensor", action="store_true", help="per-tensor instead of per-channel weight scales")
    p.add_argument("--quantize-variables", action="store_true",
                   help="int8 / int16x8: store resource variables as integers (TF's _experimental_variable_quantization)")
    p.add_argument("--min-elements", type=int, default=1024,
                   help="dynamic mode: smallest weight tensor to quantize (default 1024, as TF)")
    p.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    p.set_defaults(func=run)


def npz_dataset(model, path):
    """A representative_dataset callable over an .npz (one array per input, samples on axis 0;
    a .npy for a one-input model)."""
    sg = model.main
    sig = {}
    for sd in model.signature_defs:
        if sd["subgraph_index"] == 0:
            for e in sd["inputs"]:
                sig[e["tensor_index"]] = e["name"]
    names = [sg.tensors[ti].name for ti in sg.inputs]
    aliases = [[c for c in (f"input_{pos}", sig.get(ti), f"calib_{pos}") if c] for pos, ti in enumerate(sg.inputs)]
    arrays = match_inputs(load_arrays(path, "--data"), names, aliases, path, "--data")
    chosen = names
    for k, a in zip(chosen, arrays):
        if a.ndim == 0:
            raise ValueError(f"{path}: array {k!r} is a scalar; samples go on axis 0")
    counts = {a.shape[0] for a in arrays}
    if len(counts) != 1:
        raise ValueError(f"{path}: arrays {chosen} hold different numbers of samples {[a.shape[0] for a in arrays]}")
    n = counts.pop()

    def gen():
        for k in range(n):
            yield [a[k] for a in arrays]

    return gen, n, chosen


def convert_quietly(conv, data_path) -> bytes:
    """conv.convert() with its warnings held back (the command's summary lists them once); a
    calibration problem becomes one line naming the data file."""
    log = logging.getLogger("eightbit.quantize")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        return conv.convert()
    except CalibrationError as e:
        raise ValueError(f"calibration data {data_path}: {e}") from None
    finally:
        log.setLevel(level)


def _human(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} B"


def run(args) -> int:
    if os.path.exists(args.output) and not args.force:
        raise FileExistsError(f"{args.output} exists; pass --force to replace it")
    src = open(args.model, "rb").read()
    model = load(src)
    conv = TFLiteConverter.from_model(model)
    conv.optimizations = [Optimize.DEFAULT]
    conv.calibration_method = args.method
    conv.percentile = args.percentile
    conv.per_channel = not args.per_tensor
    conv.dynamic_range_min_elements = args.min_elements
    conv.denylist = [d.strip() for entry in args.denylist for d in entry.split(",") if d.strip()]
    io = IO_TYPES[args.io]
    n_samples = 0
    if args.mode in ("int8", "int16x8"):
        if not args.data:
            raise ValueError(f"--mode {args.mode} needs calibration data: --data CALIB.npz")
        gen, n_samples, _keys = npz_dataset(model, args.data)
        conv.representative_dataset = gen
        if args.mode == "int8":
            conv.target_spec.supported_ops = [OpsSet.TFLITE_BUILTINS_INT8] if args.no_float_fallback else [OpsSet.TFLITE_BUILTINS]
        else:
            ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
            conv.target_spec.supported_ops = ops if args.no_float_fallback else ops + [OpsSet.TFLITE_BUILTINS]
        conv.inference_input_type = io
        conv.inference_output_type = io
        conv._experimental_variable_quantization = args.quantize_variables
    else:
        if args.data:
            raise ValueError(f"--data is used by the int8 and int16x8 modes, not by --mode {args.mode}")
        if args.io != "float32":
            raise ValueError(f"--io {args.io} needs full integer quantization (--mode int8 or int16x8)")
        if args.mode == "float16":
            conv.target_spec.supported_types = [np.float16]
    out = convert_quietly(conv, args.data)
    atomic_write(args.output, out, overwrite=args.force)
    rep = conv.report
    w = sys.stdout.write
    w(f"{args.model} -> {args.output} ({args.mode}"
      + (f", {n_samples} calibration samples, {args.method}" if n_samples else "") + ")\n")
    if rep.quantized_ops:
        w("  quantized operators: " + ", ".join(f"{k} x{v}" for k, v in sorted(rep.quantized_ops.items())) + "\n")
    else:
        w("  quantized operators: none\n")
    if rep.quantized_weights and args.mode in ("dynamic", "float16"):
        w(f"  weight tensors converted: {len(rep.quantized_weights)}\n")
    floats = [f"{name} ({why})" for _, name, why in rep.float_ops if why != "already a (de)quantization operator"]
    if floats:
        w("  kept in float: " + ", ".join(sorted(set(floats))) + "\n")
    before, after = len(src), len(out)
    w(f"  size: {_human(before)} -> {_human(after)} ({after / before:.1%} of the original)\n")
    for msg in rep.warnings:
        w(f"  warning: {msg}\n")
    return 0
