#!/usr/bin/env python
"""Differential fuzzing of eightbit's kernels against LiteRT's reference kernels (BUILTIN_REF).

    .venv/bin/python tools/fuzz_kernels.py --seconds 300 --seed 1 [--ops CONV_2D ADD ...] [--kinds int8 ...]
    .venv/bin/python tools/fuzz_kernels.py --repro CONV_2D:int8:123456 [--save /tmp/case.tflite]

Round-robin over every (op, type) the generators in tests/fuzz cover (plus CHAIN, the multi-op
models), one random configuration at a time, until the time is up. Each case is rebuilt from its
key OP:kind:seed alone, so every printed line is reproducible with --repro. Prints one line per
mismatch (and, with --show-rejects, per configuration only one side runs), then a summary table.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.fuzz.harness import LiteRTWorker, run_case  # noqa: E402
from tests.fuzz.registry import case_seed, from_key, pairs  # noqa: E402

STATUSES = ["match", "excluded", "mismatch", "eightbit-rejects", "litert-rejects", "both-reject", "litert-crash"]
ALWAYS = {"mismatch", "eightbit-rejects", "litert-crash", "generator-error"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ops", nargs="*", help="only these ops (CHAIN for the multi-op models)")
    ap.add_argument("--kinds", nargs="*", help="only these types: float32 int8 uint8 int16 hybrid")
    ap.add_argument("--max-cases", type=int, default=0, help="stop after this many cases (0: time only)")
    ap.add_argument("--show-rejects", action="store_true", help="also print configurations only LiteRT rejects "
                    "and ones both reject")
    ap.add_argument("--avoid-known", action="store_true", help="steer around the outstanding mismatches of "
                    "tests/fuzz/known.py, as the CI test does")
    ap.add_argument("--exact-floats", action="store_true", help="require float outputs bit-identical too (runs eightbit's reference kernels)")
    ap.add_argument("--repro", help="run one case OP:kind:seed and print its outcome")
    ap.add_argument("--save", help="with --repro: write the model to this .tflite path")
    args = ap.parse_args(argv)

    worker = LiteRTWorker()
    try:
        if args.repro:
            case = from_key(args.repro)
            if args.save:
                with open(args.save, "wb") as f:
                    f.write(case.model)
            r = run_case(case, worker, args.exact_floats)
            print(f"{r.status.upper()} {case.describe()} :: {r.detail}")
            return 0 if r.status in ("match", "excluded") else 1
        todo = pairs(args.ops, args.kinds)
        if not todo:
            print("no generator matches --ops/--kinds", file=sys.stderr)
            return 2
        counts = collections.defaultdict(collections.Counter)
        first_lines = collections.Counter()
        deadline = time.monotonic() + args.seconds
        i = n = 0
        while time.monotonic() < deadline and (not args.max_cases or n < args.max_cases):
            op, kind = todo[n % len(todo)]
            i = n // len(todo)
            n += 1
            seed = case_seed(args.seed, op, kind, i)
            key = f"{op}:{kind}:{seed}" + (":ci" if args.avoid_known else "")
            try:
                case = from_key(key)
            except Exception as e:  # noqa: BLE001 - a generator bug is worth a line, not a stop
                counts[(op, kind)]["generator-error"] += 1
                print(f"GENERATOR-ERROR {key} :: {type(e).__name__}: {e}", flush=True)
                continue
            r = run_case(case, worker, args.exact_floats)
            counts[(op, kind)][r.status] += 1
            if r.status in ALWAYS or (args.show_rejects and r.status in ("litert-rejects", "both-reject")):
                print(f"{r.status.upper()} {case.describe()} :: {r.detail}", flush=True)
                first_lines[r.status] += 1
        _summary(counts)
        bad = sum(c[s] for c in counts.values() for s in ALWAYS)
        print(f"{n} cases in {args.seconds:.0f}s budget; {bad} mismatching / eightbit-rejecting / crashing / "
              "generator errors")
        return 1 if bad else 0
    finally:
        worker.close()


def _summary(counts):
    cols = [s for s in STATUSES + ["generator-error"] if any(c[s] for c in counts.values())]
    print(f"{'op':26s} {'type':8s} " + " ".join(f"{s:>16s}" for s in cols))
    for (op, kind), c in sorted(counts.items()):
        print(f"{op:26s} {kind:8s} " + " ".join(f"{c[s]:16d}" for s in cols))


if __name__ == "__main__":
    sys.exit(main())
