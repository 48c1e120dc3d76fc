"""Checks a converter's `denylist` before anything runs: a misspelled entry is an error.

An entry is an op type (SOFTMAX, CUSTOM, or a custom op's code) or an fnmatch pattern over
operator output tensor names. One that is neither a known op type nor matches any tensor of the
model would silently do nothing, so it is rejected with the valid choices.
"""

from __future__ import annotations

import fnmatch

from eightbit.ir import Model
from eightbit.schema import OPERATOR_NAMES


def check_denylist(model: Model, denylist) -> None:
    if isinstance(denylist, str):
        raise ValueError(f"denylist must be a list of op types or tensor-name patterns, not the string {denylist!r}")
    known_ops = {n.upper() for n in OPERATOR_NAMES.values()} | {"CUSTOM"}
    model_ops = sorted({op.name for sg in model.subgraphs for op in sg.operators})
    known_ops |= {n.upper() for n in model_ops}
    names = [t.name for sg in model.subgraphs for op in sg.operators for i in op.outputs
             if i >= 0 for t in (sg.tensors[i],)]
    bad = [e for e in denylist or ()
           if str(e).upper() not in known_ops and not any(fnmatch.fnmatchcase(n, str(e)) for n in names)]
    if bad:
        raise ValueError(f"denylist entries {bad} are neither op types nor patterns matching any operator "
                         f"output tensor; the model's op types are {model_ops}")
