"""Interpreter speed: eightbit against LiteRT (default optimized resolver and BUILTIN_REF).

    python benchmarks/interpreter.py [MODEL.tflite ...] [--bench-dir DIR] [--batches 1,32]
                                     [--threads 1,2] [--budget SECONDS] [--markdown] [--no-memory]

Runs the .tflite models of --bench-dir (default: ../shared/bench next to the repository) plus
any given on the command line, all in one process, at each batch size and thread count, and
prints the median invoke() time of each engine and the ratios. Engines: eightbit (its default
fast kernels), eightbit-ref (kernels="reference", with --engines), LiteRT's reference kernels
(BUILTIN_REF) and LiteRT's default optimized resolver (XNNPACK). eightbit's threads are its
fast kernels' row-block threads (BLAS held at one thread), num_threads as for LiteRT.

Then, unless --no-memory, for eightbit and litert-opt at each batch size (1 thread), a fresh
process per cell measures the peak RSS (VmHWM, after creating, allocating and invoking once)
above the RSS after imports, and the first allocate_tensors() + invoke() time against a steady
invoke().

Small models (benchmarks/small_models.py: the bundled digits CNN, float32 and quantized int8, and
a chain of 100 tiny int8 ADDs) run at batch 1 unless --no-small: there the fixed cost of each
operator dominates; the chain's median invoke divided by its length is printed as the fixed cost
per operator of each engine.

Before timing, each model also gets checked: load(x).to_bytes() must run in LiteRT exactly like
x (the round-trip check for files too big for the test data), and eightbit's outputs are
compared with the reference kernels' (integers: mismatching elements; floats: max abs diff).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import eightbit  # noqa: E402

DEFAULT_BENCH_DIR = REPO.parent / "shared" / "bench"


def _threadpool():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return threadpool_info()


def make_input(detail, batch, rng):
    shape = [batch, *[int(d) for d in detail["shape"][1:]]]
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return rng.uniform(-1, 1, shape).astype(dtype)
    qp = detail["quantization_parameters"]
    if qp["scales"].size:  # a [-1, 1] image quantized with the input's own parameters
        x = rng.uniform(-1, 1, shape) / qp["scales"][0] + qp["zero_points"][0]
        info = np.iinfo(dtype)
        return np.clip(np.round(x), info.min, info.max).astype(dtype)
    return rng.integers(0, 10, shape).astype(dtype)


class Engine:
    def __init__(self, name, make):
        self.name, self.make = name, make


def _litert(resolver=None):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    def make(raw, threads):
        kw = {"num_threads": threads}
        if resolver == "ref":
            kw["experimental_op_resolver_type"] = OpResolverType.BUILTIN_REF
        return Interpreter(model_content=raw, **kw)

    return make


def _eightbit(kernels="fast"):
    def make(raw, threads):
        return eightbit.Interpreter(model_content=raw, num_threads=threads, kernels=kernels)

    return make


ENGINES = [
    Engine("eightbit", _eightbit()),
    Engine("litert-ref", _litert("ref")),
    Engine("litert-opt", _litert()),
]
EXTRA_ENGINES = [Engine("eightbit-ref", _eightbit("reference"))]
DEFAULT_ENGINES = ",".join(e.name for e in ENGINES)


def prepare(engine, raw, batch, threads, rng):
    it = engine.make(raw, threads)
    inputs = []
    for d in it.get_input_details():
        x = make_input(d, batch, rng)
        if list(x.shape) != [int(s) for s in d["shape"]]:
            it.resize_tensor_input(d["index"], list(x.shape))
        inputs.append(x)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    return it


def time_invokes(it, budget, min_runs=3, max_runs=20, warmup=1):
    for _ in range(warmup):
        it.invoke()
    times = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        it.invoke()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def check_model(raw, rng):
    """Round trip through eightbit's writer, and eightbit against the reference kernels."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    ref = Interpreter(model_content=raw, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    inputs = [make_input(d, 1, rng) for d in ref.get_input_details()]

    def run(it):
        it.allocate_tensors()
        for d, x in zip(it.get_input_details(), inputs):
            it.set_tensor(d["index"], x)
        it.invoke()
        return [it.get_tensor(d["index"]) for d in it.get_output_details()]

    want = run(ref)
    rewritten = eightbit.load(raw).to_bytes()
    again = run(Interpreter(model_content=rewritten, experimental_op_resolver_type=OpResolverType.BUILTIN_REF))
    same = all(np.array_equal(a, b) for a, b in zip(want, again))
    stable = eightbit.load(rewritten).to_bytes() == rewritten
    got = run(eightbit.Interpreter(model_content=raw))
    diffs = []
    for g, w in zip(got, want):
        if w.dtype.kind == "f":
            diffs.append(f"max abs diff {float(np.max(np.abs(g.astype(np.float64) - w))):.3g}")
        else:
            diffs.append(f"{int(np.sum(g != w))}/{w.size} elements differ")
    return same and stable, "; ".join(diffs)


def _ms(seconds):
    ms = 1000 * seconds
    return f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}" if ms >= 0.1 else f"{ms:.3f}" if ms >= 0.01 else f"{ms:.4f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", type=Path, help="more .tflite models to run")
    ap.add_argument("--bench-dir", type=Path, default=Path(os.environ.get("EIGHTBIT_BENCH_DIR", DEFAULT_BENCH_DIR)),
                    help=f"directory of .tflite models (default {DEFAULT_BENCH_DIR}); '' for none")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--engines", default=DEFAULT_ENGINES, help=f"default {DEFAULT_ENGINES}; also eightbit-ref")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak RSS / first invoke processes")
    ap.add_argument("--no-small", action="store_true", help="skip the small models (digits CNN, op chain)")
    ap.add_argument("--memory-only", action="store_true", help="only the peak RSS / first invoke processes")
    ap.add_argument("--child", nargs=3, metavar=("ENGINE", "MODEL", "BATCH"), help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=float, default=3.0, help="seconds of timed runs per cell (at least 3 runs)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args(argv)
    if args.child:
        return memory_child(*args.child)

    models = sorted(args.bench_dir.glob("*.tflite")) if str(args.bench_dir) and args.bench_dir.is_dir() else []
    if str(args.bench_dir) and not args.bench_dir.is_dir():
        print(f"note: no bench directory {args.bench_dir}", file=sys.stderr)
    models += args.models
    small = [] if args.no_small else write_small_models()
    models += small
    if not models:
        print("no models to run: give .tflite files or --bench-dir", file=sys.stderr)
        return 2
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    engines = [e for e in ENGINES + EXTRA_ENGINES if e.name in args.engines.split(",")]

    pool = _threadpool()
    blas = ", ".join(f"{p['internal_api']} {p.get('version')} ({p.get('architecture')}, {p['num_threads']} threads)"
                     for p in pool or [] if p["user_api"] == "blas")
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, numpy {np.__version__}, BLAS: {blas or 'unknown'}")
    try:
        import ai_edge_litert

        print(f"LiteRT {getattr(ai_edge_litert, '__version__', '?')}; eightbit {eightbit.__version__}")
    except ImportError:
        pass
    print(f"load average before the run: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS") if k in os.environ}
    if env:
        print(f"environment: {env}")

    if args.memory_only:
        memory_table(models, batches, args.markdown, small)
        return 0
    rows = []
    for path in models:
        raw = path.read_bytes()
        ok, diff = check_model(raw, np.random.default_rng(0))
        print(f"\n{path.name}: {len(raw) / 1e6:.2f} MB; round trip through eightbit's writer "
              f"{'runs identically in LiteRT' if ok else 'DIFFERS'}; eightbit vs reference kernels: {diff}")
        for batch in [1] if path in small else batches:
            for t in threads:
                cells = {}
                for e in engines:
                    try:
                        it = prepare(e, raw, batch, t, np.random.default_rng(1))
                    except (ValueError, RuntimeError) as exc:  # e.g. RESHAPE to a constant batch-1 shape
                        cells[e.name] = None
                        print(f"  batch {batch:>3} threads {t}  {e.name:<11} cannot run: {' '.join(str(exc).split())[:120]}")
                        continue
                    med, n = time_invokes(it, args.budget, max_runs=2000 if path in small else 20)
                    cells[e.name] = med
                    print(f"  batch {batch:>3} threads {t}  {e.name:<11} {_ms(med):>9} ms  (median of {n})", flush=True)
                    del it
                rows.append((path.stem, batch, t, cells))

    print(f"\nload average after the timings: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    names = [e.name for e in engines]
    ratios = [n for n in names if n != "eightbit"] if "eightbit" in names else []
    header = ["model", "batch", "threads", *[f"{n} ms" for n in names], *[f"eightbit / {n}" for n in ratios]]
    lines = []
    for model, batch, t, cells in rows:
        vals = [_ms(cells[n]) if cells.get(n) else "-" for n in names]
        vals += [f"{cells['eightbit'] / cells[n]:.2f}" if cells.get("eightbit") and cells.get(n) else "-" for n in ratios]
        lines.append([model, str(batch), str(t), *vals])
    _print_table(header, lines, args.markdown)
    print_per_op(rows, names)
    if not args.no_memory:
        memory_table(models, batches, args.markdown, small)
    return 0


def write_small_models() -> list:
    """The small models as files in a temporary directory (the memory table's processes read files)."""
    import tempfile

    from small_models import small_models

    tmp = Path(tempfile.mkdtemp(prefix="eightbit-bench-"))
    paths = []
    for name, raw in small_models().items():
        (tmp / f"{name}.tflite").write_bytes(raw)
        paths.append(tmp / f"{name}.tflite")
    return paths


def print_per_op(rows, names):
    from small_models import CHAIN_LENGTH

    chain = [cells for model, batch, t, cells in rows if model == f"op_chain_{CHAIN_LENGTH}" and t == 1]
    if chain:
        per = ", ".join(f"{n} {1e6 * chain[0][n] / CHAIN_LENGTH:.2f} us" for n in names if chain[0].get(n))
        print(f"\nfixed cost per operator (op_chain_{CHAIN_LENGTH} median / {CHAIN_LENGTH}, 1 thread): {per}")


def _print_table(header, lines, markdown=False):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(" --- " for _ in header) + "|")
        for line in lines:
            print("| " + " | ".join(line) + " |")
        return
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    for r in [header, *lines]:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


def _maxrss_mb():
    """Peak RSS of this process: VmHWM (ru_maxrss would carry over the parent's peak across
    fork + exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(engine, model, batch):
    """One cell of the memory table, in a fresh process: prints a JSON line (peak RSS, first and
    steady invoke, and the phases of the first: construct, allocate, first invoke)."""
    import json

    if engine == "numba":  # what importing numba alone costs
        base, t0 = _maxrss_mb(), time.perf_counter()
        import numba  # noqa: F401

        print(json.dumps({"import_ms": 1e3 * (time.perf_counter() - t0), "rss_mb": _maxrss_mb() - base}))
        return 0
    raw = Path(model).read_bytes()
    make = {e.name: e for e in ENGINES + EXTRA_ENGINES}[engine].make
    if engine.startswith("litert"):
        import ai_edge_litert.interpreter  # noqa: F401 - imported before the baseline
    base = _maxrss_mb()
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    it = make(raw, 1)
    t1 = time.perf_counter()
    details = it.get_input_details()
    inputs = [make_input(d, int(batch), rng) for d in details]  # not timed: 0.1-0.8 s at batch 32
    t1b = time.perf_counter()
    for d, x in zip(details, inputs):
        if list(x.shape) != [int(s) for s in d["shape"]]:
            it.resize_tensor_input(d["index"], list(x.shape))
    it.allocate_tensors()
    t2 = time.perf_counter()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    t3 = time.perf_counter()
    steady, _ = time_invokes(it, 1.0, min_runs=3, max_runs=200, warmup=0)
    print(json.dumps({"base": base, "peak": _maxrss_mb(), "first": (t3 - t0) - (t1b - t1), "steady": steady,
                      "construct": t1 - t0, "allocate": t2 - t1b, "invoke1": t3 - t2, "numba": "numba" in sys.modules}))
    return 0


def _child(engine, path, batch, env=None):
    import json
    import subprocess

    r = subprocess.run([sys.executable, __file__, "--child", engine, str(path), str(batch)],
                       capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    out = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not out:
        print(f"  {engine} {Path(path).name} batch {batch}: failed: {r.stderr.strip()[-200:]}", file=sys.stderr)
    return json.loads(out[-1]) if out else None


def _eightbit_cold_and_warm(path, batch):
    """eightbit's cell twice, in fresh processes sharing an empty prepared-params cache
    (interpreter/prepared.py): cold (every operator prepared, the entry written), then warm."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        env = {"EIGHTBIT_PREPARED_CACHE_DIR": d}
        return _child("eightbit", path, batch, env), _child("eightbit", path, batch, env)


def memory_table(models, batches, markdown, small=()):
    lines, phases = [], []
    for path in models:
        for batch in [1] if path in small else batches:
            (cold, e), lt = _eightbit_cold_and_warm(path, batch), _child("litert-opt", path, batch)
            if not (cold and e and lt):
                continue
            lines.append([path.stem, str(batch), f"{e['peak']:.0f}", f"{e['peak'] - e['base']:.0f}",
                          f"{lt['peak']:.0f}", f"{lt['peak'] - lt['base']:.0f}", f"{e['peak'] / lt['peak']:.2f}",
                          _ms(e["first"]), _ms(e["steady"]), f"{e['first'] / e['steady']:.1f}",
                          f"{cold['first'] / cold['steady']:.1f}", f"{lt['first'] / lt['steady']:.1f}"])
            for what, cell in (("cold", cold), ("warm", e)):
                phases.append([path.stem, str(batch), what, _ms(cell["construct"]), _ms(cell["allocate"]),
                               _ms(cell["invoke1"]), "yes" if cell["numba"] else "no"])
    print("\npeak RSS (MB; 'above' = above the RSS after imports) and first allocate_tensors() + invoke(), 1 thread;"
          " eightbit's with its prepared-params cache warm (the process before ran the same model), and cold")
    header = ["model", "batch", "eightbit MB", "above", "litert-opt MB", "above", "eightbit / litert",
              "eightbit first ms", "steady ms", "first / steady", "cold first / steady", "litert first / steady"]
    _print_table(header, lines, markdown)
    nb = _child("numba", "-", 0)
    print("\neightbit's first run by phase (ms): Interpreter(), resize + allocate_tensors(), set_tensor + first invoke()"
          + (f"; importing numba alone takes {nb['import_ms']:.0f} ms and {nb['rss_mb']:.0f} MB (in the first invoke "
             "when the model loads it, with loading its cached kernels)" if nb else ""))
    _print_table(["model", "batch", "prepared cache", "construct", "allocate", "first invoke", "numba loaded"], phases,
                 markdown)


if __name__ == "__main__":
    sys.exit(main())
