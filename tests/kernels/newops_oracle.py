"""Test helpers for the kernels added for real models (issue 7): tensor specs, and a comparison
with LiteRT in either resolver: BUILTIN_REF, or (reference=False) the builtin kernels without
delegates (BUILTIN_WITHOUT_DEFAULT_DELEGATES, no XNNPACK) where BUILTIN_REF lacks the op (CEIL,
ROUND, RANGE v2) or its reference kernel is wrong (LOCAL_RESPONSE_NORMALIZATION)."""

from __future__ import annotations

import numpy as np

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
