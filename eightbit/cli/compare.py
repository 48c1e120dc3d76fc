"""eightbit compare FLOAT.tflite QUANT.tflite: where does the quantized model lose accuracy?

Runs both models on the same samples and prints the output agreement and the worst tensors:
error figures of each quantized tensor against the float model's, and against its float
operator run on the quantized inputs (the error that layer adds). See docs/debugging.md.

Samples: --data X.npz with one array per model input, named by the input's name or `input_<i>`,
samples on axis 0; without data, random samples uniform in the input's range: the float input's
recorded min/max, else the range the quantized model's input (or its first QUANTIZE) represents,
else [0, 1].
"""

from __future__ import annotations

import os
import sys

import numpy as np

from eightbit.cli.arrays import load_arrays
from eightbit.debug.causes import diagnose
from eightbit.debug.compare import compare_models
from eightbit.debug.engine import ModelPair, load_model
from eightbit.debug.html_report import render
from eightbit.debug.matching import match_models
from eightbit.debug.metrics import is_quantized
from eightbit.debug.sensitivity import suggest_denylist
from eightbit.tflite import atomic_write

DEFAULT_SAMPLES = 32
DEFAULT_RANGE = (0.0, 1.0)
SORT_KEYS = ("layer_sqnr_db", "sqnr_db", "rmse_lsb", "rmse_rel_range", "max_abs_error", "saturation_pct")


def add_parser(subparsers):
    p = subparsers.add_parser(
        "compare", help="per-tensor quantization error of a quantized model against its float model",
        description="Run a float .tflite model and its quantized version on the same samples and report, for every "
                    "quantized tensor, the error against the float model (SQNR, max abs error, mean error, RMSE, "
                    "RMSE in quantization steps and relative to the float range, saturation) and the error its "
                    "own operator adds (layer SQNR), plus the outputs' top-1 agreement and SQNR.",
    )
    p.add_argument("float_model", help="the float .tflite model")
    p.add_argument("quant_model", help="its quantized .tflite model")
    p.add_argument("--data", metavar="X.npz",
                   help="samples: one array per model input, named by input name or input_<i>, samples on axis 0 "
                        "(default: random samples in the input's range)")
    p.add_argument("--samples", type=int, metavar="N",
                   help=f"number of samples (default: all of --data, {DEFAULT_SAMPLES} random ones without)")
    p.add_argument("--seed", type=int, default=0, help="seed for random samples (default 0)")
    p.add_argument("--top", type=int, default=10, metavar="N", help="show the N worst tensors (default 10; 0: all)")
    p.add_argument("--by", default="layer_sqnr_db", choices=SORT_KEYS,
                   help="figure ranking the worst tensors (default layer_sqnr_db: the error each layer adds)")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON instead of tables")
    p.add_argument("--csv", metavar="OUT", help="also write every tensor's figures to OUT as CSV")
    p.add_argument("--html", metavar="OUT", help="also write a self-contained HTML report (causes, charts, graph)")
    p.add_argument("--force", action="store_true", help="overwrite the --csv / --html file if it exists")
    p.add_argument("--no-causes", action="store_true", help="skip the cause rules (eightbit.debug.diagnose)")
    p.add_argument("--no-measure", action="store_true",
                   help="do not measure fixes that need a re-conversion (int16x8)")
    p.add_argument("--suggest-denylist", action="store_true",
                   help="propose the smallest set of operators to keep float that reaches --target-sqnr "
                        "(re-converts the float model as the quantized one was, calibrated on the samples)")
    p.add_argument("--target-sqnr", type=float, metavar="DB", default=40.0,
                   help="output SQNR the suggested denylist must reach (default 40 dB)")
    p.set_defaults(func=run)


def _representable(t) -> tuple[float, float] | None:
    if not is_quantized(t) or t.quantization.scale.size != 1:
        return None
    info = np.iinfo(t.dtype)
    s, z = float(t.quantization.scale[0]), int(t.quantization.zero_point[0])
    return (info.min - z) * s, (info.max - z) * s


def input_ranges(float_model, quant_model) -> list:
    """(low, high, where it comes from) per float-model input, for random samples."""
    fsg, qsg = float_model.main, quant_model.main
    matching = match_models(float_model, quant_model)
    f_to_q = {fi: qi for qi, (fi, _) in matching.tensors.items() if qi in qsg.inputs}
    consumers = qsg.consumers()
    out = []
    for fi in fsg.inputs:
        t = fsg.tensors[fi]
        q = t.quantization
        if q is not None and q.min is not None and q.max is not None and q.min.size and q.max.size:
            out.append((float(q.min.min()), float(q.max.max()), "the float input's recorded min/max"))
            continue
        qi = f_to_q.get(fi)
        rng = None
        if qi is not None:
            rng = _representable(qsg.tensors[qi])
            where = "the quantized model's input quantization"
            if rng is None:
                for k in consumers.get(qi, ()):
                    op = qsg.operators[k]
                    if op.op_type == "QUANTIZE":
                        rng = _representable(qsg.tensors[op.outputs[0]])
                        where = "the quantized model's input QUANTIZE"
                        break
        if rng is not None:
            out.append((rng[0], rng[1], where))
        else:
            out.append((*DEFAULT_RANGE, "default"))
    return out


def random_samples(float_model, quant_model, n: int, seed: int) -> tuple[list, list]:
    """Random samples for every float-model input, and one line per input saying how."""
    rng = np.random.default_rng(seed)
    fsg = float_model.main
    arrays, lines = [], []
    for fi, (lo, hi, where) in zip(fsg.inputs, input_ranges(float_model, quant_model)):
        t = fsg.tensors[fi]
        shape = (n, *[int(d) for d in t.shape])
        if t.dtype.kind == "f":
            arrays.append(rng.uniform(lo, hi, size=shape).astype(t.dtype))
            lines.append(f"{t.name}: uniform in [{lo:.6g}, {hi:.6g}] ({where})")
        elif t.dtype == np.bool_:
            arrays.append(rng.integers(0, 2, size=shape).astype(np.bool_))
            lines.append(f"{t.name}: random booleans")
        elif t.dtype.kind in "iu":
            arrays.append(rng.integers(0, 10, size=shape).astype(t.dtype))
            lines.append(f"{t.name}: integers in [0, 10)")
        else:
            raise ValueError(f"cannot make random values for input {t.name!r} of type {t.type}; give --data")
    return arrays, lines


def _load_data(path):
    arrays = load_arrays(path, "--data")
    # A .npy is the one input's samples; the pairing (engine.stack_inputs) checks the input count.
    return arrays[""] if set(arrays) == {""} else arrays


def run(args) -> int:
    if args.samples is not None and args.samples < 1:
        raise ValueError(f"--samples must be at least 1, got {args.samples}")
    if args.top < 0:
        raise ValueError(f"--top must be >= 0, got {args.top}")
    for out in (args.csv, args.html):
        if out and os.path.exists(out) and not args.force:
            raise FileExistsError(f"{out} exists; pass --force to overwrite it")
    float_model, _ = load_model(args.float_model)
    quant_model, _ = load_model(args.quant_model)
    if args.data:
        inputs = _load_data(args.data)
        origin = [f"samples from {args.data}"]
    else:
        inputs, origin = random_samples(float_model, quant_model, args.samples or DEFAULT_SAMPLES, args.seed)
        origin = [f"random samples, seed {args.seed}: " + line for line in origin]
    report = compare_models(float_model, quant_model, inputs, max_samples=args.samples, progress=_progress_bar(),
                            activity=not args.no_causes or bool(args.html))
    report.float_model, report.quant_model = args.float_model, args.quant_model
    if args.csv:
        atomic_write(args.csv, report.to_csv().encode(), overwrite=True)
    explained = explain(args, float_model, quant_model, inputs, report)
    if args.json:
        print(report.to_json(indent=2))
        return 0
    print(f"{args.float_model} (float) vs {args.quant_model} (quantized): {report.samples} samples")
    for line in origin:
        print(f"  {line}")
    print()
    print("Outputs (quantized vs float):")
    for line in report.outputs_text().splitlines():
        print(f"  {line}")
    print()
    rows = report.worst(args.top or len(report.layers), args.by)
    print(f"Worst {len(rows)} of {len(report.layers)} tensors by {args.by} "
          "(SQNR: vs the float model; layer SQNR: the error the layer adds given its quantized inputs):")
    print(report.layers_table(rows))
    methods = {}
    for r in report.layers:
        methods[r.match] = methods.get(r.match, 0) + 1
    how = ", ".join(f"{v} by {k}" for k, v in sorted(methods.items(), key=lambda kv: -kv[1]))
    print(f"\nTensors paired with the float model: {len(report.layers)} ({how}).")
    if report.unmatched:
        print(f"Quantized tensors without a float counterpart ({len(report.unmatched)}): {', '.join(report.unmatched)}")
    for w in report.warnings:
        print(f"Warning: {w}")
    for note in report.notes:
        print(f"Note: {note}")
    print_explained(args, explained, report)
    if args.csv:
        print(f"Wrote {len(report.layers)} rows to {args.csv}")
    return 0


def _progress_bar():
    """A progress callback drawing a bar on a terminal (tqdm, when installed), else None."""
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    bar = []

    def update(k, n):
        if not bar:
            bar.append(tqdm(total=n, desc="comparing", unit="sample", file=sys.stderr, leave=False))
        bar[0].update(1)
        if k == n:
            bar[0].close()

    return update


def _samples(float_model, quant_model, inputs, limit):
    arrays = ModelPair(float_model, quant_model, layerwise=False).stack_inputs(inputs)
    n = min(int(arrays[0].shape[0]), limit)
    return [[a[k] for a in arrays] for k in range(n)]


def _converter_like(quant_model, samples):
    """make_converter(model_bytes) that converts as `quant_model` was: its activation type and
    I/O types, calibrated on `samples`."""
    from eightbit import OpsSet, Optimize, TFLiteConverter

    qsg = quant_model.main
    int16 = any(t.type == "INT16" and is_quantized(t) for t in qsg.tensors)
    in_t, out_t = qsg.tensors[qsg.inputs[0]].dtype, qsg.tensors[qsg.outputs[0]].dtype

    def make(model_bytes):
        conv = TFLiteConverter.from_tflite(model_bytes)
        conv.optimizations = [Optimize.DEFAULT]
        conv.representative_dataset = lambda: iter(samples)
        if int16:
            conv.target_spec.supported_ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                                              OpsSet.TFLITE_BUILTINS]
        conv.inference_input_type, conv.inference_output_type = in_t, out_t
        return conv

    return make, ("int16x8" if int16 else "int8")


def explain(args, float_model, quant_model, inputs, report) -> dict:
    """Causes, the HTML report and the suggested denylist, as asked on the command line."""
    out: dict = {}
    want_causes = not args.no_causes
    if not (want_causes or args.html or args.suggest_denylist):
        return out
    samples = _samples(float_model, quant_model, inputs, report.samples)  # the samples the report used
    act = report.activity  # gathered in the comparison's own run (None with --no-causes and no --html)
    out["causes"] = diagnose(float_model, quant_model, samples, measure=not args.no_measure,
                             activity=act) if want_causes else []
    if args.html:
        page = render(report, quant_model, out["causes"], act)
        atomic_write(args.html, page.encode(), overwrite=True)
        out["html"] = args.html
    if args.suggest_denylist:
        make, mode = _converter_like(quant_model, samples)
        out["plan"] = suggest_denylist(float_model.to_bytes(), make, samples, args.target_sqnr)
        out["mode"] = mode
    return out


def print_explained(args, explained: dict, report) -> None:
    causes = explained.get("causes")
    if causes is not None and not args.no_causes:
        print(f"\nCauses ({len(causes)}):" if causes else "\nCauses: none of the known causes was found.")
        for c in causes:
            print(f"  {c}")
    plan = explained.get("plan")
    if plan is not None:
        print(f"\nSuggested denylist for {args.target_sqnr:g} dB (re-converted on these samples without one: "
              f"{plan.baseline_db:.1f} dB): ", end="")
        if not plan.denylist:
            print("none needed." if plan.reached else "no operator kept float helps.")
        else:
            reach = "reaches" if plan.reached else "does not reach"
            print(f"{len(plan.denylist)} operator(s), {plan.reached_db:.1f} dB ({reach} the target)")
            for row in plan.ops:
                print(f"  {row}")
            print(f"  {plan.converter_call}")
            data = f" --data {args.data}" if args.data else ""
            print(f"  eightbit quantize {args.float_model} -o OUT.tflite --mode {explained['mode']}{data} "
                  + " ".join(f"--denylist '{d}'" for d in plan.denylist))
    if explained.get("html"):
        print(f"\nWrote the HTML report to {explained['html']}")
