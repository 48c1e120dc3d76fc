"""The `eightbit` entry point: subcommand discovery, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import eightbit
import eightbit.cli as cli
from eightbit.ir.builder import ModelBuilder
from tests.corpus import ROOT, case

REPO = Path(__file__).resolve().parents[2]


def _choices(parser):
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return list(sub.choices)


def test_subcommands_are_registered():
    names = _choices(cli.build_parser())
    assert names[:3] == ["inspect", "run", "ops"]
    for optional in ("quantize", "compare"):
        present = (REPO / "eightbit" / "cli" / f"{optional}.py").exists()
        assert (optional in names) == present


def test_cli_works_without_the_optional_subcommands(monkeypatch):
    # As before the PTQ and debugger modules land: importing them finds nothing.
    monkeypatch.setitem(sys.modules, "eightbit.cli.quantize", None)
    monkeypatch.setitem(sys.modules, "eightbit.cli.compare", None)
    monkeypatch.setitem(sys.modules, "eightbit.cli.convert", None)
    monkeypatch.setitem(sys.modules, "eightbit.cli.verify", None)
    monkeypatch.setitem(sys.modules, "eightbit.cli.build_kernels", None)
    assert _choices(cli.build_parser()) == ["inspect", "run", "ops"]
    assert cli.main(["ops", "--json"]) == 0


def test_a_broken_optional_subcommand_does_not_take_the_cli_down(monkeypatch, capsys):
    real = cli.importlib.import_module

    def fake(name, *a, **kw):
        if name == "eightbit.cli.quantize":
            raise ImportError("cannot import name 'Thing' from 'eightbit.quantize'")
        return real(name, *a, **kw)

    monkeypatch.setattr(cli.importlib, "import_module", fake)
    assert "quantize" in _choices(cli.build_parser())
    assert cli.main(["ops", "--json"]) == 0
    capsys.readouterr()
    assert cli.main(["quantize", "x.tflite"]) == 1
    assert capsys.readouterr().err == (
        "eightbit: error: the quantize command is unavailable: ImportError: cannot import name 'Thing' "
        "from 'eightbit.quantize'\n"
    )


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "usage: eightbit" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out == f"eightbit {eightbit.__version__}\n"


@pytest.mark.parametrize("command", ["inspect", "run"])
def test_model_errors_are_one_line(command, tmp_path, capsys):
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"\x10\x00\x00\x00TFL3" + bytes(range(40)))
    truncated = tmp_path / "cut.tflite"
    truncated.write_bytes((ROOT / case("cnn__int8")["model_file"]).read_bytes()[:3000])
    expected = {
        str(tmp_path / "missing.tflite"): f"cannot read model file '{tmp_path / 'missing.tflite'}': No such file or directory",
        str(tmp_path): f"cannot read model file '{tmp_path}': Is a directory",
        str(garbage): "malformed flatbuffer: ",
        str(truncated): "malformed flatbuffer: ",
    }
    for path, message in expected.items():
        assert cli.main([command, path]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"eightbit: error: {message}") and err.count("\n") == 1, err


def test_unsupported_ops_are_listed_on_one_line(tmp_path, capsys):
    b = ModelBuilder()
    x, y, z = (b.tensor(n, (1, 4)) for n in "xyz")
    b.op("CUSTOM", [x], [y], custom_code="FancyOp")
    b.op("CUSTOM", [y], [z], custom_code="OtherOp", version=2)
    b.inputs(x).outputs(z)
    p = tmp_path / "custom.tflite"
    b.build().save(p)
    assert cli.main(["run", str(p)]) == 1
    assert capsys.readouterr().err == (
        "eightbit: error: model uses 2 unsupported operator(s): FancyOp v1 x1 (custom op: register a kernel with "
        "eightbit.register_custom_op), OtherOp v2 x1 (custom op: register a kernel with eightbit.register_custom_op)\n"
    )


def test_console_script_exit_codes_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model at all")
    ok = subprocess.run([sys.executable, "-m", "eightbit.cli", "ops"], capture_output=True, text=True, cwd=REPO)
    assert ok.returncode == 0 and "CONV_2D" in ok.stdout
    fail = subprocess.run([sys.executable, "-m", "eightbit.cli", "inspect", str(bad)], capture_output=True,
                          text=True, cwd=REPO)
    assert fail.returncode == 1
    assert fail.stderr == "eightbit: error: not a .tflite model: file identifier at byte offset 4 is b'a mo', expected b'TFL3'\n"
    usage = subprocess.run([sys.executable, "-m", "eightbit.cli", "inspect"], capture_output=True, text=True, cwd=REPO)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
