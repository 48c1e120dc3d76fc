"""eightbit build-kernels [MODEL ...]: compile the fast kernels into the per-user library that
later processes load without numba (eightbit/kernels/fast/aot.py)."""

from __future__ import annotations

import os

import numpy as np


def add_parser(subparsers):
    p = subparsers.add_parser(
        "build-kernels", help="compile the fast kernels once, so later processes start without numba",
        description="Build the library of compiled kernels that processes load without importing numba "
                    "(saving about 90 MB and a quarter second at the first invoke). Each MODEL is run once "
                    "(zero inputs, its own batch size) to record the kernels it needs (which also stores its "
                    "params, when preparing them takes 5 ms or more, "
                    "in the prepared-params cache, so that its first allocate_tensors() "
                    "in later processes loads them; EIGHTBIT_PREPARED_CACHE=0 turns that off); the library holds "
                    "those and every kernel signature recorded before (processes that ran kernels without "
                    "the library record them at exit and build it in the background). Needs numba and a "
                    "C compiler (EIGHTBIT_CC); the cache is EIGHTBIT_CACHE_DIR, else ~/.cache/eightbit.",
    )
    p.add_argument("models", nargs="*", metavar="MODEL", help=".tflite files to record kernels from")
    p.add_argument("--info", action="store_true", help="print the library's path and kernels, build nothing")
    p.set_defaults(func=run)


def run(args) -> int:
    from eightbit.kernels.fast import aot, jit

    if args.info:
        return _info(aot)
    if not jit.HAVE_NUMBA:
        print("eightbit: build-kernels: numba is not installed (or EIGHTBIT_DISABLE_NUMBA is set): "
              "the fast kernels stay on numpy")
        return 0
    from eightbit.kernels.fast import aot_build

    os.environ["EIGHTBIT_AOT"] = "0"  # the models run on the JIT, which records what they call
    aot.reset()
    for path in args.models:
        _run_once(path)
    seen = aot_build.seen_signatures()
    if seen:
        aot.merge_signatures(seen)
    aot_build.locked_build()
    return 0


def _run_once(path: str) -> None:
    from eightbit.interpreter import Interpreter

    it = Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    it.invoke()


def _info(aot) -> int:
    import json

    manifest = aot.manifest_path()
    lib = aot.library()
    if lib is None:
        print(f"no library for this machine and eightbit copy ({manifest} is missing or unusable)")
        return 0
    with open(manifest) as f:
        data = json.load(f)
    print(os.path.join(os.path.dirname(manifest), data["library"]))
    print(f"  called through {data.get('dispatch', 'ctypes')}")
    for name in sorted(lib.kernels):
        print(f"  {name}: {len(data['kernels'][name]['entries'])} signature(s)")
    for name in sorted(set(data["kernels"]) - set(lib.kernels)):
        print(f"  {name}: stale (its source changed): runs on the JIT until the next build")
    return 0
