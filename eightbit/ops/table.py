"""THE op table: every builtin eightbit runs, one `OpSpec` each (see ops/base.py).

The entries live in the modules listed below, imported explicitly: a family module holds
`ENTRIES` (a tuple of OpSpec), a one-op module `SPEC`. Adding an op to an existing family
touches only that family's ENTRIES; a new module also gets its line in MODULES. kernels/registry.py resolves each entry's
`kernel` from its own explicit module list; tests/unit/test_op_table.py checks that the table,
the kernels, the version rules and `eightbit ops` agree.
"""

from __future__ import annotations

from eightbit.ops import (
    activations,
    binary,
    control_flow,
    conv,
    index_ops,
    math_ops,
    misc_ops,
    movement,
    quantization,
    recurrent_ops,
    reduce,
    signal_ops,
    unary,
    vision_ops,
)
from eightbit.ops.base import OpSpec

MODULES = (conv, binary, activations, unary, reduce, quantization, movement, math_ops, index_ops, recurrent_ops,
           control_flow)
MODULES += (signal_ops,)
MODULES += (vision_ops,)
MODULES += (misc_ops,)


def _build() -> dict:
    table: dict = {}
    for family in MODULES:
        for spec in getattr(family, "ENTRIES", None) or (family.SPEC,):
            if spec.name in table:
                raise ValueError(f"op table: {spec.name} is listed twice ({family.__name__})")
            table[spec.name] = spec
    return table


TABLE: dict[str, OpSpec] = _build()
OP_NAMES: tuple = tuple(TABLE)


def spec(op_name: str) -> OpSpec | None:
    """The entry of a builtin eightbit runs, or None."""
    return TABLE.get(op_name)
