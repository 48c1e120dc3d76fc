"""eightbit verify MODEL: check a quantized model against TFLite's quantization spec."""

from __future__ import annotations

import json
from dataclasses import asdict

from eightbit.debug.spec import check_spec
from eightbit.ir import load


def add_parser(subparsers):
    p = subparsers.add_parser(
        "verify", help="check a quantized model against TFLite's quantization spec",
        description="Check every operator of a quantized .tflite model (any producer's) against TFLite's "
                    "quantization spec: symmetric int8 weights in [-127, 127] on the right axis, zero-point "
                    "ranges, int16 zero points 0, bias scale = input scale x weight scale, fixed output "
                    "parameters, shared-scale rules, per-axis dimensions, integer op versions. Exits 1 and "
                    "lists every violation when the model breaks a rule.",
    )
    p.add_argument("model", help=".tflite file")
    p.add_argument("--json", action="store_true", help="print the violations as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    model = load(args.model)
    found = check_spec(model)
    ops = sum(len(sg.operators) for sg in model.subgraphs)
    quantized = sum(1 for sg in model.subgraphs for t in sg.tensors if t.quantized)
    if args.json:
        print(json.dumps({"model": args.model, "operators": ops, "quantized_tensors": quantized,
                          "violations": [asdict(v) for v in found]}, indent=1))
        return 1 if found else 0
    if not found:
        what = "no quantized tensors, nothing to check" if not quantized else "conforms to TFLite's quantization spec"
        print(f"{args.model}: {what} ({ops} operators, {quantized} quantized tensors)")
        return 0
    print(f"{args.model}: {len(found)} violation(s) of TFLite's quantization spec")
    for v in found:
        print(f"  {v}  [{v.rule}]")
    return 1
