"""The activation memory plan of a subgraph: every non-constant tensor gets an offset in one
arena, tensors whose lifetimes (producing operator .. last reader) overlap never share bytes,
placed greedily by size as TFLite's ArenaPlanner does ("greedy by size", 64-byte aligned).

`plan_memory(subgraph, shapes)` gives the arena size next to the sum of all activations (what
holding every tensor at once would take); `eightbit inspect` reports both. The interpreter frees
each intermediate after its last reader, so its live activations follow the same lifetimes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALIGN = 64


@dataclass(frozen=True)
class MemoryPlan:
    arena_bytes: int  # peak of the planned arena
    activation_bytes: int  # all activations side by side
    offsets: dict  # tensor index -> byte offset in the arena
    lifetimes: dict  # tensor index -> (first operator, last operator)


def _lifetimes(sg) -> dict:
    n = len(sg.operators)
    life = {}
    for i in sg.inputs:
        life[i] = [-1, -1]
    for k, op in enumerate(sg.operators):
        for i in op.outputs:
            if i >= 0:
                life.setdefault(i, [k, k])
        for i in op.inputs:
            if i >= 0 and i in life:
                life[i][1] = k
    for i in sg.outputs:
        if i in life:
            life[i][1] = n
    return {i: (a, max(a, b)) for i, (a, b) in life.items()}


def greedy_offsets(sizes: dict) -> dict:
    """{item: byte offset} for items {item: (aligned size, first operator, last operator)}: the
    biggest first, each at the lowest offset no item alive at the same time overlaps."""
    placed = []  # (offset, size, first, last)
    offsets = {}
    for i, (size, first, last) in sorted(sizes.items(), key=lambda kv: (-kv[1][0], kv[0])):
        overlapping = sorted((o, s) for o, s, f, la in placed if not (la < first or last < f))
        offset = 0
        for o, s in overlapping:  # lowest gap that fits
            if offset + size <= o:
                break
            offset = max(offset, o + s)
        offsets[i] = offset
        placed.append((offset, size, first, last))
    return offsets


def plan_memory(sg, shapes=None) -> MemoryPlan:
    """The arena plan of subgraph `sg` for `shapes` (default: the file's shapes)."""
    sizes = {}
    for i, (first, last) in _lifetimes(sg).items():
        t = sg.tensors[i]
        if t.is_constant or t.is_variable:
            continue
        shape = shapes[i] if shapes is not None else t.shape
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(t.dtype).itemsize
        sizes[i] = (-(-nbytes // ALIGN) * ALIGN, first, last)
    offsets = greedy_offsets(sizes)
    placed = [(offsets[i], size, first, last) for i, (size, first, last) in sizes.items()]
    arena = max((o + s for o, s, _, _ in placed), default=0)
    return MemoryPlan(arena, sum(s for s, _, _ in sizes.values()), offsets,
                      {i: (f, la) for i, (_, f, la) in sizes.items()})
