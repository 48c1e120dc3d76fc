"""eightbit inspect MODEL: subgraphs, operators with versions, tensors, totals by dtype."""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from eightbit.interpreter.memory_plan import plan_memory
from eightbit.ir import load


def add_parser(subparsers):
    p = subparsers.add_parser(
        "inspect", help="show a model's subgraphs, operators and tensors",
        description="Show a .tflite model's subgraphs, operators (with versions), tensors (shape, "
                    "type, quantization, buffer size) and totals by type.",
    )
    p.add_argument("model", help=".tflite file")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    p.add_argument("--no-tensors", action="store_true", help="leave out the per-tensor table")
    p.set_defaults(func=run)


def describe(model, path=None, size=None) -> dict:
    """Everything `inspect` shows, as plain JSON-able data."""
    out = {
        "file": path,
        "file_bytes": size,
        "schema_version": model.version,
        "description": model.description,
        "min_runtime_version": model.min_runtime_version,
        "metadata": [{"name": m.name, "bytes": len(m.buffer.data)} for m in model.metadata],
        "signatures": [
            {
                "key": sd["signature_key"], "subgraph": sd["subgraph_index"],
                "inputs": {t["name"]: t["tensor_index"] for t in sd["inputs"]},
                "outputs": {t["name"]: t["tensor_index"] for t in sd["outputs"]},
            }
            for sd in model.signature_defs
        ],
        "subgraphs": [],
        "operator_counts": {},
        "totals": {},
    }
    for (name, version), count in sorted(model.operator_summary().items()):
        out["operator_counts"][f"{name} v{version}"] = count
    totals = out["totals"]
    for s, sg in enumerate(model.subgraphs):
        ops = [
            {
                "index": k, "op": op.name, "version": op.version,
                "inputs": list(op.inputs), "outputs": list(op.outputs),
                "options": _jsonable(op.options),
            }
            for k, op in enumerate(sg.operators)
        ]
        tensors = []
        for i, t in enumerate(sg.tensors):
            nbytes = len(t.buffer.data) if t.buffer is not None else 0
            q = None
            if t.quantized:
                qp = t.quantization
                q = {
                    "scales": [float(x) for x in qp.scale],
                    "zero_points": [int(x) for x in qp.zero_point],
                    "quantized_dimension": int(qp.quantized_dimension),
                }
            tensors.append({
                "index": i, "name": t.name, "type": t.type, "shape": [int(d) for d in t.shape],
                "shape_signature": [int(d) for d in t.shape_signature] if t.shape_signature else None,
                "quantization": q, "constant": t.is_constant, "buffer_bytes": nbytes,
                "sparse": t.sparsity is not None, "variable": t.is_variable,
            })
            tot = totals.setdefault(t.type, {"tensors": 0, "constant_tensors": 0, "constant_bytes": 0,
                                             "activation_elements": 0})
            tot["tensors"] += 1
            if t.is_constant:
                tot["constant_tensors"] += 1
                tot["constant_bytes"] += nbytes
            else:
                tot["activation_elements"] += int(np.prod(t.shape, dtype=np.int64))
        mem = plan_memory(sg)  # activation arena, tensors reused by lifetime (interpreter/memory_plan.py)
        out["subgraphs"].append({
            "index": s, "name": sg.name, "inputs": list(sg.inputs), "outputs": list(sg.outputs),
            "operators": ops, "tensors": tensors,
            "arena_bytes": mem.arena_bytes, "activation_bytes": mem.activation_bytes,
        })
    return out


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _quant_text(q) -> str:
    if q is None:
        return "-"
    s, z = q["scales"], q["zero_points"]
    if len(s) == 1:
        return f"scale {s[0]:.6g} zp {z[0] if z else 0}"
    return f"per-axis {q['quantized_dimension']} x{len(s)}: scale {min(s):.3g}..{max(s):.3g}"


def _table(rows, header):
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
    return [line(header), *(line(r) for r in rows)]


def print_text(d, show_tensors=True, file=None):
    file = file or sys.stdout
    w = lambda s="": print(s, file=file)  # noqa: E731
    head = f"{d['file']}: {d['file_bytes']} bytes" if d["file"] else "model"
    w(f"{head}, schema version {d['schema_version']}"
      + (f", min runtime {d['min_runtime_version']}" if d["min_runtime_version"] else "")
      + (f", description {d['description']!r}" if d["description"] else ""))
    if d["metadata"]:
        w("metadata: " + ", ".join(f"{m['name']} ({m['bytes']} bytes)" for m in d["metadata"]))
    for sig in d["signatures"]:
        ins = ", ".join(f"{n}=tensor {i}" for n, i in sig["inputs"].items())
        outs = ", ".join(f"{n}=tensor {i}" for n, i in sig["outputs"].items())
        w(f"signature {sig['key']!r} (subgraph {sig['subgraph']}): inputs {ins}; outputs {outs}")
    for sg in d["subgraphs"]:
        w()
        w(f"subgraph {sg['index']}" + (f" {sg['name']!r}" if sg["name"] else "")
          + f": {len(sg['tensors'])} tensors, {len(sg['operators'])} operators, "
          f"inputs {sg['inputs']}, outputs {sg['outputs']}")
        w(f"activation arena: {sg['arena_bytes']} bytes (all activations: {sg['activation_bytes']} bytes)")
        w("operators:")
        rows = [(o["index"], o["op"], f"v{o['version']}", f"{o['inputs']} -> {o['outputs']}") for o in sg["operators"]]
        for line in _table(rows, ("#", "op", "version", "inputs -> outputs")):
            w("  " + line)
        if show_tensors:
            w("tensors:")
            rows = []
            for t in sg["tensors"]:
                kind = "const" if t["constant"] else ("var" if t["variable"] else "")
                if t["sparse"]:
                    kind += " sparse"
                rows.append((t["index"], t["name"], t["type"], t["shape"], _quant_text(t["quantization"]),
                             t["buffer_bytes"] or "-", kind.strip()))
            for line in _table(rows, ("#", "name", "type", "shape", "quantization", "bytes", "kind")):
                w("  " + line)
    w()
    w("operator counts: " + ", ".join(f"{k} x{v}" for k, v in d["operator_counts"].items()))
    w("totals by type:")
    rows = [(typ, t["tensors"], t["constant_tensors"], t["constant_bytes"], t["activation_elements"])
            for typ, t in sorted(d["totals"].items())]
    for line in _table(rows, ("type", "tensors", "constants", "constant bytes", "activation elements")):
        w("  " + line)
    total_const = sum(t["constant_bytes"] for t in d["totals"].values())
    w(f"  all types: {sum(t['tensors'] for t in d['totals'].values())} tensors, {total_const} constant bytes")


def run(args) -> int:
    model = load(args.model)
    d = describe(model, args.model, os.path.getsize(args.model))
    if args.json:
        json.dump(d, sys.stdout, indent=1)
        print()
    else:
        print_text(d, show_tensors=not args.no_tensors)
    return 0
