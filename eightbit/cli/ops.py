"""eightbit ops: which builtin operators run, for which types (from kernels/registry.py)."""

from __future__ import annotations

import json
import sys

from eightbit.kernels.base import TYPES
from eightbit.kernels.registry import REGISTRY, get_kernel


def add_parser(subparsers):
    p = subparsers.add_parser(
        "ops", help="operator coverage: op x float32/int8/uint8/int16/hybrid",
        description="Operator coverage table, built from eightbit/kernels/registry.py and each kernel's `types`.",
    )
    p.add_argument("--json", action="store_true", help="print JSON: {op: {type: bool} or null (no kernel)}")
    p.set_defaults(func=run)


def custom_coverage() -> dict:
    """custom_code -> {type: bool} for the custom ops that run (shipped or registered)."""
    from eightbit.kernels.custom import custom_ops

    return {name: {t: t in set(getattr(k, "types", ()) or ()) for t in TYPES} for name, k in custom_ops().items()}


def coverage() -> dict:
    """op name -> {type: bool} for ops with a kernel, None for ops whose kernel is missing."""
    out = {}
    for name, _module, _cls in REGISTRY:
        try:
            kernel = get_kernel(name)
        except Exception as e:  # noqa: BLE001 - a kernel module that fails to import counts as missing
            print(f"eightbit: warning: the {name} kernel cannot be imported: {type(e).__name__}: {e}", file=sys.stderr)
            kernel = None
        types = set(getattr(kernel, "types", ()) or ()) if kernel is not None else None
        out[name] = None if types is None else {t: t in types for t in TYPES}
    return out


def run(args) -> int:
    cov = coverage()
    custom = custom_coverage()
    if args.json:
        json.dump(cov, sys.stdout, indent=1)  # builtins only: the format tools already read
        print()
        return 0
    width = max(len(n) for n in cov)
    print("op".ljust(width) + "  " + "  ".join(TYPES))
    for name, types in cov.items():
        if types is None:
            cells = "(no kernel yet)"
        else:
            cells = "  ".join(("yes" if types[t] else "-").center(len(t)) for t in TYPES)
        print(name.ljust(width) + "  " + cells)
    have = sum(v is not None for v in cov.values())
    print(f"{have} of {len(cov)} operators have kernels; "
          + ", ".join(f"{t}: {sum(bool(v and v[t]) for v in cov.values())}" for t in TYPES))
    if custom:
        print()
        print("custom ops (CUSTOM operators by custom_code; add your own with eightbit.register_custom_op):")
        cw = max(len(n) for n in custom)
        for name, types in custom.items():
            print(name.ljust(cw) + "  " + "  ".join(t for t in TYPES if types[t]))
    return 0
