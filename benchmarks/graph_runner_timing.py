"""Median invoke time (1 thread) of the small models (benchmarks/small_models.py) on the
operator-by-operator plan (EIGHTBIT_GRAPH_RUNNER=0, as before the whole-graph runner), on the
whole-graph runner (eightbit/interpreter/graph_runner.py), and on LiteRT's optimized kernels.

    python benchmarks/graph_runner_timing.py [--invokes 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def median_invoke_us(it, n: int) -> float:
    for _ in range(min(200, n)):
        it.invoke()
    times = np.empty(n)
    for k in range(n):
        t = time.perf_counter()
        it.invoke()
        times[k] = time.perf_counter() - t
    return float(np.median(times)) * 1e6


def ready(it):
    it.allocate_tensors()
    d = it.get_input_details()[0]
    if d["dtype"] == np.float32:
        x = np.random.default_rng(0).random(d["shape"]).astype(np.float32)
    else:
        x = np.zeros(d["shape"], d["dtype"])
    it.set_tensor(d["index"], x)
    return it


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invokes", type=int, default=2000)
    args = ap.parse_args()
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    import eightbit
    from benchmarks.small_models import small_models

    print(f"{'model':22s} {'plan':>10s} {'graph':>10s} {'LiteRT':>10s}  graph/LiteRT")
    for name, raw in small_models().items():
        os.environ["EIGHTBIT_GRAPH_RUNNER"] = "0"
        plan = ready(eightbit.Interpreter(model_content=raw, num_threads=1))
        os.environ["EIGHTBIT_GRAPH_RUNNER"] = "1"
        graph = ready(eightbit.Interpreter(model_content=raw, num_threads=1))
        lite = ready(LiteRT(model_content=raw, num_threads=1))
        a = median_invoke_us(plan, max(args.invokes // 4, 1))
        b, c = median_invoke_us(graph, args.invokes), median_invoke_us(lite, args.invokes)
        runs = "" if graph.get_subgraph_runner()._graph is not None else "  (graph runner not used)"
        print(f"{name:22s} {a:8.1f}us {b:8.1f}us {c:8.1f}us  {b / c:5.1f}x{runs}")


if __name__ == "__main__":
    main()
