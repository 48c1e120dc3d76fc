"""The whole-graph runner's compiled loop: one call runs every operator of a small model.

A program is four flat arrays, the same types for every model (so `run_graph` is compiled once,
cached on disk, and never per model):
- prog   int64: prog[0] the operator count, then one record per operator: [opcode, record length,
         fields...] (fields per opcode: graph_ops.py; laid out by eightbit/interpreter/graph_runner.py);
- fpar   float32: float scalars the records point into (clamp bounds, SOFTMAX's beta);
- arena  uint8: every activation at a fixed byte offset (64-aligned);
- consts uint8: the constants, re-laid out for the loops (8-byte aligned typed blocks).
`run_graph` returns -1, or the index of the operator that found its input out of the range the
reference accepts (the caller then runs the operator-by-operator plan, which raises its error).
"""

from __future__ import annotations

import hashlib
import os

from eightbit.kernels.fast import graph_conv as gc
from eightbit.kernels.fast import graph_ops as g
from eightbit.kernels.fast import graph_softmax as gs
from eightbit.kernels.fast.graph_api import (  # the opcodes
    ADD_F32,
    ADD_Q,
    AVGPOOL_F32,
    AVGPOOL_Q,
    CONCAT,
    CONV_F32,
    CONV_Q,
    COPY,
    DW_F32,
    DW_Q,
    FC_F32,
    FC_Q,
    LUT8,
    MAXPOOL_F32,
    MAXPOOL_Q,
    MEAN_F32,
    MEAN_Q,
    QUANTIZE_F32,
    SOFTMAX_F32,
    SOFTMAX_Q8,
)
from eightbit.kernels.fast.jit import njit


def _sources_digest() -> int:
    """A number that changes with any graph*.py source: run_graph's disk cache is keyed on it."""
    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for name in sorted(os.listdir(here)):
        if name.startswith("graph") and name.endswith(".py"):
            with open(os.path.join(here, name), "rb") as f:
                h.update(f.read())
    return int.from_bytes(h.digest()[:7], "little")


def _make_run_graph(digest: int):
    # A closure over the digest: numba keys a cached function on its closure's values, so an
    # edited operator in graph_ops.py (not only this file) compiles a new run_graph.
    def run_graph(prog, fpar, arena, consts):
        """-1, or the index of the operator whose input the reference rejects."""
        if digest < 0:
            return -2
        return _run(prog, fpar, arena, consts)

    return run_graph


@g.inline
def _run(prog, fpar, arena, consts):
    pos = 1
    for k in range(prog[0]):
        op, length = prog[pos], prog[pos + 1]
        rec = prog[pos:pos + length]
        pos += length
        status = 0
        if op == CONV_F32:
            gc.conv_f32(rec, fpar, arena, consts)
        elif op == CONV_Q:
            gc.conv_q(rec, fpar, arena, consts)
        elif op == DW_F32:
            g.dw_f32(rec, fpar, arena, consts)
        elif op == DW_Q:
            g.dw_q(rec, fpar, arena, consts)
        elif op == FC_F32:
            g.fc_f32(rec, fpar, arena, consts)
        elif op == FC_Q:
            g.fc_q(rec, fpar, arena, consts)
        elif op == MAXPOOL_F32:
            g.pool_f32(rec, fpar, arena, consts, True)
        elif op == AVGPOOL_F32:
            g.pool_f32(rec, fpar, arena, consts, False)
        elif op == MAXPOOL_Q:
            g.pool_q(rec, fpar, arena, consts, True)
        elif op == AVGPOOL_Q:
            g.pool_q(rec, fpar, arena, consts, False)
        elif op == COPY:
            g.copy_bytes(rec, fpar, arena, consts)
        elif op == SOFTMAX_Q8:
            status = g.softmax_q8(rec, fpar, arena, consts)
        elif op == SOFTMAX_F32:
            gs.softmax_f32(rec, fpar, arena, consts)
        elif op == ADD_F32:
            g.add_f32(rec, fpar, arena, consts)
        elif op == ADD_Q:
            g.add_q(rec, fpar, arena, consts)
        elif op == LUT8:
            g.lut8(rec, fpar, arena, consts)
        elif op == QUANTIZE_F32:
            g.quantize_f32(rec, fpar, arena, consts)
        elif op == MEAN_F32:
            g.mean_f32(rec, fpar, arena, consts)
        elif op == MEAN_Q:
            g.mean_q(rec, fpar, arena, consts)
        elif op == CONCAT:
            g.concat_bytes(rec, fpar, arena, consts)
        else:
            return k
        if status != 0:
            return k
    return -1


_run_graph = _make_run_graph(_sources_digest())
_run_graph.__qualname__ = "run_graph"  # its name in the ahead-of-time library (graph_api.run_graph_kernel)
# Through jit.njit: compiled with numba's disk cache, and built into the ahead-of-time library,
# which graph_api looks it up in without importing this module (and numba).
run_graph = njit(_run_graph)
