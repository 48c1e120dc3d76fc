"""`eightbit compare`, called through argparse as the CLI package would."""

from __future__ import annotations

import argparse
import csv
import json

import numpy as np
import pytest

import eightbit.cli as cli
from eightbit.cli import compare
from eightbit.debug import TensorReport
from eightbit.ir import load
from tests import corpus
from tests.debug.reference import eval_inputs, litert_run_all, model_path, sqnr

FLOAT, QUANT = str(model_path("opmix_act__float32")), str(model_path("opmix_act__int8_floatio"))
GELU_SHORT = "opmix_act_1/activation_7_1/Gelu/mul_2"


def run_cli(argv: list) -> int:
    parser = argparse.ArgumentParser(prog="eightbit")
    compare.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["compare", *argv])
    return args.func(args)


def _table_rows(out: str) -> list:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| tensor "))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("| "):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "eval.npz"
    np.savez(path, input_0=eval_inputs("opmix_act", 20))
    return path


def test_table_and_output_agreement(data, capsys):
    assert run_cli([FLOAT, QUANT, "--data", str(data), "--top", "4"]) == 0
    out = capsys.readouterr().out
    assert "20 samples" in out and f"samples from {data}" in out
    x = eval_inputs("opmix_act", 20)
    f = litert_run_all(model_path("opmix_act__float32").read_bytes(), [[s] for s in x])
    q = litert_run_all(model_path("opmix_act__int8_floatio").read_bytes(), [[s] for s in x])
    name = "StatefulPartitionedCall_1:0"
    ref, got = f[name]["values"].reshape(20, -1), q[name]["values"].reshape(20, -1)
    agree = int(np.sum(np.argmax(ref, -1) == np.argmax(got, -1)))
    assert f"top-1 agreement {100 * agree / 20:.2f}% ({agree}/20)" in out
    assert f"SQNR {sqnr(ref.astype(np.float64), got.astype(np.float64)):.1f} dB" in out
    rows = _table_rows(out)
    assert len(rows) == 4
    header = next(line for line in out.splitlines() if line.startswith("| tensor "))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "tensor", "op", "shape", "type", "scale", "zp", "SQNR dB", "layer SQNR dB", "max abs err", "mean err", "RMSE",
        "RMSE/scale", "RMSE/range %", "sat %"]
    layer_db = [float(r[7]) for r in rows]
    assert layer_db == sorted(layer_db)
    assert "Worst 4 of 18 tensors" in out and "Tensors paired with the float model: 18 (16 by name" in out


def test_broken_model_puts_the_broken_tensor_first(data, tmp_path, capsys):
    m = load(QUANT)
    t = next(t for t in m.main.tensors if t.name.startswith(GELU_SHORT))
    t.quantization.scale = t.quantization.scale * 8
    broken = tmp_path / "broken.tflite"
    m.save(broken)
    assert run_cli([FLOAT, str(broken), "--data", str(data), "--top", "3"]) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert rows[0][0] == GELU_SHORT and rows[0][1] == "GELU"


def test_json_and_csv(data, tmp_path, capsys):
    out_csv = tmp_path / "layers.csv"
    assert run_cli([FLOAT, QUANT, "--data", str(data), "--samples", "5", "--json", "--csv", str(out_csv)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["samples"] == 5 and len(d["layers"]) == 18 and d["outputs"][0]["top1_total"] == 5
    assert d["float_model"] == FLOAT and d["quant_model"] == QUANT
    with open(out_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [f.name for f in TensorReport.__dataclass_fields__.values()]
    assert [r["name"] for r in rows] == [r["name"] for r in d["layers"]]
    assert float(rows[2]["sqnr_db"]) == pytest.approx(d["layers"][2]["sqnr_db"])
    with pytest.raises(FileExistsError, match="--force"):
        run_cli([FLOAT, QUANT, "--data", str(data), "--csv", str(out_csv)])
    assert run_cli([FLOAT, QUANT, "--data", str(data), "--samples", "2", "--csv", str(out_csv), "--force"]) == 0
    assert f"Wrote 18 rows to {out_csv}" in capsys.readouterr().out


def test_random_samples_use_the_quantized_input_range(capsys):
    c = corpus.case("cnn__int8")["inputs"][0]
    lo, hi = (-128 - c["zero_point"]) * c["scale"], (127 - c["zero_point"]) * c["scale"]
    assert run_cli([str(model_path("cnn__float32")), str(model_path("cnn__int8_floatio")), "--samples", "3",
                    "--seed", "7", "--top", "0"]) == 0
    out = capsys.readouterr().out
    assert f"random samples, seed 7: serving_default_image:0: uniform in [{lo:.6g}, {hi:.6g}]" in out
    assert len(_table_rows(out)) == 8 and "3 samples" in out
    fm, qm = load(model_path("mlp__float32")), load(model_path("mlp__float32"))
    lo_hi = compare.input_ranges(fm, qm)
    assert lo_hi == [(0.0, 1.0, "default")]


def test_errors_are_one_line_with_a_nonzero_exit(data, tmp_path, capsys, monkeypatch):
    with pytest.raises(ValueError, match="cannot read model file .*missing.tflite"):
        run_cli([FLOAT, str(tmp_path / "missing.tflite")])
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, pixels=eval_inputs("opmix_act", 3))
    with pytest.raises(ValueError, match="no data for model input 'serving_default_image:0'"):
        run_cli([FLOAT, QUANT, "--data", str(wrong)])
    npy = tmp_path / "x.npy"
    np.save(npy, eval_inputs("opmix_act", 3))
    # One loader for every subcommand: a .npy is the samples of a one-input model.
    assert run_cli([FLOAT, QUANT, "--data", str(npy), "--samples", "2"]) == 0
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        run_cli([FLOAT, QUANT, "--data", str(empty)])
    with pytest.raises(ValueError, match="--samples"):
        run_cli([FLOAT, QUANT, "--samples", "0"])
    # through eightbit's main, with the subcommand registered as the CLI package will
    monkeypatch.setattr(cli, "SUBCOMMANDS", (*cli.SUBCOMMANDS, "compare"))
    monkeypatch.delenv("EIGHTBIT_TRACEBACK", raising=False)
    capsys.readouterr()
    assert cli.main(["compare", FLOAT, QUANT, "--data", str(wrong)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("eightbit: error: no data for model input")
    assert cli.main(["compare", FLOAT, str(tmp_path / "missing.tflite")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.tflite" in err
    assert cli.main(["compare", FLOAT, QUANT, "--data", str(data), "--samples", "2"]) == 0


def test_models_given_in_the_wrong_order():
    with pytest.raises(ValueError, match="give the float model first"):
        run_cli([QUANT, FLOAT, "--samples", "2"])
