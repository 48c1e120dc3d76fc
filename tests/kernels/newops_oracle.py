"""Test helpers for the kernels added for real models (issue 7): tensor specs, and a comparison
with LiteRT in either resolver: BUILTIN_REF, or (reference=False) the builtin kernels without
delegates (BUILTIN_WITHOUT_DEFAULT_DELEGATES, no XNNPACK) where BUILTIN_REF lacks the op (CEIL,
ROUND, RANGE v2) or its reference kernel is wrong (LOCAL_RESPONSE_NORMALIZATION)."""

from __future__ import annotations

import numpy as np

from eightbit.ir.builder import ModelBuilder
from tests.fuzz.harness import compare
from tests.oracle import _resize_like, run_eightbit
from tests.oracle import run_litert as run_litert_reference


def run_litert(model: bytes, inputs, reference: bool = True) -> list:
    """LiteRT's outputs with BUILTIN_REF, or with its builtin kernels and no delegate."""
    if reference:
        return run_litert_reference(model, inputs)
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    _resize_like(it, inputs)
    it.allocate_tensors()
    for det, x in zip(it.get_input_details(), inputs):
        it.set_tensor(det["index"], np.asarray(x))
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def t(shape, dtype=np.float32, scale=None, zp=0, data=None, name=None) -> dict:
    """A tensor spec for single_op_model; `data` makes it a constant."""
    d = {"shape": tuple(int(s) for s in shape), "dtype": dtype}
    if scale is not None:
        d.update(scale=scale, zero_point=zp)
    if data is not None:
        d["data"] = np.asarray(data, dtype)
    if name:
        d["name"] = name
    return d


def check(model: bytes, inputs, reference: bool = True, exact: bool = False, rtol: float = 1e-5) -> list:
    """Run in LiteRT (reference kernels unless reference=False) and in eightbit; integers and
    bools must be equal, floats equal (exact) or within 1e-6 + rtol * max|LiteRT|."""
    want = run_litert(model, inputs, reference=reference)
    got = run_eightbit(model, inputs)
    why = compare(got, want, float_rtol=rtol, exact=exact)
    assert why is None, why
    return got


def both_refuse(model: bytes, inputs, litert_match: str, ours_match: str, reference: bool = True) -> None:
    """LiteRT and eightbit both refuse the model / inputs, each with the expected message."""
    import pytest

    with pytest.raises((RuntimeError, ValueError), match=litert_match or None):
        run_litert(model, inputs, reference=reference)
    with pytest.raises(Exception, match=ours_match or None):  # noqa: B017 - ModelError, RuntimeError or ValueError
        run_eightbit(model, inputs)


TANH = 4


def symmetric_int8_tensor(b: ModelBuilder, name: str, v: np.ndarray) -> int:
    """A hybrid op's int8 weight tensor: `v` quantized symmetric, one scale (max|v| / 127)."""
    s = float(np.float32(max(float(np.abs(v).max()), 1e-6) / 127))
    q = np.clip(np.round(v / s), -127, 127).astype(np.int8)
    return b.tensor(name, v.shape, np.int8, data=q, scale=s, zero_point=0)


def lstm_model(n_batch, n_time, n_input, n_cell, n_output=None, cifg=False, peephole=False, projection=False,
               proj_bias=True, layer_norm=False, time_major=True, activation=TANH, cell_clip=0.0, proj_clip=0.0,
               seed=0, hybrid=False, asymmetric=False) -> bytes:
    """A one-op UNIDIRECTIONAL_SEQUENCE_LSTM model (float32 weights drawn from `seed`; hybrid: the
    weight matrices and peephole weights int8, symmetric, one scale each), its state tensors
    variables, the input the only model input."""
    rng = np.random.default_rng(seed)
    n_output = n_output or n_cell
    b = ModelBuilder()

    def w(name, shape, scale=0.5, weight=True):
        v = rng.normal(0, scale, shape).astype(np.float32)
        if not (hybrid and weight):
            return b.tensor(name, shape, np.float32, data=v)
        return symmetric_int8_tensor(b, name, v)

    shape_in = (n_time, n_batch, n_input) if time_major else (n_batch, n_time, n_input)
    x = b.tensor("x", shape_in, np.float32)
    ins = [x]
    ins += [-1 if (cifg and g == "i") else w(f"w_{g}", (n_cell, n_input)) for g in "ifco"]
    ins += [-1 if (cifg and g == "i") else w(f"r_{g}", (n_cell, n_output)) for g in "ifco"]
    ins += [w(f"p_{g}", (n_cell,)) if peephole and not (cifg and g == "i") else -1 for g in "ifo"]
    ins += [-1 if (cifg and g == "i") else w(f"b_{g}", (n_cell,), 0.2, weight=False) for g in "ifco"]
    ins += [w("proj_w", (n_output, n_cell)) if projection else -1,
            w("proj_b", (n_output,), 0.2, weight=False) if projection and proj_bias else -1]
    h = b.tensor("h_state", (n_batch, n_output), np.float32)
    c = b.tensor("c_state", (n_batch, n_cell), np.float32)
    for i in (h, c):
        b.sg.tensors[i].is_variable = True
    ins += [h, c]
    if layer_norm:
        ins += [-1 if (cifg and g == "i") else w(f"ln_{g}", (n_cell,), 1.0, weight=False) for g in "ifco"]
    out_shape = (n_time, n_batch, n_output) if time_major else (n_batch, n_time, n_output)
    y = b.tensor("y", out_shape, np.float32)
    opts = {"fused_activation_function": activation, "cell_clip": cell_clip, "proj_clip": proj_clip,
            "time_major": time_major, "asymmetric_quantize_inputs": asymmetric}
    version = (3 if asymmetric else 2) if hybrid else 1
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], opts, options_type="UnidirectionalSequenceLSTMOptions",
         version=version)
    b.inputs(x).outputs(y)
    return b.build().to_bytes()
