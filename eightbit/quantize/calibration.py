"""Calibration: run the float model on representative samples and record each tensor's range.

Streaming: samples are consumed one at a time and each tensor keeps a fixed-size state (a
running min/max, or a histogram of `BINS` bins that is re-binned exactly, by merging bins, when
new values fall outside it), so memory does not grow with the number of samples.

Methods (`calibration_method`):
- "minmax": the smallest and largest value seen (TensorFlow's calibrator);
- "moving_average": exponential moving average of each sample's min and max;
- "percentile": the `percentile` and 100 - `percentile` percentiles of all values;
- "mse": the clipping range minimizing the mean squared quantization error of the histogram;
- "entropy": the clipping range minimizing the KL divergence between the histogram and its
  quantized version (TensorRT's entropy calibration, on both signs).
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

from eightbit.errors import ModelError
from eightbit.interpreter.memory_plan import plan_memory
from eightbit.interpreter.runner import SubgraphRunner
from eightbit.ir import Model
from eightbit.kernels.fast.jit import HAVE_NUMBA, njit
from eightbit.quantize.calibration_parallel import ParallelCalibrator
from eightbit.quantize.calibration_run import Calibrator, auto_batch

METHODS = ("minmax", "moving_average", "percentile", "mse", "entropy")
BINS = 2048
# Histogram methods need enough values to judge a distribution's tails: below this many values
# (e.g. the 10 logits of a classifier over 100 samples) a tensor keeps its min / max.
MIN_VALUES = 8 * BINS
# threads=-1: at most this much activation memory (one sample's arena per worker thread).
PARALLEL_BYTES = 1 << 30


class CalibrationError(ValueError):
    """The representative data cannot be used; the message names the sample and the input."""


# ---------------------------------------------------------------------------------------------
# observers


class MinMaxObserver:
    order_free = True  # the range of a batch is the range of its samples, in any order

    def __init__(self):
        self.min = math.inf
        self.max = -math.inf

    def update(self, x: np.ndarray) -> None:
        if x.size:
            self.min = min(self.min, float(np.min(x)))
            self.max = max(self.max, float(np.max(x)))

    @property
    def seen(self) -> bool:
        return self.min <= self.max

    def range(self) -> tuple[float, float]:
        return (self.min, self.max) if self.seen else (0.0, 0.0)


class MovingAverageObserver(MinMaxObserver):
    """The running average of each sample's min and max: a cumulative mean over the first 1 / c
    samples, then exponential, min/max <- (1 - c) * min/max + c * sample min/max."""

    order_free = False

    def __init__(self, averaging_constant: float = 0.01):
        super().__init__()
        self.c = averaging_constant
        self.count = 0

    def update(self, x: np.ndarray) -> None:
        if not x.size:
            return
        lo, hi = float(np.min(x)), float(np.max(x))
        self.count += 1
        c = max(self.c, 1.0 / self.count)
        if self.count == 1:
            self.min, self.max = lo, hi
        else:
            self.min += c * (lo - self.min)
            self.max += c * (hi - self.max)


class HistogramObserver:
    """A histogram of `bins` equal bins over [lo, lo + bins * width), grown by merging bins.

    When a value falls outside, the bin width is multiplied by an integer k and the origin moved
    by whole old bins, so every old bin falls into exactly one new bin: no approximation, and
    the state stays `bins` counts whatever the number of samples.
    """

    def __init__(self, method: str = "percentile", bins: int = BINS, percentile: float = 99.99):
        self.method = method
        self.bins = bins
        self.percentile = percentile
        self.hist = np.zeros(bins, np.float64)
        self.lo = 0.0
        self.width = 0.0
        self.min = math.inf
        self.max = -math.inf

    @property
    def seen(self) -> bool:
        return self.min <= self.max

    def _grow(self, lo: float, hi: float) -> None:
        if self.width == 0.0:
            span = max(hi - lo, abs(hi), abs(lo), 1e-8)
            self.lo = lo
            self.width = span / self.bins
            if lo + self.width * self.bins < hi:
                self.width = np.nextafter(self.width, np.inf)
            return
        cur_hi = self.lo + self.width * self.bins
        if lo >= self.lo and hi < cur_hi:
            return
        # In old-bin units: the occupied bins [f, l] and the new values [a, b] must all fit. The
        # new origin o is a whole number of old bins from the old one (empty bins may be dropped)
        # and k old bins make one new bin, so old bin i goes whole into new bin (i - o) // k.
        nz = np.flatnonzero(self.hist)
        f, last = (int(nz[0]), int(nz[-1])) if nz.size else (0, 0)
        a = math.floor((lo - self.lo) / self.width)
        b = math.floor((hi - self.lo) / self.width)
        o = min(f, a)
        k = max(1, math.ceil((max(last, b) - o + 1) / self.bins))
        new_lo = self.lo + o * self.width
        while new_lo + self.width * k * self.bins <= hi:
            k += 1
        idx = (np.arange(self.bins) - o) // k
        keep = (idx >= 0) & (idx < self.bins) & (self.hist > 0)
        merged = np.zeros(self.bins, np.float64)
        np.add.at(merged, idx[keep], self.hist[keep])
        self.hist, self.lo, self.width = merged, new_lo, self.width * k

    def update(self, x: np.ndarray) -> None:
        if not x.size:
            return
        lo, hi = float(np.min(x)), float(np.max(x))
        self.min, self.max = min(self.min, lo), max(self.max, hi)
        self._grow(min(lo, 0.0), max(hi, 0.0))
        self.hist += bin_counts(x, self.lo, self.width, self.bins)

    def edges(self) -> np.ndarray:
        return self.lo + self.width * np.arange(self.bins + 1)

    def range(self) -> tuple[float, float]:
        if not self.seen:
            return 0.0, 0.0
        if self.max == self.min or self.hist.sum() < MIN_VALUES:
            return self.min, self.max
        if self.method == "percentile":
            return self._percentile_range()
        if self.method == "mse":
            return self._search(self._mse_cost)
        if self.method == "entropy":
            return self._search(self._kl_cost)
        return self.min, self.max

    # --- range choices ---------------------------------------------------------------------
    def _percentile_range(self) -> tuple[float, float]:
        cdf = np.cumsum(self.hist)
        total = cdf[-1]
        e = self.edges()

        def at(q):
            target = q * total
            i = int(np.searchsorted(cdf, target, side="left"))
            i = min(i, self.bins - 1)
            before = cdf[i - 1] if i else 0.0
            frac = (target - before) / self.hist[i] if self.hist[i] else 0.0
            return float(e[i] + frac * self.width)

        p = self.percentile / 100.0
        lo = max(self.min, at(1.0 - p)) if self.min < 0 else self.min
        hi = min(self.max, at(p)) if self.max > 0 else self.max
        return lo, hi

    def _search(self, cost) -> tuple[float, float]:
        """Minimize cost(a, b) over clipping ranges [lo * s, hi * t], s and t on a grid in
        [0.1, 1], by coordinate descent (each end clipped on its own: outliers are often on one
        side only)."""
        lo, hi = min(self.min, 0.0), max(self.max, 0.0)
        grid = np.linspace(0.1, 1.0, 91)
        s = t = 1.0
        best = cost(lo, hi)
        for _ in range(3):
            moved = False
            for which in ("hi", "lo"):
                if (which == "hi" and hi == 0) or (which == "lo" and lo == 0):
                    continue
                for g in grid:
                    a, b = (lo * s, hi * g) if which == "hi" else (lo * g, hi * t)
                    c = cost(a, b)
                    if c < best * (1 - 1e-9):
                        best, moved = c, True
                        if which == "hi":
                            t = g
                        else:
                            s = g
            if not moved:
                break
        return (lo * s if self.min < 0 else self.min), (hi * t if self.max > 0 else self.max)

    def _centers(self):
        e = self.edges()
        return (e[:-1] + e[1:]) / 2, self.hist

    def _mse_cost(self, a: float, b: float) -> float:
        """Expected squared error of int8 asymmetric quantization over [a, b] (clipping included)."""
        if b - a <= 0:
            return math.inf
        x, n = self._centers()
        scale = (b - a) / 255.0
        zp = np.round(-128 - a / scale)
        q = np.clip(np.round(x / scale) + zp, -128, 127)
        err = (q - zp) * scale - x
        return float(np.sum(n * (err * err + self.width * self.width / 12.0)))

    def _kl_cost(self, a: float, b: float) -> float:
        """KL(P || Q) as TensorRT's entropy calibration defines it: P the histogram clipped to
        [a, b] with the clipped mass added to its end bins, Q the unclipped bins of [a, b]
        merged into the 256 quantization levels and spread back evenly over their non-empty
        bins. Clipping too much puts mass in P's end bins that Q lacks; clipping too little
        merges many bins per level."""
        if b - a <= 0:
            return math.inf
        x, n = self._centers()
        inside = (x >= a) & (x <= b)
        if not np.any(inside):
            return math.inf
        raw = n[inside].copy()
        raw[np.argmin(np.abs(x[inside]))] = 0.0  # the bin at zero (a ReLU's spike) says nothing about the tails
        p = raw.copy()
        p[0] += n[x < a].sum()
        p[-1] += n[x > b].sum()
        xs = x[inside]
        level = np.clip(np.floor((xs - a) / (b - a) * 256), 0, 255).astype(np.int64)
        nz = raw > 0
        tot = np.bincount(level, weights=raw, minlength=256)
        cnt = np.bincount(level, weights=nz.astype(np.float64), minlength=256)
        q = np.where(nz, tot[level] / np.maximum(cnt[level], 1), 0.0)
        ps, qs = p.sum(), q.sum()
        if ps == 0 or qs == 0:
            return math.inf
        p, q = p / ps, q / qs
        m = p > 0
        return float(np.sum(p[m] * np.log(p[m] / np.maximum(q[m], 1e-12))))


def _bin_counts_numpy(x: np.ndarray, lo: float, width: float, bins: int) -> np.ndarray:
    idx = np.floor((x.astype(np.float64, copy=False).reshape(-1) - lo) / width).astype(np.int64)
    np.clip(idx, 0, bins - 1, out=idx)
    return np.bincount(idx, minlength=bins)[:bins]


def _bin_counts_loop(x, lo, width, bins):
    """The same float64 arithmetic as _bin_counts_numpy, value by value: one pass, no temporaries."""
    counts = np.zeros(bins, np.int64)
    for v in x:
        b = np.floor((np.float64(v) - lo) / width)
        counts[min(max(int(b), 0), bins - 1) if b == b else 0] += 1
    return counts


_BIN_COUNTS = njit(_bin_counts_loop) if HAVE_NUMBA else None


def bin_counts(x: np.ndarray, lo: float, width: float, bins: int) -> np.ndarray:
    """Per bin i of [lo + i * width, lo + (i + 1) * width), how many values of x fall in it (the
    values outside counted in the end bins)."""
    if _BIN_COUNTS is None or x.dtype not in (np.float32, np.float64):
        return _bin_counts_numpy(x, lo, width, bins)
    return _BIN_COUNTS.run()(np.ascontiguousarray(x).reshape(-1), float(lo), float(width), int(bins))


def make_observer(method: str, percentile: float = 99.99):
    if method == "minmax":
        return MinMaxObserver()
    if method == "moving_average":
        return MovingAverageObserver()
    if method in ("percentile", "mse", "entropy"):
        return HistogramObserver(method, percentile=percentile)
    raise ValueError(f"unknown calibration_method {method!r}; choose one of {', '.join(METHODS)}")


# ---------------------------------------------------------------------------------------------
# samples


def _input_names(model: Model) -> list:
    """Per subgraph-0 input: the names a sample dict may use (signature name, tensor name)."""
    sg = model.main
    sig = {}
    for sd in model.signature_defs:
        if sd["subgraph_index"] == 0:
            for e in sd["inputs"]:
                sig[e["tensor_index"]] = e["name"]
    return [[n for n in (sig.get(i), sg.tensors[i].name) if n] for i in sg.inputs]


def sample_arrays(model: Model, sample, k: int) -> list:
    """A representative sample (list / tuple of arrays, dict by input name, (signature, dict),
    or one array for a one-input model) as one array per subgraph input, in input order."""
    sg = model.main
    n = len(sg.inputs)
    names = _input_names(model)
    if isinstance(sample, tuple) and len(sample) == 2 and isinstance(sample[1], dict) and isinstance(sample[0], (str, type(None))):
        sample = sample[1]
    if isinstance(sample, dict):
        out = []
        for i, cands in enumerate(names):
            key = next((c for c in cands if c in sample), None)
            if key is None:
                raise CalibrationError(
                    f"sample {k}: no value for input {i} ({' / '.join(map(repr, cands))}); the sample has keys {sorted(map(str, sample))}")
            out.append(sample[key])
        extra = set(map(str, sample)) - {c for cands in names for c in cands}
        if extra:
            raise CalibrationError(f"sample {k}: unknown input name(s) {sorted(extra)}; the model's inputs are "
                                   f"{[cands[0] for cands in names]}")
        return out
    if isinstance(sample, np.ndarray) and n == 1:
        return [sample]
    if isinstance(sample, (list, tuple)):
        if len(sample) != n:
            raise CalibrationError(f"sample {k}: {len(sample)} value(s) given, the model has {n} input(s)")
        return list(sample)
    raise CalibrationError(
        f"sample {k}: a representative sample must be a list of arrays (one per input, in order), a dict "
        f"by input name, or (signature key, dict); got {type(sample).__name__}")


def check_input(model: Model, i: int, value, k: int) -> np.ndarray:
    """The sample value for input position i as an array of the input's dtype and shape."""
    sg = model.main
    t = sg.tensors[sg.inputs[i]]
    label = f"sample {k}, input {i} ({t.name!r})"
    try:
        x = np.asarray(value)
    except Exception as e:
        raise CalibrationError(f"{label}: cannot be read as an array: {e}") from None
    want = t.dtype
    if x.dtype.kind not in "biuf":
        raise CalibrationError(f"{label}: dtype {x.dtype} cannot feed a {t.type} input")
    if want.kind == "f":
        if x.dtype.kind != "f":
            raise CalibrationError(f"{label}: dtype {x.dtype} given for a {t.type} input (pass floating-point data)")
        x = x.astype(want, copy=False)
        bad = ~np.isfinite(x)
        if bad.any():
            pos = tuple(int(v) for v in np.argwhere(bad)[0])
            raise CalibrationError(f"{label}: contains NaN or Inf ({int(bad.sum())} value(s), first at {pos})")
    else:
        if x.dtype.kind not in "iub":
            raise CalibrationError(f"{label}: dtype {x.dtype} given for a {t.type} input (pass integers)")
        info = np.iinfo(want) if want.kind in "iu" else None
        if info is not None and x.size and (x.min() < info.min or x.max() > info.max):
            raise CalibrationError(f"{label}: values outside the range of {t.type}")
        x = x.astype(want, copy=False)
    shape = tuple(int(d) for d in t.shape)
    if x.shape == shape:
        return x
    if len(shape) >= 1 and x.shape == shape[1:]:
        return x.reshape(shape)
    sig = t.shape_signature
    if len(x.shape) == len(shape) and all(
        a == b or (sig is not None and j < len(sig) and sig[j] == -1) or j == 0
        for j, (a, b) in enumerate(zip(x.shape, shape))
    ):
        return x  # another batch size (or a dynamic dimension): the input is resized
    raise CalibrationError(f"{label}: shape {list(x.shape)} does not fit the input's shape {list(shape)}")


# ---------------------------------------------------------------------------------------------
# the loop


def _progress(iterable, total=None, show=None):
    if show is None:
        show = bool(getattr(sys.stderr, "isatty", lambda: False)())
    if not show:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc="calibrating", unit="sample", file=sys.stderr, leave=False)


def float_tensors(model: Model) -> list:
    """Indices of the subgraph-0 tensors calibration records: float32, not constant."""
    sg = model.main
    return [i for i, t in enumerate(sg.tensors) if t.type == "FLOAT32" and not t.is_constant]


def called_float_tensors(model: Model) -> list:
    """(subgraph index, tensor index) of the float, non-constant tensors of subgraphs 1.. (the
    bodies IF, WHILE and CALL_ONCE run), which calibration records under those keys."""
    return [(s, i) for s, sg in enumerate(model.subgraphs) if s
            for i, t in enumerate(sg.tensors) if t.type == "FLOAT32" and not t.is_constant]


def _watch_called_subgraphs(model: Model, runner, observers: dict, count: list) -> None:
    """Record the called subgraphs' tensors each time the session runs one (several times per
    sample inside a WHILE: every iteration counts, as in TFLite's calibrator)."""

    by_subgraph: dict = {}
    for key, obs in observers.items():
        if isinstance(key, tuple):
            by_subgraph.setdefault(key[0], []).append((key[1], obs))

    def observe(index, values):
        s = index
        for i, obs in by_subgraph.get(index, ()):
            v = values.get(i)
            if v is None:
                continue
            if not np.all(np.isfinite(v)):
                raise CalibrationError(f"sample {count[0]}: tensor {i} ({model.subgraphs[s].tensors[i].name!r}) of "
                                       f"subgraph {s} became NaN or Inf while running the float model")
            obs.update(v)

    runner.session.observe = observe


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use (containers, taskset)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _sample_workers(model: Model, runner, threads, batch_size, called_subgraphs: bool) -> int:
    """Threads running whole samples side by side (calibration_parallel.py): `threads` for a
    model that is not batched (batch_size 1, or None and too large for batching: auto_batch)
    and holds no control flow; 1 otherwise (a batched model uses the threads inside its runs).
    -1: every CPU, but no more workers than keep their activations (one sample's arena each)
    under PARALLEL_BYTES."""
    n = _cpus() if threads == -1 else (threads or 1)
    if n <= 1 or runner.lazy or (called_subgraphs and len(model.subgraphs) > 1):
        return 1
    try:
        unbatched = batch_size == 1 or (batch_size is None and auto_batch(runner) == 1)
        if unbatched and threads == -1:
            arena = plan_memory(runner.sg, runner.shapes).arena_bytes
            n = max(1, min(n, PARALLEL_BYTES // max(arena, 1)))
    except (ModelError, RuntimeError, ValueError):  # no memory plan before the first run
        unbatched = False
    return n if unbatched else 1


def _run_in_parallel(model: Model, runner, observers: dict, samples, total, progress, workers: int) -> int:
    """The samples on `workers` threads; returns their number (errors as the one-thread loop's)."""
    run = ParallelCalibrator(model, runner, observers, CalibrationError, workers)
    count, failure = 0, None
    try:
        for sample in _progress(samples, total, progress):
            if not run.add(count, [check_input(model, i, v, count)
                                   for i, v in enumerate(sample_arrays(model, sample, count))]):
                break
            count += 1
    except BaseException as e:  # the dataset's error or a malformed sample: after any earlier sample's
        failure = (count, e)
    run.finish(failure)
    return count


def calibrate(model: Model, dataset, method: str = "minmax", percentile: float = 99.99,
              progress: bool | None = None, tensors=None, threads: int | None = 1,
              called_subgraphs: bool = False, batch_size: int | None = None) -> dict:
    """Run `model` (float) on every sample of `dataset` (a callable returning an iterable, or an
    iterable) and return {tensor index: observer} for the float tensors of subgraph 0.

    Raises CalibrationError for an empty dataset, a generator that raises, a malformed sample,
    NaN / Inf in a sample, and a tensor that becomes NaN / Inf while running a sample.
    `called_subgraphs`: also record the float tensors of subgraphs 1.. (keys (subgraph, tensor)).
    `threads`: threads for the runs (BLAS held at one): a model that is not batched runs that
    many samples side by side, one per thread (calibration_parallel.py); a batched one uses them
    inside each run (the fast kernels' row ranges); -1 every CPU. The ranges are the same for
    any number of threads.
    `batch_size`: samples per invoke when the model allows it (calibration_run.py checks that it
    does, on the first samples); None picks it from the memory plan, 1 runs one at a time. The
    ranges are the same either way.
    """
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads == 0
                                or threads < -1):
        raise ValueError(f"calibration threads must be >= 1, -1 (every CPU) or None, got {threads!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    make_observer(method, percentile)  # validates the method name
    if not (0.0 < float(percentile) <= 100.0):
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    watched = float_tensors(model) if tensors is None else list(tensors)
    observers = {i: make_observer(method, percentile) for i in watched}
    runner = SubgraphRunner(model, 0, preserve_all_tensors=True)
    sample_index = [0]
    if called_subgraphs and len(model.subgraphs) > 1:
        observers.update({key: make_observer(method, percentile) for key in called_float_tensors(model)})
        _watch_called_subgraphs(model, runner, observers, sample_index)
    runner.allocate()
    try:
        source = dataset() if callable(dataset) else dataset
        iterator = iter(source)
    except Exception as e:
        raise CalibrationError(f"representative_dataset could not start: {type(e).__name__}: {e}") from e
    total = None
    try:
        total = len(source)  # type: ignore[arg-type]
    except TypeError:
        pass
    count = 0

    def samples():
        k = 0  # the sample being produced
        while True:
            try:
                s = next(iterator)
            except StopIteration:
                return
            except Exception as e:
                raise CalibrationError(
                    f"representative_dataset raised {type(e).__name__} while producing sample {k}: {e}") from e
            yield s
            k += 1

    workers = _sample_workers(model, runner, threads, batch_size, called_subgraphs)
    if workers > 1:
        count = _run_in_parallel(model, runner, observers, samples(), total, progress, workers)
    else:
        run = Calibrator(runner, observers, CalibrationError, threads, batch_size)
        for sample in _progress(samples(), total, progress):
            k = sample_index[0] = count  # named by errors in called subgraphs (never batched)
            run.add([check_input(model, i, v, k) for i, v in enumerate(sample_arrays(model, sample, k))])
            count += 1
        run.finish()
    if count == 0:
        raise CalibrationError("representative_dataset produced no samples: calibration needs at least one")
    return observers


def ranges(observers: dict) -> dict:
    """{tensor index: (min, max)} from calibrate()'s observers (tensors never seen are left out)."""
    return {i: o.range() for i, o in observers.items() if o.seen}
