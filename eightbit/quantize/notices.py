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
