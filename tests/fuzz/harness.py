"""Run one fuzz case in LiteRT (reference kernels, in a subprocess) and in eightbit; compare.

Outcomes (Result.status):
  match        both ran, outputs identical (integers) or within tolerance (floats)
  mismatch     both ran, outputs differ (shape, dtype or values)
  excluded     both ran, comparison skipped for a known LiteRT bug (Case.exclude says which)
  both-reject  neither runs the model (an invalid configuration; generators should avoid it)
  litert-rejects / eightbit-rejects   only one side runs the model
  litert-crash LiteRT's process died (an abort in its Prepare/Eval)
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
from dataclasses import dataclass, field

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BAD = ("mismatch", "litert-rejects", "eightbit-rejects", "litert-crash", "both-reject")


class LiteRTWorker:
    """A persistent LiteRT subprocess (tests/fuzz/litert_worker.py), restarted after a crash."""

    def __init__(self, timeout: float = 60.0):
        self.timeout = timeout
        self.proc = None

    def _start(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
        env.setdefault("OMP_NUM_THREADS", "1")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fuzz.litert_worker"], cwd=REPO, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def run(self, model: bytes, inputs, resolver: str = "ref"):
        """("ok", outputs) | ("error", stage, message) | ("crash", message)."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        data = pickle.dumps((model, [np.asarray(x) for x in inputs], resolver), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.proc.stdin.write(struct.pack("<Q", len(data)) + data)
            self.proc.stdin.flush()
            head = self._read(8)
            (n,) = struct.unpack("<Q", head)
            return pickle.loads(self._read(n))
        except (OSError, EOFError, struct.error, TimeoutError) as e:
            code = self.proc.poll()
            self.close()
            return ("crash", f"LiteRT process died (exit {code}): {type(e).__name__} {e}")

    def _read(self, n: int) -> bytes:
        fd = self.proc.stdout.fileno()
        chunks, got = [], 0
        while got < n:
            ready, _, _ = select.select([fd], [], [], self.timeout)
            if not ready:
                raise TimeoutError(f"no reply in {self.timeout}s")
            chunk = os.read(fd, n - got)
            if not chunk:
                raise EOFError("LiteRT process closed its pipe")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def close(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        self.proc = None


def run_eightbit(model: bytes, inputs, kernels: str = "fast"):
    """("ok", outputs) | ("error", stage, message)."""
    import eightbit

    stage = "load"
    try:
        it = eightbit.Interpreter(model_content=model, kernels=kernels)
        stage = "prepare"
        for det, x in zip(it.get_input_details(), inputs):
            if tuple(det["shape"]) != np.shape(x):
                it.resize_tensor_input(det["index"], list(np.shape(x)))
        it.allocate_tensors()
        stage = "invoke"
        for det, x in zip(it.get_input_details(), inputs):
            it.set_tensor(det["index"], np.asarray(x))
        it.invoke()
        return ("ok", [it.get_tensor(d["index"]) for d in it.get_output_details()])
    except Exception as e:  # noqa: BLE001 - any failure is an outcome to report
        text = " ".join(str(e).split())
        return ("error", stage, f"{type(e).__name__}: {text[:400]}")


def compare(got: list, want: list, float_rtol: float = 1e-5, float_atol: float = 0.0, exact: bool = False) -> str | None:
    """None when equal; else why not. Integers and bools exactly; floats within
    1e-6 + float_atol + float_rtol * max|want| (NaN where LiteRT has NaN, infinities equal)."""
    if len(got) != len(want):
        return f"{len(got)} outputs, LiteRT {len(want)}"
    for j, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        if g.shape != w.shape:
            return f"output {j}: shape {g.shape}, LiteRT {w.shape}"
        if g.dtype != w.dtype:
            return f"output {j}: dtype {g.dtype}, LiteRT {w.dtype}"
        if w.size == 0:
            continue
        gf, wf = g.reshape(-1), w.reshape(-1)
        if np.issubdtype(w.dtype, np.floating) or np.issubdtype(w.dtype, np.complexfloating):
            g64, w64 = gf.astype(np.complex128 if w.dtype.kind == "c" else np.float64), wf.astype(
                np.complex128 if w.dtype.kind == "c" else np.float64)
            nan_w, nan_g = np.isnan(w64), np.isnan(g64)
            finite = np.isfinite(w64)
            scale = float(np.max(np.abs(w64[finite]))) if finite.any() else 0.0
            tol = 0.0 if exact else 1e-6 + float_atol + float_rtol * scale
            with np.errstate(invalid="ignore"):
                err = np.abs(g64 - w64)
            bad = (nan_w != nan_g) | (~nan_w & ~finite & (g64 != w64)) | (finite & ~(err <= tol))
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                return (f"output {j}: {int(bad.sum())}/{w.size} differ (tol {tol:.3g}), first at {_idx(w.shape, k)}: "
                        f"got {gf[k]!r}, LiteRT {wf[k]!r}")
        else:
            bad = gf != wf
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                diff = np.abs(gf.astype(np.int64) - wf.astype(np.int64)) if w.dtype != np.bool_ else bad
                return (f"output {j}: {int(bad.sum())}/{w.size} differ (max |diff| {int(diff.max())}), first at "
                        f"{_idx(w.shape, k)}: got {gf[k]!r}, LiteRT {wf[k]!r}")
    return None


def _idx(shape, k):
    return tuple(int(i) for i in np.unravel_index(k, shape)) if shape else ()


@dataclass
class Result:
    status: str
    detail: str = ""
    outputs: list = field(default_factory=list)


def run_case(case, worker: LiteRTWorker, exact_floats: bool = False) -> Result:
    want = worker.run(case.model, case.inputs, case.resolver)
    # Bit-identical floats are the reference kernels' promise: the fast path sums float GEMMs
    # through BLAS in float-only models (a few ulps off the reference order, by design).
    got = run_eightbit(case.model, case.inputs, "reference" if exact_floats else "fast")
    if want[0] == "crash":
        return Result("litert-crash", want[1] + (f"; eightbit: {got[0]} {got[1:]}" if got[0] != "ok" else ""))
    if want[0] == "error" and got[0] == "error":
        return Result("both-reject", f"LiteRT {want[1]}: {want[2]} | eightbit {got[1]}: {got[2]}")
    if want[0] == "error":
        return Result("litert-rejects", f"LiteRT {want[1]}: {want[2]}")
    if got[0] == "error":
        return Result("eightbit-rejects", f"eightbit {got[1]}: {got[2]}")
    if case.exclude:
        return Result("excluded", case.exclude)
    why = compare(got[1], want[1], case.float_rtol, case.float_atol, exact_floats)
    return Result("mismatch", why) if why else Result("match", outputs=got[1])
