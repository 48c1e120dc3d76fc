"""What the whole-graph runner needs without importing numba: the opcodes of run_graph's
records, the float SOFTMAX's limits, and run_graph / exp_many themselves, from the ahead-of-time
library when it holds them (graph.py and graph_ops.py import numba when imported: a process whose
kernels all come from the library never loads it), else compiled by numba.
"""

from __future__ import annotations

import numpy as np

# Opcodes (the first field of a record).
CONV_F32, CONV_Q = 1, 2
DW_F32, DW_Q = 3, 4
FC_F32, FC_Q = 5, 6
MAXPOOL_F32, MAXPOOL_Q, AVGPOOL_F32, AVGPOOL_Q = 7, 8, 9, 10
COPY = 11
SOFTMAX_Q8, SOFTMAX_F32 = 12, 13
ADD_F32, ADD_Q = 14, 15
LUT8, QUANTIZE_F32 = 16, 17
MEAN_F32, MEAN_Q, CONCAT = 18, 19, 20

SOFTMAX_MAX_DEPTH = 8192  # numpy's reduction buffer: longer rows could be summed in chunks


def _from_library(name: str):
    from eightbit.kernels.fast import aot

    return aot.lookup(name) if aot.enabled() else None


def run_graph_kernel():
    """run_graph(prog, fpar, arena, consts) -> int: the library's, or numba's."""
    found = _from_library("eightbit.kernels.fast.graph:run_graph")
    if found is None:
        from eightbit.kernels.fast import graph

        found = graph.run_graph.run()
    return found


def _exp_many():
    found = _from_library("eightbit.kernels.fast.graph_softmax:exp_many")
    if found is None:
        from eightbit.kernels.fast import graph_softmax

        found = graph_softmax.exp_many.run()
    return found


def depth_ok(depth: int) -> bool:
    return 0 < depth <= SOFTMAX_MAX_DEPTH


_CHECKED: list = []


def exp_matches_numpy() -> bool:
    """Whether graph_softmax's float32 exp equals this process's np.exp (the float SOFTMAX of
    the reference kernels takes numpy's), checked once per process on a sparse sweep (about
    120k values, 15 ms): an exp computed another way (another numpy build or SIMD target)
    differs on about one input in ten, so the sweep cannot miss it;
    tests/unit/test_graph_runner.py sweeps every 97th float32."""
    if not _CHECKED:
        _CHECKED.append(exp_sweep_matches(10007, 99991))
    return _CHECKED[0]


def exp_sweep_matches(neg_step: int, pos_step: int) -> bool:
    """exp_many against np.exp on every neg_step-th float32 in [-105, 0], every pos_step-th in
    [0, the overflow bound] and the special values."""
    neg = np.arange(0x80000000, 0xC2D20000, neg_step, dtype=np.uint64).astype(np.uint32).view(np.float32)
    pos = np.arange(0, 0x42B20000, pos_step, dtype=np.uint32).view(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 88.72283935546875, -103.97208404541015625,
                        88.7, -103.9], np.float32)
    x = np.concatenate([neg, pos, special]).astype(np.float32)
    out = np.empty_like(x)
    _exp_many()(x, out)
    with np.errstate(all="ignore"):
        ref = np.exp(x)
    return bool(np.array_equal(out.view(np.uint32), ref.view(np.uint32)))
