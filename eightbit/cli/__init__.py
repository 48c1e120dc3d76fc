"""`eightbit` command line: one module per subcommand, each with add_parser(subparsers).

A subcommand module's add_parser registers its parser and sets `func(args) -> int`. Errors a
user can cause (a malformed model, a bad argument, a missing file) print one line,
`eightbit: error: ...`, and exit 1 (set EIGHTBIT_TRACEBACK=1 to see the traceback instead).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Listed explicitly, in help order. `convert` (the importers), `quantize` (the PTQ converter's) and `compare` (the
# quantization debugger's) live with their owners' code and may be absent or broken without
# taking the other commands down.
SUBCOMMANDS = ("inspect", "run", "ops", "convert", "quantize", "compare", "verify", "build-kernels")
OPTIONAL = {"convert", "quantize", "compare", "verify", "build-kernels"}


def _subcommand_module(name):
    module = f"eightbit.cli.{name.replace('-', '_')}"  # build-kernels: build_kernels.py
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module and name in OPTIONAL:
            return None
        raise


def _broken(name, exc):
    """A subcommand whose module fails to import: the others keep working, it says why."""

    def add_parser(subparsers):
        p = subparsers.add_parser(name, help=f"(unavailable: {type(exc).__name__})", add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)

        def func(args):
            raise RuntimeError(f"the {name} command is unavailable: {type(exc).__name__}: {exc}")

        p.set_defaults(func=func)

    return add_parser


def build_parser() -> argparse.ArgumentParser:
    from eightbit import __version__

    parser = argparse.ArgumentParser(
        prog="eightbit",
        description="Read, run and quantize .tflite models with TFLite's fixed-point arithmetic, without TensorFlow.",
    )
    parser.add_argument("--version", action="version", version=f"eightbit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in dict.fromkeys(SUBCOMMANDS):
        try:
            mod = _subcommand_module(name)
        except Exception as e:  # noqa: BLE001 - a broken optional module must not take the CLI down
            if name not in OPTIONAL:
                raise
            _broken(name, e)(subparsers)
            continue
        if mod is not None:
            mod.add_parser(subparsers)
    return parser


def _one_line(exc) -> str:
    msg = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        msg = f"{exc.filename}: {exc.strerror}"
    return msg or type(exc).__name__


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError, RuntimeError) as e:  # ModelError is a ValueError
        if os.environ.get("EIGHTBIT_TRACEBACK"):
            raise
        print(f"eightbit: error: {_one_line(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("eightbit: interrupted", file=sys.stderr)
        return 130


__all__ = ["main", "build_parser", "SUBCOMMANDS"]
