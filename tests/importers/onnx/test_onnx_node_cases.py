"""ONNX's own per-operator test cases (onnx.backend.test.case.node, expected outputs from ONNX's
reference implementation) for every op in our rule table, io_layout="keep": each one converts
and matches, or fails with one clear UnsupportedOpError / ModelError. Never a wrong answer, never
a raw traceback. Slow (hundreds of models): `make test-all`."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from eightbit.errors import ModelError, UnsupportedOpError
from tests.importers.onnx.helpers import convert
from tests.oracle import run_eightbit

node_cases = pytest.importorskip("onnx.backend.test.case.node")

# Cases whose expected data we do not match, and why (checked by hand).
KNOWN = {
    # the expected output is rounded to 4 decimals in ONNX's test (0.1511 for 0.151055...)
    "test_averagepool_2d_ceil_last_window_starts_on_pad": "expected data rounded",
    # fully masked attention rows: NaN from a softmax over -inf, cleaned by IsNaN/Where in the
    # expanded function; TFLite's SOFTMAX does not produce the NaN the cleaning looks for
    "test_attention_causal_boolmask_nan_robustness_expanded": "softmax of an all -inf row",
    "test_attention_23_boolmask_fullymasked_row_nan_robustness_expanded": "softmax of an all -inf row",
    "test_attention_4d_causal_nonpad_negative_offset_structural_empty_expanded": "softmax of an all -inf row",
    "test_attention_23_fullymasked_qk_matmul_output_mode3_zero_expanded": "softmax of an all -inf row",
    "test_attention_24_fullymasked_qk_matmul_output_mode3_zero_expanded": "softmax of an all -inf row",
    # float16 Attention function with masked scores, run as float32: not investigated yet
    "test_attention_24_qk_matmul_output_mode3_softmax_precision_expanded": "not investigated",
}
# The quantized ops' cases belong to the QDQ / QOperator import's own tests (rules_quantized).
QUANTIZED_OPS = ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger",
                 "QLinear", "QGemm")
UNSUPPORTED_TYPES = ("bfloat16", "float8", "int4", "uint4", "int2", "uint2", "float4", "object")


def _matches(got, want) -> str:
    want = np.asarray(want)
    if got.shape != want.shape:
        return f"shape {got.shape} vs {want.shape}"
    tol = 1e-4
    if want.dtype == np.float16:  # a float16 model runs as float32: compare at half precision
        want, tol = want.astype(np.float32), 4e-3
    if want.dtype.kind != "f":
        return "" if np.array_equal(got, want) else "values differ"
    if not np.array_equal(np.isnan(got), np.isnan(want)):
        return "NaN positions differ"
    finite = np.isfinite(want)
    scale = max(float(np.max(np.abs(want[finite]))) if finite.any() else 0.0, 1e-6)
    err = float(np.max(np.abs(np.nan_to_num(got.astype(np.float64)) - np.nan_to_num(want)))) if want.size else 0.0
    return "" if err <= tol * scale + 1e-5 else f"max err {err:.3g} (scale {scale:.3g})"


def _run_case(case) -> str:
    inputs, outputs = case.data_sets[0]
    if any(np.asarray(a).dtype == object for a in list(inputs) + list(outputs)):
        return "skipped"  # strings, sequences, optionals: no TFLite tensor type
    try:
        data = convert(case.model, io_layout="keep")
        feeds = [np.asarray(i, np.float32) if np.asarray(i).dtype == np.float16 else np.asarray(i) for i in inputs]
        got = run_eightbit(data, feeds)  # types without a kernel fail here
    except (UnsupportedOpError, ModelError) as e:
        return "unsupported" if str(e) else "empty error message"
    bad = [f"output {j}: {m}" for j, (g, w) in enumerate(zip(got, outputs)) if (m := _matches(g, w))]
    return "; ".join(bad) or "ok"


@pytest.mark.slow
@pytest.mark.no_litert_check  # LiteRT aborts the process on some of ONNX's edge cases
def test_onnx_node_cases_convert_and_match_or_fail_clearly():
    from eightbit.importers.onnx.rules import load_rules

    ours = {op for domain, op in load_rules() if domain == ""}
    results, problems = {}, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [c for c in node_cases.collect_testcases(None) if c.kind == "node" and c.data_sets
                 and {n.op_type for n in c.model.graph.node} & ours]
    for case in cases:
        if any(t in case.name.lower() for t in UNSUPPORTED_TYPES) or case.name in KNOWN:
            continue
        if any(n.op_type.startswith(QUANTIZED_OPS) for n in case.model.graph.node):
            continue
        try:
            status = _run_case(case)
        except Exception as e:  # a crash instead of a clear error
            status = f"crash: {type(e).__name__}: {str(e)[:200]}"
        results[case.name] = status
        if status not in ("ok", "unsupported", "skipped"):
            problems.append(f"{case.name}: {status}")
    ok = sum(s == "ok" for s in results.values())
    assert not problems, f"{len(problems)} of {len(results)} cases wrong or crashing:\n" + "\n".join(problems[:30])
    assert ok >= 450, f"only {ok} cases convert and match"
