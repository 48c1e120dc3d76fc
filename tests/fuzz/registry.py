"""Every fuzz generator, by op: GENERATORS[op] = (kinds, fn(g, kind) -> Case).

The op list is the op table's: an op with a generator of its own (tests/fuzz/gen_*.py) uses it;
any other op whose kernel is an elementwise `Unary` gets the generic one-input generator over the
kinds its table entry lists, so a new unary op is fuzzed without touching this directory.
"""

from __future__ import annotations

from functools import partial

from eightbit.kernels.base import Unary
from eightbit.kernels.registry import KERNELS
from eightbit.ops.table import TABLE
from tests.fuzz import (
    gen_binary,
    gen_chains,
    gen_conv,
    gen_misc,
    gen_move,
    gen_newops,
    gen_recurrent,
    gen_spatial,
    gen_unary,
)
from tests.fuzz.common import Case, Gen, case_seed

_MODULES = (gen_unary, gen_binary, gen_conv, gen_spatial, gen_move, gen_chains, gen_newops)
_MODULES += (gen_recurrent,)
_MODULES += (gen_misc,)  # audio front end, detection, remaining builtins (issue 7)

GENERATORS: dict = {}
_SPECIALS: set = set()  # ops whose float data may hold inf / NaN (module-level SPECIALS = True)
for _mod in _MODULES:
    GENERATORS.update(_mod.GENERATORS)
    if getattr(_mod, "SPECIALS", False):
        _SPECIALS.update(_mod.GENERATORS)
for _op, _spec in TABLE.items():
    if _op not in GENERATORS and issubclass(KERNELS[_op], Unary):
        GENERATORS[_op] = (tuple(k for k in _spec.types if k != "hybrid"), partial(gen_unary.generic, op=_op))
        _SPECIALS.add(_op)


def generate(op: str, kind: str, seed: int, avoid_known: bool = False) -> Case:
    kinds, fn = GENERATORS[op]
    if kind not in kinds:
        raise KeyError(f"{op} has no generator for {kind} (has {', '.join(kinds)})")
    return fn(Gen(seed, avoid_known, specials=op in _SPECIALS), kind)


def from_key(key: str) -> Case:
    """Rebuild a case from its key "OP:kind:seed" (":ci" appended: with avoid_known, as the CI test)."""
    parts = key.split(":")
    op, kind, seed = parts[:3]
    return generate(op, kind, int(seed), avoid_known=parts[3:] == ["ci"])


def pairs(ops=None, kinds=None):
    """(op, kind) for every generator, in a stable order."""
    out = []
    for op, (ks, _) in GENERATORS.items():
        if ops and op not in ops:
            continue
        out.extend((op, k) for k in ks if not kinds or k in kinds)
    return out


__all__ = ["GENERATORS", "generate", "from_key", "pairs", "case_seed"]
