"""The fast kernels with several threads (rows split over the pool): the same results as the
reference kernels, and calibration's thread count changes nothing but the time."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.kernels.fast import jit
from eightbit.quantize.calibration import calibrate, ranges
from tests.corpus import case, case_data, model_bytes
from tests.fuzz.fast_vs_reference import same

CASES = ["dwsep__int8", "dwsep__uint8io", "dwsep__float32", "opmix_act__int8", "opmix_act__float32", "mlp__int8",
         "mlp__float32"]


@pytest.fixture
def split_everything(monkeypatch):
    monkeypatch.setattr(jit, "MIN_PARALLEL_WORK", 1)  # even the corpus' small layers get split


def _run(name, threads, kernels, batch=3):
    c = case(name)
    data = case_data(c)
    it = eightbit.Interpreter(model_content=model_bytes(c), num_threads=threads, kernels=kernels)
    feeds = []
    for spec, det in zip(c["inputs"], it.get_input_details()):
        stored = np.asarray(data[spec["key"]])  # (samples, 1, ...): each sample has batch 1
        x = np.concatenate([stored[k % stored.shape[0]] for k in range(batch)], axis=0)
        it.resize_tensor_input(det["index"], list(x.shape))
        feeds.append((det["index"], x))
    it.allocate_tensors()
    for i, x in feeds:
        it.set_tensor(i, x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", CASES)
def test_two_threads_equal_the_reference_kernels(name, split_everything):
    try:
        want = _run(name, None, "reference")
    except (RuntimeError, ValueError) as e:
        pytest.skip(f"does not run at batch 3: {e}")
    got = _run(name, 2, "fast")
    # identical, except the floats of an all-float model (BLAS GEMMs: within a tolerance)
    assert all(same(model_bytes(case(name)), g, w) for g, w in zip(got, want))


def test_calibration_threads_give_the_same_ranges(split_everything):
    model = eightbit.load(model_bytes(case("cnn__float32")))
    rng = np.random.default_rng(0)
    shape = [1, *[int(d) for d in model.main.tensors[model.main.inputs[0]].shape[1:]]]
    samples = [rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(4)]
    one = ranges(calibrate(model, samples, threads=1, progress=False))
    two = ranges(calibrate(model, samples, threads=2, progress=False))
    assert one == two and len(one) > 3
