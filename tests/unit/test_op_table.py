"""The op table (eightbit/ops/) is the one list of ops: its kernels resolve, the kernels' own type
claims (where a kernel still has them) and `eightbit ops` agree with it, every op the interpreter
runs has version rules and a runtime map, and the versions TensorFlow wrote into the corpus models
are the ones the rules give and the table declares."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import eightbit
from eightbit.cli import main
from eightbit.errors import ModelError
from eightbit.ir.serialize import load as load_model
from eightbit.kernels.base import Kernel
from eightbit.kernels.registry import KERNELS, REGISTRY, get_kernel, get_spec
from eightbit.ops import OpSpec, Sig
from eightbit.ops.base import TYPES
from eightbit.ops.table import TABLE
from eightbit.quantize.versions import min_runtime_version, op_version, runtime_of
from tests.corpus import cases, model_bytes

ROOT = Path(eightbit.__file__).resolve().parent


def test_every_entry_resolves_to_a_kernel_class():
    assert list(KERNELS) == list(TABLE) == [name for name, _, _ in REGISTRY]
    for name, spec in TABLE.items():
        kernel = get_kernel(name)
        assert isinstance(kernel, type) and issubclass(kernel, Kernel), name
        assert kernel.__name__ == spec.kernel_class and kernel.__module__ == f"eightbit.kernels.{spec.kernel_module}"
        assert get_spec(name) is spec


def test_entries_are_complete():
    for name, spec in TABLE.items():
        # types may be empty: bool-only ops (LOGICAL_AND, REDUCE_ANY) run none of TYPES
        assert spec.name == name and set(spec.types) <= set(TYPES), name
        assert spec.doc, f"{name}: no doc line"
        assert spec.runtime and all(isinstance(v, int) and v >= 1 for v in spec.runtime), name
        assert set(spec.ptq_types) <= set(spec.types), name
        assert spec.quantizable == ("int8" in spec.ptq_types) and spec.int16 == ("int16" in spec.ptq_types)


def test_kernels_that_still_list_types_agree_with_the_table():
    """Kernels declared `types` before the table held them; where one still does, it must match."""
    for name, kernel in KERNELS.items():
        own = kernel.__dict__.get("types")
        if own:
            assert set(own) == set(TABLE[name].types), f"{name}: kernel says {own}, table {TABLE[name].types}"


def test_eightbit_ops_prints_the_table(capsys):
    assert main(["ops", "--json"]) == 0
    cov = json.loads(capsys.readouterr().out)
    assert list(cov) == list(TABLE)
    for name, types in cov.items():
        assert {t for t, yes in types.items() if yes} == set(TABLE[name].types), name


def test_entry_with_ptq_types_its_kernel_lacks_is_refused():
    with pytest.raises(ValueError, match="ptq"):
        OpSpec("X", kernel="x.X", types=("float32",), ptq=("int8",))
    with pytest.raises(ValueError, match="unknown kernel types"):
        OpSpec("X", kernel="x.X", types=("int4",))


def test_no_name_built_imports():
    """Specs and kernels are imported explicitly; nothing in eightbit builds a module name."""
    for path in ROOT.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"import_module\(\s*f[\"']eightbit\.(ops|kernels)", text), \
            f"{path.relative_to(ROOT)} builds an op or kernel module name"


def _corpus_models():
    seen = {}
    for c in cases():
        seen.setdefault(c["model_file"], c)
    return list(seen.values())


def test_corpus_versions_are_the_rules_and_declared():
    """Every (op, version) TensorFlow wrote into a corpus model is one the table declares, and per
    op type the highest version our rules give is the one TF wrote (its exporter shares one code).
    TF's int16x8 models are the exception: its experimental int16 path leaves the versions of the
    int8 rules (e.g. FULLY_CONNECTED 4, not 11), so for them only the declaration is checked."""
    for c in _corpus_models():
        exact = "int16x8" not in c["model_file"]
        m = load_model(model_bytes(c))
        best: dict = {}
        for sg in m.subgraphs:
            for op in sg.operators:
                if op.op_type not in TABLE:
                    continue
                runtime_of(op.op_type, op.version)  # raises when undeclared
                best[op.op_type] = max(best.get(op.op_type, 1), op_version(sg, op))
        for sg in m.subgraphs:
            for op in sg.operators:
                if exact and op.op_type in best:
                    assert op.version == best[op.op_type], f"{c['model_file']}: {op.op_type}"
        if exact and m.min_runtime_version:
            assert min_runtime_version(m) == m.min_runtime_version, c["model_file"]


def test_undeclared_version_fails_loudly():
    c = _corpus_models()[0]
    m = load_model(model_bytes(c))
    op = m.main.operators[0]
    op.version = 99
    with pytest.raises(ModelError, match=f"{op.op_type} version 99"):
        min_runtime_version(m)


def test_version_rule_sees_the_operator():
    c = next(c for c in _corpus_models() if "CONV_2D" in c["ops"] and c["variant"] == "int8")
    m = load_model(model_bytes(c))
    sg = m.main
    op = next(op for op in sg.operators if op.op_type == "CONV_2D")
    sig = Sig.of(sg, op)
    assert (sig.t0, sig.t1, sig.o0) == ("INT8", "INT8", "INT8") and TABLE["CONV_2D"].version_of(sig) == 3


def test_docs_ops_md_is_the_table():
    """docs/ops.md is `eightbit ops --markdown`: regenerate it when an op is added."""
    from eightbit.cli.ops import markdown

    assert (ROOT.parent / "docs" / "ops.md").read_text() == markdown(), \
        "docs/ops.md is stale: eightbit ops --markdown > docs/ops.md"
