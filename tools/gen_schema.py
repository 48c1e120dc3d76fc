"""Generate eightbit/schema/_tables.py from the `tflite` package's flatc output.

The `tflite` PyPI package is flatc's Python output for TFLite's schema.fbs. We only
read facts from it (field slots, scalar types, defaults, enum values) and write them
as plain data, so the runtime needs neither that package nor flatc.

Usage: python tools/gen_schema.py  (needs `pip install tflite`)
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import pprint
import re
from pathlib import Path

import tflite

OUT = Path(__file__).resolve().parent.parent / "eightbit" / "schema" / "_tables.py"

# Union value fields and the union each holds; the generated readers do not say it.
UNION_OF_FIELD = {
    ("Operator", "BuiltinOptions"): "BuiltinOptions",
    ("Operator", "BuiltinOptions2"): "BuiltinOptions2",
    ("QuantizationParameters", "Details"): "QuantizationDetails",
    ("DimensionMetadata", "ArraySegments"): "SparseIndexVector",
    ("DimensionMetadata", "ArrayIndices"): "SparseIndexVector",
}
# schema.fbs asks for 16-byte alignment of these byte vectors (force_align: 16).
FORCE_ALIGN = {("Buffer", "data"): 16, ("CustomQuantization", "custom"): 16}

FLAG_TYPES = {
    "BoolFlags": "bool", "Int8Flags": "int8", "Uint8Flags": "uint8", "Int16Flags": "int16",
    "Uint16Flags": "uint16", "Int32Flags": "int32", "Uint32Flags": "uint32",
    "Int64Flags": "int64", "Uint64Flags": "uint64", "Float32Flags": "float32",
    "Float64Flags": "float64",
}
SLOT_TYPES = {
    "Bool": "bool", "Int8": "int8", "Uint8": "uint8", "Int16": "int16", "Uint16": "uint16",
    "Int32": "int32", "Uint32": "uint32", "Int64": "int64", "Uint64": "uint64",
    "Float32": "float32", "Float64": "float64",
}


def snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return s.lower()


def table_fields(mod, cls_name):
    cls = getattr(mod, cls_name)
    src_mod = inspect.getsource(mod)
    fields = []
    for meth_name, fn in cls.__dict__.items():
        # `Init` is flatc's constructor helper; a field accessor may also start with "Init"
        # (CallOnceOptions.InitSubgraphIndex), so only the exact name is skipped.
        if not callable(fn) or meth_name == "Init" or meth_name.startswith(("GetRootAs", "_")):
            continue
        if meth_name.endswith(("AsNumpy", "Length", "IsNone")) or "BufferHasIdentifier" in meth_name:
            continue
        src = inspect.getsource(fn)
        m = re.search(r"self\._tab\.Offset\((\d+)\)", src)
        if not m:
            continue
        slot = (int(m.group(1)) - 4) // 2
        params = list(inspect.signature(fn).parameters)
        name = snake(meth_name)
        if (cls_name, meth_name) in UNION_OF_FIELD:
            fields.append((name, slot, "union", UNION_OF_FIELD[(cls_name, meth_name)], None))
        elif len(params) == 2:  # vector accessor (self, j)
            if "self._tab.String(" in src:
                fields.append((name, slot, "vector", "string", None))
            elif (t := re.search(r"obj = (\w+)\(\)", src)):
                fields.append((name, slot, "vector", t.group(1), None))
            else:
                flag = re.search(r"number_types\.(\w+Flags), a", src).group(1)
                fields.append((name, slot, "vector", FLAG_TYPES[flag], None))
        elif "self._tab.String(" in src:
            fields.append((name, slot, "string", None, None))
        elif (t := re.search(r"obj = (\w+)\(\)", src)):
            fields.append((name, slot, "table", t.group(1), None))
        else:
            flag = re.search(r"number_types\.(\w+Flags), o", src).group(1)
            add = re.search(
                rf"def {cls_name}Add{meth_name}\(builder, \w+\):\s*\n\s*builder\.Prepend(\w+)Slot\({slot}, \w+, ([^)]+)\)",
                src_mod,
            )
            default = eval(add.group(2)) if add else 0  # noqa: S307 - literal from flatc output
            fields.append((name, slot, "scalar", FLAG_TYPES[flag], default))
    fields.sort(key=lambda f: f[1])
    # Every field the builder can write must have been read, so a field skipped by the filters
    # above (as InitSubgraphIndex once was) stops the generator instead of vanishing.
    added = {snake(n) for n in re.findall(rf"def {cls_name}Add(\w+)\(builder", src_mod)}
    if added != {f[0] for f in fields}:
        raise SystemExit(f"{cls_name}: fields {sorted(added - {f[0] for f in fields})} not read")
    return [
        f if f[2] != "vector" else (*f[:4], FORCE_ALIGN.get((cls_name, f[0])))
        for f in fields
    ]


def main():
    tables, enums = {}, {}
    for info in pkgutil.iter_modules(tflite.__path__):
        if info.name in ("utils",):
            continue
        mod = importlib.import_module(f"tflite.{info.name}")
        cls = getattr(mod, info.name, None)
        if cls is None:
            continue
        if hasattr(cls, "Init"):
            tables[info.name] = table_fields(mod, info.name)
        else:
            enums[info.name] = {k: v for k, v in vars(cls).items() if isinstance(v, int) and not k.startswith("_")}
    text = (
        '"""TFLite schema facts (generated by tools/gen_schema.py; do not edit).\n\n'
        "TABLES: table -> [(field, slot, kind, type, default_or_align)], kind in\n"
        "scalar/string/table/vector/union. ENUMS: enum or union -> {name: value}.\n"
        '"""\n\n'
        f"SCHEMA_SOURCE = 'tflite=={getattr(tflite, '__version__', '?')}'\n\n"
        f"TABLES = {pprint.pformat(tables, width=100, sort_dicts=True)}\n\n"
        f"ENUMS = {pprint.pformat(enums, width=100, sort_dicts=True)}\n"
    )
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(tables)} tables, {len(enums)} enums)")


if __name__ == "__main__":
    main()
