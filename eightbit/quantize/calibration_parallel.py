"""Calibration on several threads, one sample per thread: the same ranges as one thread.

A model that is not batched (its activations take megabytes per sample, as MobileNet's: a batch
runs no faster per sample, and batches of float GEMMs may sum in other orders) runs whole
samples side by side instead, each worker on its own SubgraphRunner at batch 1 with one thread
inside. Every sample then goes through exactly the arithmetic of a one-thread run (the same
kernels, GEMM shapes and row blocks), so its tensors have the same bits whatever the number of
workers: nothing to check, unlike batching (calibration_run.py).

Observers see the samples in sample order, as with one thread: min / max (order free) are kept
per worker and merged at the end; the other methods (moving average, histograms: their state
depends on the order) update tensor i for sample k only after samples 0..k-1 have (Turnstile).
An error is that of the lowest failing sample, as the one-thread loop would have met it first.
Memory: one sample's activations per worker and at most `workers` samples waiting, whatever the
number of samples.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

from eightbit.interpreter.fastpath import running_with
from eightbit.interpreter.runner import SubgraphRunner


class Turnstile:
    """Per tensor, lets sample k through only after samples 0..k-1 have passed it or finished."""

    def __init__(self):
        self.cond = threading.Condition()
        self.passed: dict = {}  # tensor -> samples that have updated it
        self.finished: set = set()  # samples done (or failed) at or above the watermark
        self.watermark = 0  # every sample below it is done
        self.aborted = False

    def wait(self, i, k) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.aborted or self.watermark >= k or self.passed.get(i, 0) >= k)

    def passed_one(self, i) -> None:
        with self.cond:
            self.passed[i] = self.passed.get(i, 0) + 1
            self.cond.notify_all()

    def finish(self, k) -> None:
        with self.cond:
            self.finished.add(k)
            while self.watermark in self.finished:
                self.finished.discard(self.watermark)
                self.watermark += 1
            self.cond.notify_all()

    def abort(self) -> None:
        with self.cond:
            self.aborted = True
            self.cond.notify_all()


class _Worker:
    """One thread's runner and its observe= callback for the sample it runs."""

    def __init__(self, runner, observers: dict, turnstile: Turnstile, error):
        self.runner = runner
        self.sg = runner.sg
        self.observers = observers
        self.turnstile = turnstile
        self.error = error
        self.local: dict = {}  # tensor -> [min, max] of this worker's samples (order-free observers)
        self.allocated = None
        self.k = 0

    def __call__(self, i, v) -> None:
        obs = self.observers.get(i)
        if obs is None or not v.size:
            return
        lo, hi = v.min(), v.max()
        if not (np.isfinite(lo) and np.isfinite(hi)):  # NaN / inf iff some value is
            raise self.error(f"sample {self.k}: tensor {i} ({self.sg.tensors[i].name!r}) became NaN or Inf while "
                             "running the float model")
        if getattr(obs, "order_free", False):
            seen = self.local.get(i)
            if seen is None:
                self.local[i] = [float(lo), float(hi)]
            else:
                seen[0], seen[1] = min(seen[0], float(lo)), max(seen[1], float(hi))
            return
        self.turnstile.wait(i, self.k)
        try:
            obs.update(v)
        finally:
            self.turnstile.passed_one(i)

    def run(self, k: int, arrays: list) -> None:
        r = self.runner
        shapes = [a.shape for a in arrays]
        if shapes != self.allocated:
            for i, s in zip(self.sg.inputs, shapes):
                r.resize_input(i, s)
            r.allocate()
            self.allocated = shapes
        self.k = k
        r.values = {i: a for i, a in zip(self.sg.inputs, arrays)}
        for i, a in zip(self.sg.inputs, arrays):
            self(i, a)  # the inputs are observed tensors too
        with np.errstate(all="ignore"):
            r.run(keep_all=False, observe=self)

    def merge(self) -> None:
        for i, (lo, hi) in self.local.items():
            obs = self.observers[i]
            obs.min, obs.max = min(obs.min, lo), max(obs.max, hi)


class ParallelCalibrator:
    """Runs numbered samples on `workers` threads (the first uses `runner`, the others their own)."""

    def __init__(self, model, runner, observers: dict, error, workers: int):
        self.model = model
        self.observers = observers
        self.error = error
        self.turnstile = Turnstile()
        self.queue: queue.Queue = queue.Queue(maxsize=workers)
        self.failures: list = []  # (sample index, exception)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.warm = threading.Event()  # the first sample has run
        self.runners = [runner] + [None] * (workers - 1)
        self.workers: list = []
        self.threads = [threading.Thread(target=self._serve, args=(w,), daemon=True, name=f"eightbit-calib-{w}")
                        for w in range(workers)]
        self.blas = running_with(1)  # BLAS at one thread for every worker (a process-wide setting)
        self.blas.__enter__()
        for t in self.threads:
            t.start()

    def _serve(self, w: int) -> None:
        try:
            if w:  # after the first sample: numba's cached kernels loaded once, not once per thread
                self.warm.wait()
            self._serve_samples(w)
        finally:
            self.warm.set()

    def _serve_samples(self, w: int) -> None:
        worker = None
        try:
            runner = self.runners[w] or SubgraphRunner(self.model, 0, preserve_all_tensors=True)
            worker = _Worker(runner, self.observers, self.turnstile, self.error)
        except BaseException as e:  # noqa: BLE001 - reported by finish(), in the calling thread
            self._fail(-1, e)
        with self.lock:
            self.workers.append(worker)
        while True:
            item = self.queue.get()
            if item is None:
                return
            k, arrays = item
            if worker is not None and not self.stopped.is_set():
                try:
                    worker.run(k, arrays)
                except BaseException as e:  # noqa: BLE001
                    self._fail(k, e)
            self.turnstile.finish(k)
            self.warm.set()

    def _fail(self, k: int, e: BaseException) -> None:
        with self.lock:
            self.failures.append((k, e))
        self.stopped.set()

    def add(self, k: int, arrays: list) -> bool:
        """Queue sample k; False once a sample has failed (no more are needed)."""
        if self.stopped.is_set():
            return False
        self.queue.put((k, arrays))
        return True

    def finish(self, failure: tuple | None = None) -> None:
        """Wait for the queued samples; merge the workers' ranges; raise the lowest sample's
        error (`failure`: the caller's own, e.g. from the dataset, as (sample index, exception))."""
        try:
            for _ in self.threads:
                self.queue.put(None)
            for t in self.threads:
                t.join()
        finally:
            self.turnstile.abort()
            self.blas.__exit__(None, None, None)
        failures = self.failures + ([failure] if failure else [])
        if failures:
            raise min(failures, key=lambda f: f[0])[1]
        for worker in self.workers:
            worker.merge()
