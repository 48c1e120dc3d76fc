"""HASHTABLE_LOOKUP (TFLite kernels/hashtable_lookup.cc): for each int32 lookup key, the row of
the value tensor whose key (keys int32, sorted ascending, one per row) matches, found with the C
library's bsearch and the comparator `a - b` (LiteRT 2.3.0 measured: keys 2^31 apart compare as
if the subtraction did not wrap, the compiler folds it to a < b); a missing key gives a row of zero
bytes. Outputs: the rows [n_lookups, ...] and hits (uint8, 1 found / 0 missing). With repeated
keys the row is the one glibc's bisection lands on, which `_bsearch` follows. STRING values are
not supported by eightbit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import ANY_TYPE, fail, require_type


@dataclass(frozen=True)
class HashtableParams:
    dtype: np.dtype


def _bsearch(lookup: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Row index glibc's bsearch returns for each lookup (-1 when none), all lookups at once:
    l = 0, u = n; while l < u: mid = (l + u) / 2; c = key - keys[mid];
    c < 0: u = mid; c > 0: l = mid + 1; else found."""
    n = keys.size
    lo = np.zeros(lookup.size, np.int64)
    hi = np.full(lookup.size, n, np.int64)
    found = np.full(lookup.size, -1, np.int64)
    active = lo < hi
    k = keys.astype(np.int64)
    want = lookup.astype(np.int64)
    while active.any():
        mid = (lo + hi) // 2
        diff = want - k[np.minimum(mid, n - 1)]
        hit = active & (diff == 0)
        found[hit] = mid[hit]
        hi = np.where(active & (diff < 0), mid, hi)
        lo = np.where(active & (diff > 0), mid + 1, lo)
        active = active & ~hit & (lo < hi)
    return found


class HashtableLookup(Kernel):
    @staticmethod
    def prepare(op: OpContext) -> HashtableParams:
        if len(op.inputs) != 3 or any(t is None for t in op.inputs) or len(op.outputs) != 2:
            raise ModelError(f"{op.where()}: HASHTABLE_LOOKUP takes lookups, keys and values and gives 2 outputs")
        lookup, keys, values = op.inputs
        for t, what in ((lookup, "lookups"), (keys, "keys")):
            require_type(op, t, ("INT32",), what)
            if len(t.shape) != 1:
                raise ModelError(f"{op.where()}: HASHTABLE_LOOKUP's {what} must be 1-D")
        require_type(op, values, ANY_TYPE, "values")
        if len(values.shape) < 1 or values.shape[0] != keys.shape[0]:
            raise ModelError(f"{op.where()}: HASHTABLE_LOOKUP needs one value row per key")
        if op.outputs[0].type != values.type or op.outputs[1].type != "UINT8":
            raise ModelError(f"{op.where()}: HASHTABLE_LOOKUP's outputs must be {values.type} and UINT8")
        return HashtableParams(np.dtype(values.dtype))

    @staticmethod
    def eval(p: HashtableParams, lookup, keys, values):
        if keys.shape[0] != values.shape[0]:
            raise fail("HASHTABLE_LOOKUP: one value row per key is needed")
        rows = _bsearch(lookup.reshape(-1), keys.reshape(-1)) if keys.size else np.full(lookup.size, -1)
        hit = rows >= 0
        out = np.zeros((lookup.size,) + values.shape[1:], p.dtype)
        out[hit] = values[rows[hit]]
        return out, hit.astype(np.uint8)
