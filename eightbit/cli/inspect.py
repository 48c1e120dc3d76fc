"""eightbit inspect MODEL: subgraphs, operators with versions, tensors, totals by dtype."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import numpy as np

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
        out["subgraphs"].append({
            "index": s, "name": sg.name, "inputs": list(sg.inputs), "outputs": list(sg.outputs),
            "operators": ops, "tensors": tensors,
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
    return f"per-axis {q['quantized_dimension']} x{len(s)} {min(s):.2g}..{max(s):.2g}"


WIDTH = 100  # text output fits a 100-column terminal; --json has every name in full


def shorten(text, width: int) -> str:
    """`text` cut in the middle to `width` characters (TF's fused names differ at both ends)."""
    text = str(text)
    if len(text) <= width:
        return text
    if width <= 5:
        return text[:width]
    head = (width - 3) // 2
    return text[:head] + "..." + text[len(text) - (width - 3 - head):]


def _cut_end(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def _table(rows, header, flexible: int | None = None, indent: int = 2):
    """Rows as aligned lines; column `flexible` is shortened so a line fits in WIDTH."""
    rows = [[str(x) for x in r] for r in rows]
    header = [str(x) for x in header]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    if flexible is not None:
        others = sum(w for c, w in enumerate(widths) if c != flexible) + 2 * (len(widths) - 1)
        widths[flexible] = max(12, min(widths[flexible], WIDTH - indent - others))
        for r in rows:
            r[flexible] = shorten(r[flexible], widths[flexible])
    line = lambda r: "  ".join(x[:w].ljust(w) if c == flexible else x.ljust(w)  # noqa: E731
                               for c, (x, w) in enumerate(zip(r, widths))).rstrip()
    return [line(header), *(line(r) for r in rows)]


def _shape_text(t) -> str:
    """The shape, with TF's -1 for each dynamic dimension (from shape_signature)."""
    dims = t["shape_signature"] if t["shape_signature"] else t["shape"]
    return str([int(d) for d in dims])


def _wrapped(w, text: str) -> None:
    for line in textwrap.wrap(text, WIDTH, subsequent_indent="    ", break_on_hyphens=False):
        w(line)


def print_text(d, show_tensors=True, file=None):
    file = file or sys.stdout
    w = lambda s="": print(s, file=file)  # noqa: E731
    head = f"{d['file']}: {d['file_bytes']} bytes" if d["file"] else "model"
    w(f"{head}, schema version {d['schema_version']}"
      + (f", min runtime {d['min_runtime_version']}" if d["min_runtime_version"] else ""))
    if d["description"]:
        w(f"description {shorten(d['description'], WIDTH - 14)!r}")
    if d["metadata"]:
        _wrapped(w, "metadata: " + ", ".join(f"{shorten(m['name'], 40)} ({m['bytes']} bytes)" for m in d["metadata"]))
    for sig in d["signatures"]:
        ins = ", ".join(f"{shorten(n, 40)}=tensor {i}" for n, i in sig["inputs"].items())
        outs = ", ".join(f"{shorten(n, 40)}=tensor {i}" for n, i in sig["outputs"].items())
        _wrapped(w, f"signature {shorten(sig['key'], 40)!r} (subgraph {sig['subgraph']}): inputs {ins}; outputs {outs}")
    for sg in d["subgraphs"]:
        w()
        _wrapped(w, f"subgraph {sg['index']}" + (f" {shorten(sg['name'], 40)!r}" if sg["name"] else "")
                 + f": {len(sg['tensors'])} tensors, {len(sg['operators'])} operators, "
                 f"inputs {sg['inputs']}, outputs {sg['outputs']}")
        by_index = {t["index"]: t for t in sg["tensors"]}
        dynamic = [f"{shorten(by_index[i]['name'], 40)} {_shape_text(by_index[i])}" for i in sg["inputs"]
                   if i in by_index and -1 in (by_index[i]["shape_signature"] or [])]
        if dynamic:
            _wrapped(w, "dynamic inputs (-1: set with resize_tensor_input / run -i): " + ", ".join(dynamic))
        w("operators:")
        rows = [(o["index"], shorten(o["op"], 32), f"v{o['version']}", f"{o['inputs']} -> {o['outputs']}")
                for o in sg["operators"]]
        for line in _table(rows, ("#", "op", "version", "inputs -> outputs"), flexible=3):
            w("  " + line)
        if show_tensors:
            w("tensors:")
            rows = []
            for t in sg["tensors"]:
                # constants show their bytes; variables and sparse constants say so
                kind = " ".join(k for k, on in (("var", t["variable"]), ("sparse", t["sparse"])) if on)
                stored = " ".join(x for x in (str(t["buffer_bytes"] or ""), kind) if x) or "-"
                rows.append((t["index"], t["name"], t["type"], shorten(_shape_text(t), 20),
                             _cut_end(_quant_text(t["quantization"]), 28), stored))
            for line in _table(rows, ("#", "name", "type", "shape", "scale / zero point", "bytes"), flexible=1):
                w("  " + line)
    w()
    _wrapped(w, "operator counts: " + ", ".join(f"{k} x{v}" for k, v in d["operator_counts"].items()))
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
