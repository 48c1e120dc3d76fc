"""Run the issue-7 checks on any .tflite files (a directory is searched recursively); one line per
model and check, and a summary. Nothing is written next to the models.

    .venv/bin/python -m tests.realmodels.check_models /path/to/models [more paths] [--floatify]

Checks: load; round trip (our rewrite gives LiteRT's outputs); eightbit vs LiteRT (reference
kernels, else LiteRT's default resolver); `steps` invokes for models with state (variables,
CALL_ONCE); PTQ in dynamic / float16 / int8 / int16x8 for float models (resource variables
quantized as TF's `_experimental_variable_quantization` does), each result run in LiteRT and
eightbit and compared (multi-step for models with state). `--floatify` also checks the float
model behind each quantized one (floatify.py). Outputs: integers equal, floats within 1e-4 of
the output's magnitude (the issue's bar).
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

import eightbit
from eightbit.quantize.converter import OpsSet, Optimize, TFLiteConverter
from tests.oracle import run_eightbit, run_litert
from tests.realmodels.floatify import floatify
from tests.realmodels.test_realmodels import assert_close, inputs_for, litert_runnable

MODES = ("dynamic", "float16", "int8", "int16x8")


def _litert(data: bytes, x) -> list:
    try:
        return run_litert(data, x)
    except Exception:
        return run_litert(data, x, reference=False)


def _stateful(m) -> bool:
    return any(op.op_type in ("VAR_HANDLE", "CALL_ONCE") for sg in m.subgraphs for op in sg.operators) or any(
        t.is_variable for sg in m.subgraphs for t in sg.tensors)


def _stream(data: bytes, steps: int) -> None:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    ref = Interpreter(model_content=litert_runnable(data), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    ours = eightbit.Interpreter(model_content=data)
    for it in (ref, ours):
        it.allocate_tensors()
    for step in range(steps):
        x = inputs_for(data, seed=step)
        for it in (ref, ours):
            for d, v in zip(it.get_input_details(), x):
                it.set_tensor(d["index"], v)
            it.invoke()
        got = [ours.get_tensor(d["index"]) for d in ours.get_output_details()]
        assert_close(got, [ref.get_tensor(d["index"]) for d in ref.get_output_details()], f"step {step}")


def quantize(data: bytes, mode: str, stateful: bool, samples: int = 2) -> bytes:
    conv = TFLiteConverter.from_tflite(data)
    conv.optimizations = [Optimize.DEFAULT]
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    if mode in ("int8", "int16x8"):
        data_set = [inputs_for(data, seed=k) for k in range(samples)]
        conv.representative_dataset = lambda: iter(data_set)
        conv._experimental_variable_quantization = stateful
    if mode == "int16x8":
        conv.target_spec.supported_ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                                          OpsSet.TFLITE_BUILTINS]
    return conv.convert()


def check(name: str, data: bytes, steps: int, report) -> None:
    def run(what, fn):
        try:
            fn()
            report(name, what, None)
        except Exception as e:  # noqa: BLE001 - every failure is reported, the run goes on
            report(name, what, f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}")

    try:
        m = eightbit.load(data)
    except Exception as e:  # noqa: BLE001
        report(name, "load", f"{type(e).__name__}: {e}")
        return
    report(name, "load", None)
    x = inputs_for(data)
    stateful = _stateful(m)
    run("roundtrip", lambda: assert_close(_litert(litert_runnable(m.to_bytes()), x), _litert(litert_runnable(data), x),
                                          "LiteRT on our rewrite"))
    run("vs_litert", lambda: assert_close(run_eightbit(data, x), _litert(litert_runnable(data), x), "eightbit"))
    if stateful:
        run(f"stream{steps}", lambda: _stream(data, steps))
    is_float = not any(t.type in ("INT8", "UINT8", "INT16") and not t.is_constant for t in m.main.tensors)
    for mode in MODES if is_float else ():
        def ptq(mode=mode):
            out = quantize(data, mode, stateful)
            eightbit.load(out)
            xq = inputs_for(out, seed=5)
            assert_close(run_eightbit(out, xq), _litert(litert_runnable(out), xq), mode)
            if stateful:
                _stream(out, steps)
        run(f"ptq_{mode}", ptq)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--steps", type=int, default=30, help="invokes for models with state")
    ap.add_argument("--floatify", action="store_true", help="also check the float model behind each int8 one")
    args = ap.parse_args(argv)
    files = sorted(p for path in args.paths for p in ([path] if path.is_file() else path.rglob("*.tflite")))
    passed, total, failures = collections.Counter(), collections.Counter(), []

    def report(name, what, error):
        key = "stream" if what.startswith("stream") else what
        total[key] += 1
        passed[key] += error is None
        print(f"{name:48s} {what:12s} {'ok' if error is None else 'FAIL ' + error}", flush=True)
        if error is not None:
            failures.append((name, what))

    for f in files:
        data = f.read_bytes()
        check(f.stem, data, args.steps, report)
        if args.floatify:
            m = eightbit.load(data)
            if any(t.type in ("INT8", "UINT8") and not t.is_constant for t in m.main.tensors):
                check(f.stem + "[float]", floatify(m).to_bytes(), args.steps, report)
    print(f"\n{len(files)} file(s): " + ", ".join(f"{k} {passed[k]}/{total[k]}" for k in total))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
