"""`eightbit inspect`: checked against LiteRT's view of the same file and the corpus manifest."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter as LiteRT
from ai_edge_litert.interpreter import OpResolverType

from eightbit.cli import main
from tests.corpus import ROOT, case

NAMES = ["cnn__int8", "opmix_act__float16", "dwsep__int16x8", "mlp__dynamic_range"]


def _litert(path):
    # Reference kernels: the default resolver hands ops to XNNPACK, which renumbers them.
    it = LiteRT(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    return it


def _constants(it):
    """Tensors LiteRT holds data for that no operator writes and no input feeds."""
    written = {int(t) for op in it._get_ops_details() for t in op["outputs"]}
    inputs = {d["index"] for d in it.get_input_details()}
    n = len({int(t) for op in it._get_ops_details() for t in op["inputs"]} | written | inputs)
    details = it.get_tensor_details()[:n]
    return {d["index"]: it.get_tensor(d["index"]) for d in details
            if d["index"] not in written and d["index"] not in inputs}


@pytest.mark.parametrize("name", NAMES)
def test_json_matches_litert_and_manifest(name, capsys):
    c = case(name)
    path = ROOT / c["model_file"]
    assert main(["inspect", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    it = _litert(path)
    assert d["file_bytes"] == c["model_bytes"]
    (sg,) = d["subgraphs"]
    assert sg["inputs"] == [x["tensor_index"] for x in c["inputs"]]
    assert sg["outputs"] == [x["tensor_index"] for x in c["outputs"]]

    ops = it._get_ops_details()
    assert [(o["op"], o["inputs"], o["outputs"]) for o in sg["operators"]] == [
        (o["op_name"], o["inputs"].tolist(), o["outputs"].tolist()) for o in ops
    ]
    versions = {}
    for o in sg["operators"]:
        versions.setdefault(o["op"], set()).add(o["version"])
    assert {k: sorted(v) for k, v in versions.items()} == c["op_versions"]
    assert {k.split(" v")[0]: 0 for k in d["operator_counts"]}.keys() == c["op_counts"].keys()
    assert sum(d["operator_counts"].values()) == sum(c["op_counts"].values())

    by_index = {t["index"]: t for t in sg["tensors"]}
    for det in it.get_tensor_details()[: len(sg["tensors"])]:
        t = by_index[det["index"]]
        assert t["name"] == det["name"]
        assert t["shape"] == det["shape"].tolist()
        assert np.dtype(det["dtype"]) == np.dtype(t["type"].lower() if t["type"] != "FLOAT16" else "float16")
        qp = det["quantization_parameters"]
        if qp["scales"].size:
            assert t["quantization"]["scales"] == qp["scales"].tolist()
            assert t["quantization"]["zero_points"] == qp["zero_points"].tolist()
            assert t["quantization"]["quantized_dimension"] == qp["quantized_dimension"]
        else:
            assert t["quantization"] is None

    consts = _constants(it)
    assert {t["index"] for t in sg["tensors"] if t["constant"]} == set(consts)
    for i, value in consts.items():
        assert by_index[i]["buffer_bytes"] == value.nbytes
    totals = {}
    for i, value in consts.items():
        typ = by_index[i]["type"]
        totals[typ] = totals.get(typ, 0) + value.nbytes
    assert {k: v["constant_bytes"] for k, v in d["totals"].items() if v["constant_bytes"]} == totals
    assert c["constant_tensor_dtypes"] == {
        k.lower(): v["constant_tensors"] for k, v in d["totals"].items() if v["constant_tensors"]
    }
    assert d["signatures"] == [{"key": "serving_default", "subgraph": 0,
                                "inputs": {"image" if "mlp" not in name else "features": sg["inputs"][0]},
                                "outputs": {"output_0": sg["outputs"][0]}}]


def test_text_output(capsys):
    c = case("cnn__int8")
    path = ROOT / c["model_file"]
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    it = _litert(path)
    assert out.startswith(f"{path}: {c['model_bytes']} bytes, schema version 3, min runtime 1.14.0")
    lines = out.splitlines()
    for o in it._get_ops_details():
        row = next(line for line in lines if line.split()[:2] == [str(o["index"]), o["op_name"]])
        assert f"{o['inputs'].tolist()} -> {o['outputs'].tolist()}" in row
    tensor_rows = lines[lines.index("tensors:") + 2:]
    for det in it.get_tensor_details()[:15]:
        row = next(line for line in tensor_rows if line.split()[0] == str(det["index"]))
        # long names are cut in the middle to fit 100 columns
        shown = row.split()[1]
        assert shown == det["name"] or ("..." in shown and det["name"].startswith(shown.split("...")[0])
                                        and det["name"].endswith(shown.split("...")[1]))
        assert str(det["shape"].tolist()) in row
        qp = det["quantization_parameters"]
        if qp["scales"].size == 1:
            assert f"scale {qp['scales'][0]:.6g} zp {qp['zero_points'][0]}" in row
        elif qp["scales"].size > 1:
            assert f"per-axis {qp['quantized_dimension']} x{qp['scales'].size}" in row
    assert ("operator counts: AVERAGE_POOL_2D v2 x1, CONV_2D v3 x2, FULLY_CONNECTED v4 x1, MAX_POOL_2D v2 x1, "
            "RESHAPE v1 x1, SOFTMAX v2 x1") in " ".join(out.split())
    assert "  all types: 15 tensors, " in out


def test_no_tensors_flag(capsys):
    assert main(["inspect", str(ROOT / case("mlp__int8")["model_file"]), "--no-tensors"]) == 0
    out = capsys.readouterr().out
    assert "operators:" in out and "tensors:" not in out


def test_sparse_model(capsys):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "mediapipe" / "face_detection_full_range_sparse.tflite"
    assert main(["inspect", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    sparse = [t for t in d["subgraphs"][0]["tensors"] if t["sparse"]]
    it = LiteRT(model_path=str(path))
    want = [det["index"] for det in it.get_tensor_details() if det["sparsity_parameters"]]
    assert [t["index"] for t in sparse] == want
    assert d["operator_counts"]["DENSIFY v1"] == 46
    assert d["min_runtime_version"] == "2.2.0"
