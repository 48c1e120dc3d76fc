"""Batched calibration (eightbit/quantize/calibration_run.py): the same ranges as one sample at a
time for every method, used only when the model is checked to allow it, errors naming the right
sample, and peak memory that does not grow with the number of samples."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import eightbit
from eightbit.interpreter.runner import SubgraphRunner
from eightbit.ir.builder import ModelBuilder
from eightbit.quantize.calibration import METHODS, CalibrationError, calibrate, ranges
from tests.quantize.helpers import calib_gen, float_model_path


@pytest.fixture
def runs(monkeypatch):
    """The number of invokes calibration makes."""
    count = [0]
    real = SubgraphRunner.run

    def counting(self, *a, **kw):
        count[0] += 1
        return real(self, *a, **kw)

    monkeypatch.setattr(SubgraphRunner, "run", counting)
    return count


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ["dwsep", "opmix_act"])
def test_batched_ranges_equal_one_at_a_time(runs, name, method):
    m = eightbit.load(float_model_path(name))
    one = ranges(calibrate(m, calib_gen(name), method, progress=False, batch_size=1))
    n = runs[0]
    runs[0] = 0
    batched = ranges(calibrate(m, calib_gen(name), method, progress=False, batch_size=8))
    assert batched == one
    # 8 probes one by one, the batch check, then batches of 8 and what is left one by one
    assert runs[0] == 8 + 1 + (n - 8) // 8 + (n - 8) % 8


def test_a_model_with_a_batch_1_reshape_runs_one_at_a_time(runs):
    # TF's CNN reshapes to a constant [1, N]: the pair run fails and calibration goes on singly.
    m = eightbit.load(float_model_path("cnn"))
    one = ranges(calibrate(m, calib_gen("cnn", 20), progress=False, batch_size=1))
    runs[0] = 0
    assert ranges(calibrate(m, calib_gen("cnn", 20), progress=False, batch_size=8)) == one
    assert runs[0] == 21  # every sample, plus the pair run that failed


def _mixing_model():
    """RESHAPE to [-1] then SOFTMAX: at batch 2 the softmax runs over both samples together."""
    b = ModelBuilder()
    x = b.tensor("x", (1, 4))
    flat = b.tensor("flat", (4,))
    y = b.tensor("y", (4,))
    b.op("RESHAPE", [x, b.const("shape", np.array([-1], np.int32))], [flat], {"new_shape": [-1]},
         options_type="ReshapeOptions")
    b.op("SOFTMAX", [flat], [y], {"beta": 1.0}, options_type="SoftmaxOptions")
    return b.inputs(x).outputs(y).build()


def test_a_model_mixing_the_batch_is_not_batched(runs):
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(1, 4)).astype(np.float32) for _ in range(12)]
    m = _mixing_model()
    one = ranges(calibrate(m, lambda: ([x] for x in data), progress=False, batch_size=1))
    runs[0] = 0
    assert ranges(calibrate(m, lambda: ([x] for x in data), progress=False, batch_size=4)) == one
    assert runs[0] == 13


def test_nan_in_a_batch_names_its_sample():
    b = ModelBuilder()
    x = b.tensor("x", (1, 2))
    y = b.tensor("y", (1, 2))
    b.op("RSQRT", [x], [y])
    m = b.inputs(x).outputs(y).build()
    data = [np.array([[1.0, 2.0]], np.float32)] * 9 + [np.array([[1.0, -1.0]], np.float32)]
    with pytest.raises(CalibrationError, match=r"sample 9: tensor 1 \('y'\) became NaN or Inf"):
        calibrate(m, lambda: ([v] for v in data), progress=False, batch_size=4)


def test_batch_size_is_checked():
    with pytest.raises(ValueError, match="batch_size"):
        calibrate(_mixing_model(), lambda: iter([]), batch_size=0)


def _peak_bytes(m, n) -> int:
    rng = np.random.default_rng(1)
    shape = m.main.tensors[m.main.inputs[0]].shape

    def gen():
        for _ in range(n):
            yield [rng.uniform(-1, 1, shape).astype(np.float32)]

    calibrate(m, gen, progress=False)  # warm: kernels prepared, numba loaded
    tracemalloc.start()
    try:
        calibrate(m, gen, progress=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_samples():
    m = eightbit.load(float_model_path("dwsep"))
    few, many = _peak_bytes(m, 40), _peak_bytes(m, 400)
    assert many <= few * 1.1 + 64 * 1024, (few, many)


def test_converter_calibration_threads_are_used_and_checked(monkeypatch):
    from eightbit.quantize import converter as converter_module
    from eightbit.quantize.converter import Optimize, TFLiteConverter

    seen = []
    real = converter_module.calibrate

    def spy(*a, **kw):
        seen.append(kw.get("threads"))
        return real(*a, **kw)

    monkeypatch.setattr(converter_module, "calibrate", spy)
    conv = TFLiteConverter.from_tflite(float_model_path("mlp"))
    conv.optimizations = [Optimize.DEFAULT]
    conv.representative_dataset = calib_gen("mlp", 4)
    conv.calibration_threads = 2
    conv.convert()
    assert seen == [2]
    with pytest.raises(ValueError, match="calibration threads"):
        calibrate(_mixing_model(), lambda: iter([]), threads=0)


def test_samples_of_other_batch_sizes_mixed_in_keep_the_ranges():
    m = eightbit.load(float_model_path("mlp"))
    c = [np.asarray(x) for x in calib_gen("mlp", 12)()]
    c = [x[0] for x in c]
    mixed = c[:5] + [np.concatenate(c[5:8])] + c[8:]  # one sample of batch 3 among batch-1 ones
    for method in ("minmax", "moving_average", "percentile"):
        one = ranges(calibrate(m, lambda: ([x] for x in mixed), method, progress=False, batch_size=1))
        assert ranges(calibrate(m, lambda: ([x] for x in mixed), method, progress=False, batch_size=4)) == one


def test_a_sample_that_cannot_batch_during_the_probe_stops_probing():
    from eightbit.quantize.calibration_run import Calibrator

    m = eightbit.load(float_model_path("mlp"))
    c = [x[0] for x in calib_gen("mlp", 6)()]
    data = [c[0], np.concatenate(c[1:3])] + c[3:]  # the second sample has batch 2
    made = []
    real_init = Calibrator.__init__

    def keep(self, *a, **kw):
        real_init(self, *a, **kw)
        made.append(self)

    import eightbit.quantize.calibration as cal

    monkey = pytest.MonkeyPatch()
    monkey.setattr(cal.Calibrator, "__init__", keep)
    try:
        got = ranges(calibrate(m, lambda: ([x] for x in data), "moving_average", progress=False, batch_size=4))
    finally:
        monkey.undo()
    assert got == ranges(calibrate(m, lambda: ([x] for x in data), "moving_average", progress=False, batch_size=1))
    assert made[0].rec.digests is None and not made[0].batched


def _pointwise_conv_model(hw=7, cin=144, cout=24):
    """A 1x1 CONV_2D whose BLAS GEMM (K=144, N=24) runs numpy's OpenBLAS small-matrix kernel at 1
    and 2 samples (M = 49, 98) and the blocked kernel at 8 (M = 392): other last bits."""
    rng = np.random.default_rng(3)
    b = ModelBuilder()
    x = b.tensor("x", (1, hw, hw, cin))
    y = b.tensor("y", (1, hw, hw, cout))
    w = b.const("w", rng.normal(size=(cout, 1, 1, cin)).astype(np.float32))
    bias = b.const("b", rng.normal(size=cout).astype(np.float32))
    b.op("CONV_2D", [x, w, bias], [y], {"padding": 1, "stride_w": 1, "stride_h": 1, "fused_activation_function": 0,
                                        "dilation_w_factor": 1, "dilation_h_factor": 1}, options_type="Conv2DOptions")
    return b.inputs(x).outputs(y).build()


@pytest.mark.parametrize("batch", [2, 3, 8, 16, None])
def test_a_batch_is_checked_at_its_own_size(batch):
    # The pair of probes matched the single runs and batches of 8 did not: ranges changed.
    m = _pointwise_conv_model()
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(1, 7, 7, 144)).astype(np.float32) for _ in range(37)]
    one = ranges(calibrate(m, data, progress=False, batch_size=1))
    assert ranges(calibrate(m, data, progress=False, batch_size=batch)) == one
