"""Calibration on several threads (eightbit/quantize/calibration_parallel.py: whole samples side by
side) and in batches: the quantized model is the same bytes for any thread count and batch size,
errors name the sample the one-thread loop would have named, memory does not grow with samples."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import eightbit
import eightbit.quantize.calibration as cal
from eightbit.ir.builder import ModelBuilder
from eightbit.quantize import converter as converter_module
from eightbit.quantize.calibration import METHODS, CalibrationError, calibrate, ranges
from eightbit.quantize.converter import Optimize, TFLiteConverter
from tests.quantize.helpers import calib_gen, float_model_path
from tests.quantize.test_calibration_batching import _pointwise_conv_model

MOBILENET = Path(__file__).resolve().parents[3] / "shared" / "bench" / "mobilenetv2_1.0_224_float32.tflite"


@pytest.fixture
def parallel_runs(monkeypatch):
    """The worker counts of the ParallelCalibrators calibration makes."""
    made = []
    real = cal.ParallelCalibrator.__init__

    def spy(self, model, runner, observers, error, workers):
        made.append(workers)
        real(self, model, runner, observers, error, workers)

    monkeypatch.setattr(cal.ParallelCalibrator, "__init__", spy)
    return made


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ["dwsep", "opmix_act"])
def test_samples_on_threads_give_the_ranges_of_one_thread(parallel_runs, name, method):
    m = eightbit.load(float_model_path(name))
    one = ranges(calibrate(m, calib_gen(name, 24), method, progress=False, threads=1, batch_size=1))
    for threads in (2, 3):
        assert ranges(calibrate(m, calib_gen(name, 24), method, progress=False, threads=threads,
                                batch_size=1)) == one
    assert parallel_runs == [2, 3]


def _convert(model_bytes: bytes, data, threads, batch, monkeypatch) -> bytes:
    real = cal.calibrate
    monkeypatch.setattr(converter_module, "calibrate", lambda *a, **kw: real(*a, **kw, batch_size=batch))
    conv = TFLiteConverter.from_tflite(model_bytes)
    conv.optimizations = [Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x] for x in data)
    conv.calibration_threads = threads
    conv.progress = False
    return conv.convert()


def _pointwise_case():
    rng = np.random.default_rng(0)
    return _pointwise_conv_model().to_bytes(), [rng.normal(size=(1, 7, 7, 144)).astype(np.float32)
                                                    for _ in range(21)]


def _dwsep_case():
    return float_model_path("dwsep").read_bytes(), [c[0] for c in calib_gen("dwsep", 21)()]


@pytest.mark.parametrize("case", [_pointwise_case, _dwsep_case])
def test_the_quantized_model_does_not_depend_on_threads_or_batch(case, monkeypatch):
    model_bytes, data = case()
    want = _convert(model_bytes, data, 1, 1, monkeypatch)
    for threads, batch in [(2, 1), (3, 1), (1, 2), (2, 8), (2, None), (-1, None), (1, 16)]:
        assert _convert(model_bytes, data, threads, batch, monkeypatch) == want, (threads, batch)


def test_the_converter_uses_every_cpu_by_default(parallel_runs, monkeypatch):
    monkeypatch.setattr(cal, "_cpus", lambda: 3)
    model_bytes, data = _pointwise_case()
    conv = TFLiteConverter.from_tflite(model_bytes)
    assert conv.calibration_threads == -1
    assert _convert(model_bytes, data, -1, 1, monkeypatch) == _convert(model_bytes, data, 1, 1, monkeypatch)
    assert parallel_runs == [3]


def test_every_cpu_keeps_the_workers_activations_under_a_bound(parallel_runs, monkeypatch):
    from eightbit.interpreter.memory_plan import plan_memory
    from eightbit.interpreter.runner import SubgraphRunner

    m = eightbit.load(float_model_path("dwsep"))
    r = SubgraphRunner(m, 0)
    r.allocate()
    arena = plan_memory(r.sg, r.shapes).arena_bytes
    monkeypatch.setattr(cal, "_cpus", lambda: 8)
    monkeypatch.setattr(cal, "PARALLEL_BYTES", 3 * arena + 1)
    calibrate(m, calib_gen("dwsep", 4), progress=False, threads=-1, batch_size=1)
    calibrate(m, calib_gen("dwsep", 4), progress=False, threads=5, batch_size=1)  # asked for: given
    assert parallel_runs == [3, 5]


def _rsqrt_model():
    b = ModelBuilder()
    x = b.tensor("x", (1, 2))
    y = b.tensor("y", (1, 2))
    b.op("RSQRT", [x], [y])
    return b.inputs(x).outputs(y).build()


GOOD, BAD = np.array([[1.0, 2.0]], np.float32), np.array([[1.0, -1.0]], np.float32)


def _failing(bad_at, raise_at=None, malformed_at=None):
    def gen():
        for k in range(12):
            if k == raise_at:
                raise OSError("disk gone")
            if k == malformed_at:
                yield [GOOD, GOOD]
            else:
                yield [BAD if k in bad_at else GOOD]
    return gen


@pytest.mark.parametrize("method", ["minmax", "percentile"])
@pytest.mark.parametrize("data, message", [
    (_failing({5, 7}), r"sample 5: tensor 1 \('y'\) became NaN or Inf"),
    (_failing({3}, raise_at=6), r"sample 3: tensor 1"),
    (_failing(set(), raise_at=6), r"raised OSError while producing sample 6: disk gone"),
    (_failing({9}, malformed_at=4), r"sample 4: 2 value\(s\) given, the model has 1 input"),
])
def test_errors_on_threads_name_the_first_failing_sample(parallel_runs, method, data, message):
    for threads in (1, 2, 3):
        with pytest.raises(CalibrationError, match=message):
            calibrate(_rsqrt_model(), data, method, progress=False, threads=threads, batch_size=1)
    assert parallel_runs == [2, 3]


def _peak_bytes(m, n, threads) -> int:
    rng = np.random.default_rng(1)
    shape = m.main.tensors[m.main.inputs[0]].shape

    def gen():
        for _ in range(n):
            yield [rng.uniform(-1, 1, shape).astype(np.float32)]

    calibrate(m, gen, progress=False, threads=threads, batch_size=1)  # warm
    tracemalloc.start()
    try:
        calibrate(m, gen, progress=False, threads=threads, batch_size=1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_on_threads_does_not_grow_with_the_samples():
    m = eightbit.load(float_model_path("dwsep"))
    few, many = _peak_bytes(m, 40, 2), _peak_bytes(m, 320, 2)
    assert many <= few * 1.1 + 64 * 1024, (few, many)


@pytest.mark.slow
@pytest.mark.skipif(not MOBILENET.exists(), reason="the MobileNetV2 benchmark model is not there")
def test_mobilenet_is_the_same_bytes_on_threads_and_in_batches(monkeypatch):
    rng = np.random.default_rng(0)
    data = [rng.uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32) for _ in range(9)]
    model_bytes = MOBILENET.read_bytes()
    want = _convert(model_bytes, data, 1, 1, monkeypatch)
    for threads, batch in [(2, None), (3, 1), (2, 4), (1, 8)]:
        assert _convert(model_bytes, data, threads, batch, monkeypatch) == want, (threads, batch)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lo, width", [(-8.0, 16 / 2048), (-3.0, 1e-3), (0.0, 1 / 3), (-7.5, 15 / 2048)])
def test_compiled_bin_counts_equal_numpy_s(dtype, lo, width):
    # The histogram methods' one-pass counting: numpy's float64 floor((x - lo) / width), clipped.
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(50_000) * 3).astype(dtype)
    x[:6] = [0.0, -0.0, 1e-30, 7.5, -7.5, lo + 5 * width]  # on and around edges
    assert np.array_equal(cal.bin_counts(x, lo, width, 2048), cal._bin_counts_numpy(x, lo, width, 2048))
