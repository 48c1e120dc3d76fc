"""LiteRT as the oracle: run a model in LiteRT's reference kernels and in eightbit, compare.

For ops and types the corpus lacks, tests build single-op models with our writer and
compare with LiteRT's BUILTIN_REF resolver, which makes any op testable without TensorFlow.
"""

from __future__ import annotations

import numpy as np

import eightbit
from eightbit.ir.builder import ModelBuilder
from eightbit.kernels.registry import get_spec


def run_litert(model_bytes: bytes, inputs, reference: bool = True) -> list:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kw = {"experimental_op_resolver_type": OpResolverType.BUILTIN_REF} if reference else {}
    it = Interpreter(model_content=model_bytes, **kw)
    _resize_like(it, inputs)
    it.allocate_tensors()
    for det, x in zip(it.get_input_details(), inputs):
        it.set_tensor(det["index"], np.asarray(x))
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def run_eightbit(model_bytes: bytes, inputs, kernels: str = "fast", num_threads: int | None = None) -> list:
    """eightbit's outputs, the inputs resized into the model first where their shapes differ."""
    return invoke_eightbit(model_bytes, inputs, kernels=kernels, num_threads=num_threads)[1]


def invoke_eightbit(model_bytes: bytes, inputs, **interpreter_options) -> tuple:
    """(the interpreter, its outputs) after one invoke on inputs (resized into the model first)."""
    it = eightbit.Interpreter(model_content=model_bytes, **interpreter_options)
    _resize_like(it, inputs)
    it.allocate_tensors()
    for det, x in zip(it.get_input_details(), inputs):
        it.set_tensor(det["index"], np.asarray(x))
    it.invoke()
    return it, [it.get_tensor(d["index"]) for d in it.get_output_details()]


def _resize_like(it, inputs):
    for det, x in zip(it.get_input_details(), inputs):
        if tuple(det["shape"]) != np.shape(x):
            it.resize_tensor_input(det["index"], list(np.shape(x)))


def single_op_model(op_type, inputs, outputs, options=None, version=1, options_type=None) -> bytes:
    """inputs/outputs: list of dicts for ModelBuilder.tensor (name, shape, dtype, data, scale, zero_point,
    quantized_dimension), or None for an omitted optional input. Non-constant inputs become model inputs."""
    b = ModelBuilder()
    in_idx, graph_inputs = [], []
    for k, spec in enumerate(inputs):
        if spec is None:
            in_idx.append(-1)
            continue
        spec = dict(spec)
        spec.setdefault("name", f"in{k}")
        i = b.tensor(**spec)
        in_idx.append(i)
        if spec.get("data") is None:
            graph_inputs.append(i)
    out_idx = []
    for k, spec in enumerate(outputs):
        spec = dict(spec)
        spec.setdefault("name", f"out{k}")
        out_idx.append(b.tensor(**spec))
    if options_type is None:
        spec = get_spec(op_type)
        options_type = spec.options if spec is not None else None
    b.op(op_type, in_idx, out_idx, options or {}, options_type=options_type, version=version)
    b.inputs(*graph_inputs).outputs(*out_idx)
    return b.build().to_bytes()


def assert_same_as_litert(model_bytes: bytes, inputs, atol=None, rtol=0.0):
    """Integer outputs equal exactly; float outputs within atol (default 1e-5 * max|ref| + 1e-6)."""
    want = run_litert(model_bytes, inputs)
    got = run_eightbit(model_bytes, inputs)
    assert len(got) == len(want)
    for j, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, f"output {j}: shape {g.shape} != LiteRT {w.shape}"
        assert g.dtype == w.dtype, f"output {j}: dtype {g.dtype} != LiteRT {w.dtype}"
        if np.issubdtype(w.dtype, np.floating):
            # NaN and infinities must sit in the same places with the same signs; the rest is compared.
            special = ~np.isfinite(w)
            np.testing.assert_array_equal(g[special], w[special], err_msg=f"output {j}: NaN/inf differ")
            assert np.array_equal(~np.isfinite(g), special), f"output {j}: non-finite values where LiteRT has none"
            g, w = np.where(special, 0, g), np.where(special, 0, w)
            tol = atol if atol is not None else 1e-6 + 1e-5 * (float(np.max(np.abs(w))) if w.size else 0.0)
            err = float(np.max(np.abs(g.astype(np.float64) - w))) if w.size else 0.0
            assert err <= tol + rtol * (float(np.max(np.abs(w))) if w.size else 0.0), f"output {j}: max abs err {err} > {tol}"
        else:
            bad = np.flatnonzero(g.reshape(-1) != w.reshape(-1))
            assert bad.size == 0, (
                f"output {j}: {bad.size}/{w.size} differ, first at {bad[0]}: got {g.reshape(-1)[bad[0]]}, "
                f"LiteRT {w.reshape(-1)[bad[0]]}"
            )
    return got
