"""What a pair of models computes over a dataset, kept in constant memory, for the cause rules.

Per matched quantized activation: a uniform random subsample of the float model's values (a
reservoir of fixed size, for percentiles and what-if quantization), the float min/max per channel
(last axis) and how often the float values fall outside what the quantized tensor can represent
(clipped), per channel. Per model output: the SQNR of the quantized output against the float one.
"""

from __future__ import annotations

import numpy as np

from eightbit.debug.engine import ModelPair
from eightbit.debug.metrics import ErrorAccumulator, is_quantized

RESERVOIR = 20000


class TensorActivity:
    def __init__(self, tensor, seed: int):
        self.tensor = tensor
        self.rng = np.random.default_rng(seed)
        self.sample = np.zeros(0, np.float64)
        self.seen = 0
        self.ch_min = self.ch_max = None
        self.at_ends = None  # per channel: count of float values outside the representable range
        self.per_channel_count = 0

    def update(self, fvals: np.ndarray, qvals: np.ndarray) -> None:
        f = np.asarray(fvals, np.float64)
        flat = f.reshape(-1)
        self._reservoir(flat)
        chans = f.reshape(-1, f.shape[-1]) if f.ndim else flat.reshape(-1, 1)
        lo, hi = chans.min(axis=0), chans.max(axis=0)
        self.ch_min = lo if self.ch_min is None else np.minimum(self.ch_min, lo)
        self.ch_max = hi if self.ch_max is None else np.maximum(self.ch_max, hi)
        q = self.tensor.quantization
        if is_quantized(self.tensor) and q.scale.size == 1:
            # clipped: the float value lies more than half a step outside what the integers represent
            info = np.iinfo(self.tensor.dtype)
            scale, zp = float(q.scale[0]), int(q.zero_point[0]) if q.zero_point.size else 0
            lo, hi = (info.min - zp - 0.5) * scale, (info.max - zp + 0.5) * scale
            clipped = np.count_nonzero((chans < lo) | (chans > hi), axis=0)
            self.at_ends = clipped if self.at_ends is None else self.at_ends + clipped
            self.per_channel_count += chans.shape[0]

    def _reservoir(self, flat: np.ndarray) -> None:
        # Keep each value seen so far with equal probability: merge, then keep RESERVOIR at random
        # weighted by how many values each side stands for.
        self.seen += flat.size
        if self.sample.size + flat.size <= RESERVOIR:
            self.sample = np.concatenate([self.sample, flat])
            return
        keep_new = int(round(RESERVOIR * flat.size / self.seen))
        keep_old = RESERVOIR - keep_new
        old = self.sample[self.rng.choice(self.sample.size, min(keep_old, self.sample.size), replace=False)]
        new = flat[self.rng.choice(flat.size, min(keep_new, flat.size), replace=False)]
        self.sample = np.concatenate([old, new])


class Activity:
    def __init__(self, pair: ModelPair):
        self.pair = pair
        self.tensors = {qi: TensorActivity(pair.qsg.tensors[qi], seed=qi) for qi in pair.rows}
        self.outputs = {qi: ErrorAccumulator(pair.qsg.tensors[qi]) for qi in pair.qsg.outputs}
        self.samples = 0

    def add(self, sample) -> None:
        m = self.pair.matching
        for qi, act in self.tensors.items():
            act.update(sample.fvals[m.float_of(qi)], sample.qvals[qi])
        for qi, acc in self.outputs.items():
            fi = m.float_of(qi)
            if fi is not None:
                acc.update(sample.fvals[fi], sample.qvals[qi])
        self.samples += 1

    def output_sqnr(self) -> float | None:
        values = [acc.figures()["sqnr_db"] for acc in self.outputs.values() if acc.samples]
        return min(values) if values else None


def collect(float_model, quant_model, float_samples: list, progress=None) -> Activity:
    """Run both models on every sample (a list of per-input lists of arrays)."""
    pair = ModelPair(float_model, quant_model, layerwise=False)
    act = Activity(pair)
    for k, s in enumerate(float_samples):
        act.add(pair.run(s))
        if progress is not None:
            progress(k + 1, len(float_samples))
    return act
