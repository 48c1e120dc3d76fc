"""The warnings a conversion ends with: one per kind of problem, each listing every place.

The quantizer warns per operator; a model with forty overflowing biases would print forty lines
that say one thing. `merge_repeated` folds them into one line each.
"""

from __future__ import annotations

import re

_PER_OP = [
    # (pattern over a per-operator warning, the one-line summary's wording)
    (re.compile(r"^operator (\d+) \((\w+)\): bias would overflow (\w+); widened the weight scale of channel\(s\) (.*)$"),
     "bias would overflow {0} in {1} operator(s); widened their weight scales: {2}"),
    (re.compile(r"^operator (\d+) \((\w+)\): bias clamped to (\w+) in channel\(s\) (.*)$"),
     "bias clamped to {0} in {1} operator(s): {2}"),
]


def _list(items: list, limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def merge_repeated(warnings: list) -> list:
    """The same warnings, with the per-operator bias ones merged into one line per kind."""
    out, groups = [], {}
    for msg in warnings:
        for n, (pattern, _) in enumerate(_PER_OP):
            m = pattern.match(msg)
            if m:
                k, op, typ, chans = m.groups()
                if n not in groups:
                    groups[n] = (len(out), typ, [])
                    out.append(None)  # the summary goes where the first one was
                groups[n][2].append(f"op {k} {op} channels {chans}")
                break
        else:
            out.append(msg)
    for n, (pos, typ, items) in groups.items():
        out[pos] = _PER_OP[n][1].format(typ, len(items), _list(items))
    return out


def float16_losses(model) -> str | None:
    """One warning naming the float32 constants float16 storage changes in kind, not just in
    precision: nonzero values that become 0 (below float16's smallest subnormal, e.g. a 1e-10
    epsilon) and finite values that become infinite (beyond 65504)."""
    import numpy as np

    flushed, overflowed = [], []
    for sg in model.subgraphs:
        for t in sg.tensors:
            v = t.data if t.type == "FLOAT32" else None
            if v is None or v.size == 0:
                continue
            with np.errstate(over="ignore"):
                h = v.astype(np.float16)
            if np.any((h == 0) & (v != 0)):
                flushed.append(t.name)
            if np.any(np.isinf(h) & np.isfinite(v)):
                overflowed.append(t.name)
    parts = []
    if flushed:
        parts.append(f"nonzero values become 0 in {len(flushed)} constant(s) ({_list(flushed, 4)})")
    if overflowed:
        parts.append(f"values beyond 65504 become infinite in {len(overflowed)} constant(s) ({_list(overflowed, 4)})")
    if not parts:
        return None
    return "float16 weights change results: " + "; ".join(parts)
