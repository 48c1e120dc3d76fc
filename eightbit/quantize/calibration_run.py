"""The calibration loop: samples through the interpreter's fast path, observed as they run.

Each tensor an operator produces goes to its observer at once (SubgraphRunner.run(observe=)),
so a sample never holds all its activations: the runner frees each after its last reader, as
an invoke does. Memory is bounded by one batch, whatever the number of samples.

Batching: a model whose samples are independent along the first dimension runs `batch` samples
per invoke (the input resized to the batch). Whether it is, is checked on the samples, not
assumed: the first `batch` samples run one by one and then together, and batching is used only
when every observed tensor of the batch run is, row for row, bit for bit, the single runs' (a
RESHAPE to a constant batch-1 shape, an operator mixing the batch, a kernel whose float sums
depend on the batch: each makes it run one sample at a time, as before). The check is made at
the batch size itself, and the samples left over at the end (fewer than a batch) run one by
one, so every invoke has 1 or `batch` samples: numpy's OpenBLAS sums a float GEMM's rows in an
order that depends on the GEMM's row count M (a GEMV at M = 1, a small-matrix kernel while
M * N * K <= 100^3, the blocked kernel above; each the same for every row at any M), so a pair of
samples can match the single runs where 8 do not. Which kernel runs depends on the shapes only,
so one batch that matches proves every batch of that size. Observers then see each sample's
rows in sample order, so every method gives exactly the ranges of one-at-a-time calibration
(min / max are taken over the whole batch at once: the same numbers).
"""

from __future__ import annotations

import hashlib

import numpy as np

from eightbit.errors import ModelError
from eightbit.interpreter.fastpath import running_with
from eightbit.interpreter.memory_plan import plan_memory

# Activation arena of one batch (the memory plan's size) at most. Batching pays where the fixed
# cost per operator dominates (small tensors); a model whose activations take megabytes per
# sample (MobileNet: 6 MB) is compute-bound, runs no faster per sample in batches, and is not
# batched.
BATCH_BYTES = 2 << 20
MAX_BATCH = 32


def auto_batch(runner) -> int:
    """Samples per invoke: as many as keep one batch's activation arena under BATCH_BYTES."""
    arena = plan_memory(runner.sg, runner.shapes).arena_bytes
    return int(max(1, min(MAX_BATCH, BATCH_BYTES // max(arena, 1))))


class Recorder:
    """The observe= callback of the runs: updates the observers, checks values are finite, and
    (while probing) keeps a digest of every observed tensor per sample."""

    def __init__(self, sg, observers: dict, error):
        self.sg = sg
        self.observers = observers
        self.error = error  # CalibrationError
        self.first = 0  # index of the batch's first sample
        self.size = 1  # samples in the running batch
        self.digests = None  # {tensor: [digest per sample]} while probing / verifying
        self.verify = None  # {tensor: [digest per sample]} to compare the pair run against
        self.mismatch = False
        self.verified = set()  # tensors the pair run produced

    def __call__(self, i, v):
        obs = self.observers.get(i)
        if obs is None:
            return
        if self.verify is not None:
            self.verified.add(i)
            want = self.verify.get(i)
            if want is None or v.ndim == 0 or v.shape[0] != self.size or \
                    any(_digest(v[j:j + 1]) != want[j] for j in range(self.size)):
                self.mismatch = True
            return
        if self.digests is not None:
            self.digests.setdefault(i, []).append(_digest(v))
        if not v.size:
            return
        lo, hi = v.min(), v.max()
        if not (np.isfinite(lo) and np.isfinite(hi)):  # min / max are NaN or inf iff some value is
            self._not_finite(i, v)
        if getattr(obs, "order_free", False):  # min / max: the whole batch at once
            obs.min, obs.max = min(obs.min, float(lo)), max(obs.max, float(hi))
        elif self.size == 1:
            obs.update(v)
        else:
            for j in range(self.size):
                obs.update(v[j])

    def _not_finite(self, i, v):
        k = self.first
        if self.size > 1:
            k += next(j for j in range(self.size) if not np.all(np.isfinite(v[j])))
        raise self.error(f"sample {k}: tensor {i} ({self.sg.tensors[i].name!r}) became NaN or Inf while "
                         "running the float model")


def _digest(v) -> tuple:
    return v.shape[1:], v.dtype.str, hashlib.blake2b(np.ascontiguousarray(v).data, digest_size=16).digest()


class Calibrator:
    """Runs samples (lists of input arrays, checked) through `runner`, batching when it may."""

    def __init__(self, runner, observers: dict, error, threads, batch: int | None):
        self.runner = runner
        self.sg = runner.sg
        self.rec = Recorder(runner.sg, observers, error)
        self.threads = threads
        self.batch = batch
        self.allocated = None  # input shapes the runner is allocated for
        self.pending = []  # samples waiting for a full batch
        self.count = 0  # samples run
        self.probe = []  # (arrays) of the first samples, while deciding
        self.batched = False
        self.decided = False
        self.size = 1  # the batch size to use if the model allows batching

    # ---- running ----------------------------------------------------------------------
    def _allocate(self, shapes) -> None:
        if shapes != self.allocated:
            for i, s in zip(self.sg.inputs, shapes):
                self.runner.resize_input(i, s)
            self.runner.allocate()
            self.allocated = shapes

    def _run(self, arrays: list, size: int) -> None:
        r, rec = self.runner, self.rec
        self._allocate([a.shape for a in arrays])
        r.values = {i: a for i, a in zip(self.sg.inputs, arrays)}
        rec.first, rec.size = self.count, size
        for i, a in zip(self.sg.inputs, arrays):
            rec(i, a)  # the inputs are observed tensors too
        with np.errstate(all="ignore"), running_with(self.threads):
            if r.lazy:  # control flow: every tensor kept, observed after the run
                r.run(keep_all=True)
                for i, v in list(r.values.items()):
                    if i not in self.sg.inputs:
                        rec(i, v)
            else:
                r.run(keep_all=False, observe=rec)
        if rec.verify is None:
            self.count += size

    # ---- deciding whether to batch ------------------------------------------------------
    def _may_batch(self, arrays: list) -> bool:
        return (self.batch is None or self.batch > 1) and not self.runner.lazy and \
            all(a.ndim >= 1 and a.shape[0] == 1 for a in arrays)

    def _decide(self) -> None:
        """After the probe samples ran one by one: run them together and compare."""
        self.decided = True
        probe, self.probe = self.probe, []
        digests, self.rec.digests = self.rec.digests, None
        if len(probe) < self.size or any([a.shape for a in p] != [a.shape for a in probe[0]] for p in probe):
            return
        size = self.size
        rec = self.rec
        rec.verify, rec.mismatch, rec.verified = digests, False, set()
        try:
            self._run([np.concatenate(xs) for xs in zip(*probe)], len(probe))
            self.batched = not rec.mismatch and rec.verified == set(digests)
        except (ModelError, RuntimeError, ValueError):
            self.batched = False  # the model does not take another batch size
        finally:
            rec.verify = None
        if self.batched:
            self.batch = size

    # ---- the samples ----------------------------------------------------------------------
    def add(self, arrays: list) -> None:
        if not self.decided:
            if self._may_batch(arrays) and not self.probe:
                self._allocate([a.shape for a in arrays])
                self.size = self.batch or auto_batch(self.runner)
            if not self._may_batch(arrays) or self.size <= 1:
                self.decided = True
                self.probe, self.rec.digests = [], None  # no batching: no digests kept either
            else:
                if self.rec.digests is None:
                    self.rec.digests = {}
                self.probe.append(arrays)
                self._run(arrays, 1)
                if len(self.probe) == self.size:
                    self._decide()
                return
        if not self.batched or not self._may_batch(arrays):  # in order: what waits runs first
            self.flush()
            return self._run(arrays, 1)
        if self.pending and [a.shape for a in arrays] != [a.shape for a in self.pending[0]]:
            self.flush()
        self.pending.append(arrays)
        if len(self.pending) == self.batch:
            self.flush()

    def flush(self) -> None:
        """Run the waiting samples: together when they are a whole (checked) batch, else one by
        one (a batch of another size could sum its GEMMs another way)."""
        if self.pending:
            pending, self.pending = self.pending, []
            if len(pending) == self.batch:
                self._run([np.concatenate(xs) for xs in zip(*pending)], len(pending))
            else:
                for arrays in pending:
                    self._run(arrays, 1)

    def finish(self) -> int:
        self.rec.digests = None
        self.flush()
        return self.count
