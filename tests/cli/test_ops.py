"""`eightbit ops`: the coverage table comes from the op table (each entry's kernel and `types`), and it
is consistent with what the real models of the corpus need."""

from __future__ import annotations

import json

from eightbit.cli import main
from eightbit.kernels.registry import REGISTRY, get_kernel, get_spec
from eightbit.ops.base import TYPES
from tests.corpus import cases


def _coverage(capsys):
    assert main(["ops", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_lists_every_registry_op_with_its_kernel_types(capsys):
    cov = _coverage(capsys)
    assert list(cov) == [name for name, _, _ in REGISTRY]
    for name, types in cov.items():
        kernel = get_kernel(name)
        assert (types is None) == (kernel is None), name
        if kernel is not None:
            assert list(types) == list(TYPES)
            assert {t for t, yes in types.items() if yes} == set(get_spec(name).types), name


def test_table_has_a_row_per_op(capsys):
    assert main(["ops"]) == 0
    lines = capsys.readouterr().out.splitlines()
    if "" in lines:  # the custom ops follow the builtin table after a blank line
        lines = lines[:lines.index("")]
    assert lines[0].split() == ["op", *TYPES]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:-1]}
    assert list(rows) == [name for name, _, _ in REGISTRY]
    cov = {name: get_kernel(name) for name in rows}
    for name, cells in rows.items():
        if cov[name] is None:
            assert cells == ["(no", "kernel", "yet)"]
        else:
            assert cells == ["yes" if t in get_spec(name).types else "-" for t in TYPES]
    have = sum(k is not None for k in cov.values())
    assert lines[-1].startswith(f"{have} of {len(REGISTRY)} operators have kernels; float32: ")


def test_corpus_needs_are_covered(capsys):
    """Every op of a corpus model claims the type that model runs it in (TensorFlow's models)."""
    cov = _coverage(capsys)
    variant_type = {"float32": "float32", "float16": "float32", "int8": "int8", "int16x8": "int16",
                    "uint8_legacy": "uint8"}
    for c in cases():
        typ = variant_type.get(c["variant"])
        if typ is None:
            continue
        for op in c["ops"]:
            if op in ("QUANTIZE", "DEQUANTIZE"):
                continue  # they convert between types, listed under both
            assert cov[op] is not None and cov[op][typ], f"{c['case']}: {op} should run {typ}"
    # Dynamic-range models run their big-weight CONV_2D / FULLY_CONNECTED in hybrid mode.
    assert cov["FULLY_CONNECTED"]["hybrid"] and cov["CONV_2D"]["hybrid"]
