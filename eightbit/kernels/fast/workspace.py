"""Big outputs of the operator plan in one arena reused from invoke to invoke.

Without it every big output is a new array: above glibc's mmap threshold (up to 32 MB: most
activations at batch 32) new pages every invoke, and numpy advises huge pages for arrays of 4 MB
and more, which a fragmented machine compacts memory to make (invokes stalling for seconds).

The plan lays out its intermediates of MIN_BYTES or more (interpreter/plan.py: lifetimes as the
memory plan's, a shape-only operator's output living in its input's bytes) in one arena, in
ordinary pages, touched new once. Before each operator it names the tensor the kernel makes
(`Arena.next`); the fast kernels take their outputs from `empty(shape, dtype)`, which gives that
tensor's slot when the size is the planned one and no array still uses bytes it shares. Each slot
is exported by its own ctypes array, held by every array numpy makes on it, so its reference count
says whether any array (another view, a tensor holding the same array, an observer that kept it)
still reaches those bytes; if one does, the kernel gets a new array instead. Everything else
(smaller arrays, where malloc reuses freed memory still in cache; no plan running) is np.empty.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading

import numpy as np

MIN_BYTES = 16 << 20
ALIGN = 64
_LOCAL = threading.local()


def empty(shape, dtype) -> np.ndarray:
    """An uninitialized array for a kernel's output: its slot of the running plan's arena when
    there is one for it, else np.empty."""
    arena = getattr(_LOCAL, "arena", None)
    if arena is not None and arena.next is not None:
        out = arena.take(shape, dtype)
        if out is not None:
            return out
    return np.empty(shape, dtype)


@contextlib.contextmanager
def active(arena):
    """Kernels called on this thread inside take their outputs from `arena` (None: np.empty)."""
    before = getattr(_LOCAL, "arena", None)
    _LOCAL.arena = arena
    try:
        yield arena
    finally:
        _LOCAL.arena = before


def new_buffer(size: int) -> np.ndarray:
    """size bytes in ordinary pages: numpy advises huge pages from 4 MB, whose first touch stalls
    while a fragmented machine compacts memory; an arena is touched new only once."""
    multiarray = getattr(getattr(np, "_core", None), "multiarray", None)
    setter = getattr(multiarray, "_set_madvise_hugepage", None)
    if setter is None:
        return np.empty(size, np.uint8)
    before = setter(False)
    try:
        return np.empty(size, np.uint8)
    finally:
        setter(before)


class Arena:
    """slots {tensor: (offset, nbytes)}; overlaps {tensor: tensors whose bytes it shares, itself
    included}."""

    def __init__(self, slots: dict, overlaps: dict):
        self.slots = slots
        self.nbytes = max((o + n for o, n in slots.values()), default=0)
        self.buffer = new_buffer(self.nbytes + ALIGN)  # kept: the slots point into it
        start = self.buffer.ctypes.data + (-self.buffer.ctypes.data % ALIGN)
        # A ctypes array per slot exports its bytes: every array numpy makes on it holds a
        # memoryview that holds it, so its reference count counts the arrays still using it.
        self.views = {t: (ctypes.c_ubyte * n).from_address(start + o) for t, (o, n) in slots.items()}
        self.overlaps = overlaps
        self.next = None  # the tensor the running operator makes
        self._unused = _unused_count()

    def take(self, shape, dtype) -> np.ndarray | None:
        """The next tensor's slot as an array of shape and dtype, or None (another size, or an
        array still uses bytes of it). Once per operator."""
        t, self.next = self.next, None
        views = self.views
        if t not in views or any(sys.getrefcount(views[u]) != self._unused for u in self.overlaps[t]):
            return None  # (checked before this frame holds a reference to the slot itself)
        dtype = np.dtype(dtype)
        if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != ctypes.sizeof(views[t]):
            return None
        return np.frombuffer(views[t], dtype).reshape(shape)

    def in_use(self) -> list:
        """The tensors whose slot an array still uses."""
        return [t for t in self.views if sys.getrefcount(self.views[t]) != self._unused]


def _unused_count() -> int:
    """sys.getrefcount of a slot that only the arena holds, as Arena.take sees it (measured:
    the count differs between Python versions)."""
    views = {0: (ctypes.c_ubyte * 1)()}
    return sys.getrefcount(views[0])
