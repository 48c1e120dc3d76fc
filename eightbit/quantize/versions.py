"""Operator versions and `min_runtime_version`, from the op table's version rules.

Each op table entry (eightbit/ops/) restates, for its builtin, GetBuiltinOperatorVersion
(op_version.cc: the version follows from the operator's tensor types and options) and
runtime_version.cc's map (version -> first TFLite runtime). As TF's exporter does, all operators
of one type share one operator code, so `update_versions` gives each type the highest version any
of its operators needs.
"""

from __future__ import annotations

from eightbit.errors import ModelError
from eightbit.ir import Model, Subgraph
from eightbit.ir.model import Buffer, Metadata
from eightbit.ops import Sig
from eightbit.ops.table import TABLE

# (op, version) -> first TFLite runtime, for the ops eightbit runs (a view of the table).
RUNTIME = {name: {v: r for v, r in spec.runtime.items() if r} for name, spec in TABLE.items()}


def op_version(sg: Subgraph, op) -> int:
    """The version TFLite's converter gives this operator (GetBuiltinOperatorVersion); an op the
    table does not know keeps its version."""
    spec = TABLE.get(op.op_type)
    if spec is None:
        return op.version or 1
    return spec.version_of(Sig.of(sg, op))


def update_versions(model: Model) -> None:
    """Set every builtin's version as TF does: the computed version (never lowered), and one
    version per operator type (the highest), since TF's exporter shares one operator code."""
    best: dict = {}
    for sg in model.subgraphs:
        for op in sg.operators:
            if op.op_type == "CUSTOM":
                continue
            v = max(op_version(sg, op), 1)
            best[op.op_type] = max(best.get(op.op_type, 1), v)
    for sg in model.subgraphs:
        for op in sg.operators:
            if op.op_type in best:
                op.version = best[op.op_type]


def _key(v: str):
    return tuple(int(p) if p.isdigit() else 0 for p in v.split("."))


def runtime_of(op_type: str, version: int) -> str | None:
    """The first TFLite runtime with (op, version), None where runtime_version.cc has no entry
    (TF then skips the op, and so do we). An op of the table whose version the table does not
    declare is an error: its version rules and runtime map disagree."""
    spec = TABLE.get(op_type)
    if spec is None:
        return None  # CUSTOM, or a builtin eightbit does not run: not ours to judge
    if version not in spec.runtime:
        raise ModelError(f"{op_type} version {version}: the op table declares versions "
                         f"{sorted(spec.runtime)} only (eightbit/ops/, runtime_version.cc)")
    return spec.runtime[version]


def min_runtime_version(model: Model) -> str:
    """The smallest TFLite runtime with every (operator, version) of the model ('' if none known)."""
    best = ""
    for sg in model.subgraphs:
        for op in sg.operators:
            v = runtime_of(op.op_type, op.version)
            if v and (not best or _key(v) > _key(best)):
                best = v
    return best


def set_min_runtime_version(model: Model) -> None:
    """Write the `min_runtime_version` metadata (a 16-byte, zero-padded string, as TF writes)."""
    v = min_runtime_version(model)
    if not v or len(v) >= 16:
        return
    data = v.encode("ascii") + b"\0" * (16 - len(v))
    for md in model.metadata:
        if md.name == "min_runtime_version":
            md.buffer = Buffer(data)
            return
    model.metadata.insert(0, Metadata("min_runtime_version", Buffer(data)))
