"""eightbit run MODEL: run a model on given (.npy) or random inputs and summarize the outputs."""

from __future__ import annotations

import io
import os
import re
import time

import numpy as np

from eightbit.cli.arrays import load_array
from eightbit.interpreter import Interpreter
from eightbit.ir import load
from eightbit.tflite import atomic_write

# Random inputs: float inputs uniform in [-1, 1] (the usual normalized range); quantized and
# other integer inputs uniform over their type's whole range; int32/int64 inputs that are not
# quantized (ids, indices) uniform in [0, 10); bool inputs fair coins.
FLOAT_RANGE = (-1.0, 1.0)
INDEX_RANGE = (0, 10)


def add_parser(subparsers):
    p = subparsers.add_parser(
        "run", help="run a model on .npy or random inputs",
        description="Run a .tflite model with eightbit's interpreter. Inputs not given with --input are "
                    f"random: float in {list(FLOAT_RANGE)}, quantized/8- and 16-bit integers over their "
                    f"whole range, unquantized int32/int64 in [{INDEX_RANGE[0]}, {INDEX_RANGE[1]}).",
    )
    p.add_argument("model", help=".tflite file")
    p.add_argument("--input", "-i", action="append", default=[], metavar="NAME=FILE.npy",
                   help="input value; NAME is the tensor name, signature input name or input position "
                        "(0, 1, ...). A different batch size resizes the input. Repeatable.")
    p.add_argument("--shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="shape for a random input with dynamic (-1) dimensions; NAME as for --input. Repeatable.")
    p.add_argument("--seed", type=int, default=0, help="seed for random inputs (default 0)")
    p.add_argument("--output", "-o", metavar="OUT.npz",
                   help="save outputs (keyed by output tensor name) and inputs (keyed input:NAME)")
    p.add_argument("--force", action="store_true", help="overwrite OUT.npz if it exists")
    p.set_defaults(func=run)


def random_input(detail: dict, rng: np.random.Generator) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    shape = tuple(int(d) for d in detail["shape"])
    quantized = detail["quantization_parameters"]["scales"].size > 0
    if dtype.kind == "f":
        return rng.uniform(*FLOAT_RANGE, size=shape).astype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if quantized or dtype.itemsize <= 2:
            return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
        return rng.integers(*INDEX_RANGE, size=shape).astype(dtype)
    raise ValueError(f"cannot make a random value for input {detail['name']!r} of type {dtype}")


def _input_position(name, details, sig_names, flag) -> int:
    by_name = {d["name"]: k for k, d in enumerate(details)}
    if name in by_name:
        return by_name[name]
    if name in sig_names:
        return sig_names[name]
    if name.isdigit() and int(name) < len(details):
        return int(name)
    known = [d["name"] for d in details] + sorted(sig_names)
    raise ValueError(f"{flag} {name!r}: the model has no input of that name; inputs: {known}")


def _parse_inputs(specs, details, sig_names):
    given = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--input {spec!r}: expected NAME=FILE.npy")
        k = _input_position(name, details, sig_names, "--input")
        value = load_array(path, f"--input {name}:")
        want = np.dtype(details[k]["dtype"])
        if value.dtype != want:
            raise ValueError(f"--input {name}: {path} holds {value.dtype} values, the model's input "
                             f"{details[k]['name']!r} is {want}; convert it (e.g. x.astype(np.{want.name}))")
        given[k] = (value, path)
    return given


_NOT_CLASSES = re.compile(r"box|landmark|regress|coord|anchor|keypoint|mask|segment|offset|heatmap", re.I)
_SCORE_OPS = {"SOFTMAX", "LOG_SOFTMAX", "LOGISTIC", "FULLY_CONNECTED"}
_PASS_THROUGH = {"DEQUANTIZE", "QUANTIZE", "RESHAPE", "SQUEEZE", "IDENTITY"}


def looks_like_class_scores(sg, i: int) -> bool:
    """Whether argmax means something for output tensor i: a [batch, classes] tensor made by a
    classifier head (SOFTMAX, LOGISTIC, FULLY_CONNECTED), not boxes, landmarks or a mask."""
    t = sg.tensors[i]
    if len(t.shape) != 2 or t.shape[-1] < 2 or _NOT_CLASSES.search(t.name):
        return False
    producers = sg.producers()
    k = producers.get(i)
    while k is not None and sg.operators[k].op_type in _PASS_THROUGH:
        k = producers.get(sg.operators[k].inputs[0])
    return k is not None and sg.operators[k].op_type in _SCORE_OPS


def _parse_shapes(specs, details, sig_names) -> dict:
    out = {}
    for spec in specs:
        name, sep, dims = spec.partition("=")
        if not sep or not name or not dims:
            raise ValueError(f"--shape {spec!r}: expected NAME=D0,D1,... (e.g. 0=1,224,224,3)")
        k = _input_position(name, details, sig_names, "--shape")
        try:
            shape = [int(d) for d in dims.split(",")]
        except ValueError:
            raise ValueError(f"--shape {spec!r}: dimensions must be integers, e.g. 1,224,224,3") from None
        if any(d < 0 for d in shape):
            raise ValueError(f"--shape {spec!r}: dimensions must be >= 0")
        out[k] = shape
    return out


def _dynamic_without_shape(details, given, shapes) -> list:
    """Inputs whose size is unknown: a dynamic dimension other than the batch (a dynamic batch
    takes the file's size, normally 1, and the input line says so)."""
    return [f"{d['name']} {d['shape_signature'].tolist()}" for k, d in enumerate(details)
            if k not in given and k not in shapes and (d["shape_signature"][1:] < 0).any()]


def summarize(name: str, value: np.ndarray, detail: dict, argmax: bool = False) -> str:
    dt = np.dtype(detail["dtype"])
    text = f"{name}: {dt.name}{list(value.shape)}"
    if value.size == 0:
        return text + " (empty)"
    if value.dtype == np.bool_:
        return text + f" true {int(value.sum())}/{value.size}"
    v = value.astype(np.float64)
    text += f" min {v.min():.6g} max {v.max():.6g} mean {v.mean():.6g}"
    qp = detail["quantization_parameters"]
    if qp["scales"].size == 1:
        real = (v - float(qp["zero_points"][0])) * float(qp["scales"][0])
        text += f" | dequantized min {real.min():.6g} max {real.max():.6g}"
    if argmax and value.ndim >= 1 and value.shape[-1] > 1:
        flat = value.reshape(-1, value.shape[-1])
        am = np.argmax(flat, axis=-1)
        text += " | argmax " + (str(int(am[0])) if am.size == 1 else str(am[:8].tolist())
                                + ("..." if am.size > 8 else ""))
    return text


def run(args) -> int:
    if args.output and os.path.exists(args.output) and not args.force:
        raise FileExistsError(f"{args.output} exists; pass --force to overwrite it")
    model = load(args.model)
    it = Interpreter(model_content=model)
    details = it.get_input_details()
    sig_names = {}
    if len(model.signature_defs) == 1 and model.signature_defs[0]["subgraph_index"] == 0:
        pos = {d["index"]: k for k, d in enumerate(details)}
        sig_names = {t["name"]: pos[t["tensor_index"]] for t in model.signature_defs[0]["inputs"]
                     if t["tensor_index"] in pos}
    given = _parse_inputs(args.input, details, sig_names)
    shapes = _parse_shapes(args.shape, details, sig_names)
    missing = _dynamic_without_shape(details, given, shapes)
    if missing:
        raise ValueError(f"inputs with dynamic (-1) dimensions need a shape: {', '.join(missing)}; give "
                         "--shape NAME=D0,D1,... or a value with --input NAME=FILE.npy")
    for k, (value, _path) in given.items():
        shapes[k] = list(value.shape)
    for k, shape in shapes.items():
        if tuple(shape) != tuple(details[k]["shape"]):
            it.resize_tensor_input(details[k]["index"], shape)
    it.allocate_tensors()
    details = it.get_input_details()
    rng = np.random.default_rng(args.seed)
    inputs = []
    for k, d in enumerate(details):
        value = given[k][0] if k in given else random_input(d, rng)
        it.set_tensor(d["index"], value)
        inputs.append(value)
        origin = f"from {given[k][1]}" if k in given else f"random, seed {args.seed}"
        if k not in given and k not in shapes and d["shape_signature"].size and d["shape_signature"][0] < 0:
            origin += f"; dynamic batch, {d['shape'][0]} used: --shape to change it"
        print(f"input  {summarize(d['name'], value, d)} ({origin})")
    t0 = time.perf_counter()
    it.invoke()
    elapsed = time.perf_counter() - t0
    outputs = {}
    for d in it.get_output_details():
        value = it.get_tensor(d["index"])
        outputs[d["name"]] = value
        argmax = looks_like_class_scores(model.main, d["index"])
        print(f"output {summarize(d['name'], value, d, argmax=argmax)}")
    print(f"invoke took {1000 * elapsed:.1f} ms")
    if args.output:
        buf = io.BytesIO()
        arrays = dict(outputs)
        arrays.update({f"input:{d['name']}": v for d, v in zip(details, inputs)})
        np.savez(buf, **arrays)
        atomic_write(args.output, buf.getvalue(), overwrite=True)
        print(f"saved {len(outputs)} output(s) and {len(inputs)} input(s) to {args.output}")
    return 0
