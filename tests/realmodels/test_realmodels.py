"""Published third-party models (tests/data/realmodels, tests/data/mediapipe; licences beside
them): each loads, round-trips through LiteRT, runs in eightbit as in LiteRT's reference kernels
(streaming models over many invokes), and every PTQ mode gives a file LiteRT runs as we do.

Models with MediaPipe's custom op run in LiteRT through their decomposition into builtins
(tests/kernels/test_custom_ops.py checks that decomposition op by op). The broad PTQ checks are
marked slow (make test-all)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import eightbit
from eightbit.quantize.converter import OpsSet, Optimize, TFLiteConverter
from tests.converted import for_reference_resolver
from tests.kernels.test_custom_ops import _decompose
from tests.oracle import run_eightbit, run_litert

DATA = Path(__file__).resolve().parents[1] / "data"
MODELS = {
    # name: (path, already quantized: PTQ does not apply)
    "okay_nabu": (DATA / "realmodels" / "okay_nabu.tflite", True),
    "selfie_segmentation": (DATA / "realmodels" / "selfie_segmentation.tflite", False),
    "selfie_segmentation_landscape": (DATA / "realmodels" / "selfie_segmentation_landscape.tflite", False),  # MEAN
    "hand_recrop": (DATA / "realmodels" / "hand_recrop.tflite", False),
    "face_detection_short_range": (DATA / "mediapipe" / "face_detection_short_range.tflite", False),
    "face_detection_full_range_sparse": (DATA / "mediapipe" / "face_detection_full_range_sparse.tflite", False),
}
FLOAT_MODELS = [n for n, (_, quantized) in MODELS.items() if not quantized]
MODES = ["dynamic", "float16", "int8", "int16x8"]


def model_bytes(name) -> bytes:
    return MODELS[name][0].read_bytes()


def litert_runnable(data: bytes) -> bytes:
    """The model as LiteRT's reference resolver can run it: MediaPipe's custom op decomposed into
    TRANSPOSE_CONV, DEPTH_TO_SPACE relabelled to the version BUILTIN_REF registers."""
    m = eightbit.load(data)
    if any(op.op_type == "CUSTOM" for sg in m.subgraphs for op in sg.operators):
        data = _decompose(m).to_bytes()
    return for_reference_resolver(data)


def inputs_for(data: bytes, seed=0) -> list:
    m = eightbit.load(data)
    rng = np.random.default_rng(seed)
    out = []
    for i in m.main.inputs:
        t = m.main.tensors[i]
        if t.dtype.kind == "f":
            out.append(rng.uniform(0, 1, t.shape).astype(t.dtype))
        else:
            info = np.iinfo(t.dtype)
            out.append(rng.integers(info.min, info.max, t.shape, endpoint=True).astype(t.dtype))
    return out


def assert_close(got, want, what):
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape and g.dtype == w.dtype, f"{what}: output {k}"
        if np.issubdtype(w.dtype, np.floating):
            # the bar: within 1e-4 of the output's magnitude
            tol = 1e-4 * max(float(np.abs(w).max()), 1e-6)
            assert float(np.abs(g.astype(np.float64) - w).max()) <= tol, f"{what}: output {k}"
        else:
            assert np.array_equal(g, w), f"{what}: output {k}: {int((g != w).sum())} of {w.size} differ"


@pytest.mark.parametrize("name", list(MODELS))
def test_loads_round_trips_and_runs_as_litert(name):
    data = model_bytes(name)
    x = inputs_for(data)
    rewritten = eightbit.load(data).to_bytes()
    want = run_litert(litert_runnable(data), x)
    assert_close(run_litert(litert_runnable(rewritten), x), want, f"{name}: LiteRT on our rewrite")
    assert_close(run_eightbit(data, x), want, f"{name}: eightbit")


def test_streaming_wake_word_model_matches_every_step():
    """okay_nabu (pymicro-wakeword): int8 state in 12 resource variables, CALL_ONCE, 100 steps;
    every tensor of the main graph, not only the (mostly zero) probability, is compared."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    data = model_bytes("okay_nabu")
    ref = Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                      experimental_preserve_all_tensors=True)
    ours = eightbit.Interpreter(model_content=data, experimental_preserve_all_tensors=True)
    for it in (ref, ours):
        it.allocate_tensors()
    compared = [d["index"] for d in ours.get_tensor_details()
                if d["dtype"] != np.object_ and np.dtype(d["dtype"]) != np.int32]
    rng = np.random.default_rng(7)
    for step in range(100):
        x = rng.integers(-128, 20, (1, 3, 40)).astype(np.int8)
        for it in (ref, ours):
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
        for i in compared:
            np.testing.assert_array_equal(ours.get_tensor(i), ref.get_tensor(i), err_msg=f"step {step}, tensor {i}")
        if step == 50:
            for it in (ref, ours):
                it.reset_all_variables()


def quantize(name, mode):
    conv = TFLiteConverter.from_tflite(str(MODELS[name][0]))
    conv.optimizations = [Optimize.DEFAULT]
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    if mode in ("int8", "int16x8"):
        samples = [inputs_for(model_bytes(name), seed=k) for k in range(2)]
        conv.representative_dataset = lambda: iter(samples)
    if mode == "int16x8":
        conv.target_spec.supported_ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                                          OpsSet.TFLITE_BUILTINS]
    return conv.convert()  # tests/conftest.py checks it with our verifier and LiteRT


def _check_quantized(name, mode):
    out = quantize(name, mode)
    x = inputs_for(out, seed=5)
    assert_close(run_eightbit(out, x), run_litert(litert_runnable(out), x), f"{name} {mode}")


def test_ptq_dynamic_range_of_a_real_model():
    _check_quantized("face_detection_short_range", "dynamic")


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", FLOAT_MODELS)
def test_ptq_every_mode_runs_in_litert_as_in_eightbit(name, mode):
    _check_quantized(name, mode)
