"""Wall time of full int8 post-training quantization (TFLiteConverter, representative dataset of
random samples), split into calibration and the rest, per number of samples.

    python benchmarks/calibration.py [--model PATH] [--samples 100,400] [--threads -1] [--eightbit DIR]

Default model: MobileNetV2-224 float (../shared/bench). Each count runs in a fresh process
(numba loaded and its cached kernels read in every one, as for a user) and prints wall seconds
of the whole process (start-up, imports, model load and convert), of convert() (and its CPU
seconds, all threads: steadier than wall time on a busy machine), of the calibration inside it,
milliseconds per sample of calibration, and peak RSS.
--eightbit DIR times another checkout (e.g. an older commit) with the same script.
TensorFlow 2.21 takes 15.9 s (100 samples) and 37 s (400) in convert() on this architecture
(docs/benchmarks.md, "PTQ against TensorFlow").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO.parent / "shared" / "bench" / "mobilenetv2_1.0_224_float32.tflite"


def child(model: str, n: int, threads: int) -> None:
    t_start = time.perf_counter()
    import numpy as np

    import eightbit
    import eightbit.quantize.calibration as cal
    from eightbit.quantize.converter import Optimize, TFLiteConverter

    m = eightbit.load(model)
    shape = [1, *m.main.tensors[m.main.inputs[0]].shape[1:]]
    conv = TFLiteConverter.from_tflite(Path(model).read_bytes())
    rng = np.random.default_rng(0)
    conv.optimizations = [Optimize.DEFAULT]
    conv.progress = False
    conv.calibration_threads = threads
    conv.representative_dataset = lambda: ([rng.uniform(-1, 1, shape).astype(np.float32)] for _ in range(n))
    spent = [0.0]
    real = cal.calibrate

    def timed(*a, **kw):
        t = time.perf_counter()
        try:
            return real(*a, **kw)
        finally:
            spent[0] += time.perf_counter() - t

    import eightbit.quantize.converter as converter_module

    converter_module.calibrate = timed
    t0, c0 = time.perf_counter(), time.process_time()
    conv.convert()
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    print(json.dumps({"n": n, "total": total, "cpu": cpu, "calibration": spent[0], "peak_mb": peak,
                      "in_process": time.perf_counter() - t_start}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(DEFAULT_MODEL))
    ap.add_argument("--samples", default="100,400")
    ap.add_argument("--threads", type=int, default=-1, help="calibration_threads (default -1: every CPU, "
                    "the converter's default)")
    ap.add_argument("--eightbit", default=str(REPO), help="the checkout whose eightbit is timed")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sys.path.insert(0, args.eightbit)
    if args.child is not None:
        child(args.model, args.child, args.threads)
        return 0
    print(f"{Path(args.model).name}, eightbit from {args.eightbit}, {args.threads} thread(s); "
          f"load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("| samples | process s | convert s | convert CPU s | calibration s | ms per sample | peak RSS MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    done = []
    for n in [int(s) for s in args.samples.split(",")]:
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, __file__, "--model", args.model, "--threads", str(args.threads),
                            "--eightbit", args.eightbit, "--child", str(n)], capture_output=True, text=True)
        process = time.perf_counter() - t0  # the whole process: interpreter start, imports, load, convert
        out = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
        if not out:
            print(f"| {n} | failed: {r.stderr.strip()[-300:]} |")
            continue
        d = json.loads(out[-1])
        print(f"| {n} | {process:.1f} | {d['total']:.1f} | {d['cpu']:.1f} | {d['calibration']:.1f} | {1e3 * d['calibration'] / n:.1f} | "
              f"{d['peak_mb']:.0f} |", flush=True)
        done.append(d)
    if len(done) >= 2 and done[-1]["n"] != done[0]["n"]:  # without the start-up (numba, kernels, first run)
        a, b = done[0], done[-1]
        print(f"calibration per sample between {a['n']} and {b['n']} samples: "
              f"{1e3 * (b['calibration'] - a['calibration']) / (b['n'] - a['n']):.1f} ms")
    print(f"load average after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
