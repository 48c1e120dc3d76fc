"""Shared constants: one tensor per reader before quantizing, one buffer per value after.

A float constant read by several operators (a clamp value fed to many MAXIMUM ops, a weight used
twice) is quantized with the parameters of the operator that reads it, and those differ per
reader (MAXIMUM's inputs take its output's scale). Stored once, every reader but one would read
it under the wrong parameters. `split_shared_constants` gives each extra reader its own copy
before quantization; `share_identical_buffers` lets copies that came out byte-identical (and
anything else identical) point at one buffer again, so the file does not grow.
"""

from __future__ import annotations

import copy
import hashlib

from eightbit.ir import Model
from eightbit.passes.graph import unique_name


def split_shared_constants(model: Model) -> int:
    """Give every float32 constant read at more than one (operator, input) place a copy per extra
    place; returns how many copies were made."""
    made = 0
    for sg in model.subgraphs:
        seen = set()
        pinned = set(sg.outputs) | set(sg.inputs)
        for op in sg.operators:
            for pos, i in enumerate(op.inputs):
                if i < 0 or i in pinned:
                    continue
                t = sg.tensors[i]
                if t.type != "FLOAT32" or not t.is_constant or t.sparsity is not None:
                    continue
                if i not in seen:
                    seen.add(i)
                    continue
                twin = copy.copy(t)  # same Buffer object: no bytes are copied
                twin.quantization = copy.deepcopy(t.quantization)
                twin.extra = dict(t.extra)
                twin.name = unique_name(sg, t.name)
                inputs = list(op.inputs)
                inputs[pos] = sg.add_tensor(twin)
                op.inputs = inputs
                made += 1
    return made


def share_identical_buffers(model: Model) -> int:
    """Point tensors whose constant bytes are equal at one Buffer; returns how many were merged."""
    canonical, merged = {}, 0
    for sg in model.subgraphs:
        for t in sg.tensors:
            if t.buffer is None or not len(t.buffer.data):
                continue
            key = (len(t.buffer.data), hashlib.sha256(t.buffer.data).digest())
            first = canonical.setdefault(key, t.buffer)
            if first is not t.buffer:
                t.buffer = first
                merged += 1
    return merged
