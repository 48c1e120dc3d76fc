"""Output arrays that the operator plan recycles from one invoke to the next.

Without it every operator's output is a new array: above glibc's mmap threshold (32 MB: most
activations at batch 32) that is new pages every invoke, and numpy advises huge pages for arrays of
4 MB and more, which a fragmented machine compacts memory to make (seconds-long stalls seen here).

The fast kernels take their output arrays from `empty(shape, dtype)`: np.empty, or, while a plan
runs on this thread (`active(pool)`), a view of a buffer from the pool. The plan hands each
intermediate back (`Pool.release`) when its last reader has run; the buffer goes back to the
pool only when nothing else refers to it: no other view (a RESHAPE's output, a kernel returning
its input), no other tensor holding the same array, no caller that kept it (a calibration
observer). Buffers whose other views are gone by the end of the invoke come back then
(`Pool.settle`); buffers still held elsewhere (a model output the user kept) are left to them.
So a steady invoke allocates nothing big, and a value is never overwritten while reachable.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref

import numpy as np

ALIGN = 64
_LOCAL = threading.local()


# Smaller arrays come from malloc, which reuses freed memory of any size, the most recently freed
# first (still in cache), without new pages once glibc's mmap threshold has adapted (up to 32 MB);
# an exact-size pool there touched more memory at a first invoke (MobileNetV2 at batch 1: 2200
# page faults against 400) and ran float32 invokes 25% slower (colder buffers).
MIN_BYTES = 16 << 20


def empty(shape, dtype) -> np.ndarray:
    """An uninitialized array for a kernel's output: from the running plan's pool when one is
    active on this thread and the array has MIN_BYTES or more, else np.empty."""
    pool = getattr(_LOCAL, "pool", None)
    if pool is None or int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize < MIN_BYTES:
        return np.empty(shape, dtype)
    return pool.take(shape, dtype)


@contextlib.contextmanager
def active(pool):
    """Kernels called on this thread inside take their outputs from `pool`."""
    before = getattr(_LOCAL, "pool", None)
    _LOCAL.pool = pool
    try:
        yield pool
    finally:
        _LOCAL.pool = before


def _probe_counts() -> tuple:
    """The reference counts Pool.release sees for an array and its buffer that nothing else
    holds (they differ between Python versions: measured, not assumed)."""
    pool = Pool()
    counts = []
    pool._counts = counts
    pool.release(pool.take((4,), np.uint8))
    return counts[0]


class Pool:
    """Buffers by size (bytes rounded up to 64): free ones, and weak references to the ones
    handed out (an escaped buffer is garbage collected as usual)."""

    _expected: tuple | None = None

    def __init__(self):
        self.free: dict = {}  # size -> [buffer, ...]
        self.lent = weakref.WeakValueDictionary()  # id(buffer) -> buffer, handed out
        self.pending: list = []  # released while another view still lived
        self._counts = None

    def take(self, shape, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        size = max(ALIGN, -(-nbytes // ALIGN) * ALIGN)
        stack = self.free.get(size)
        buf = stack.pop() if stack else np.empty(size, np.uint8)
        self.lent[id(buf)] = buf
        return buf[:nbytes].view(dtype).reshape(shape)

    def release(self, value) -> None:
        """value's tensor is dead: its buffer is free unless something else still refers to it."""
        root = getattr(value, "base", None)
        if root is None or self.lent.get(id(root)) is not root:
            return  # not an array from this pool
        counts = (sys.getrefcount(value), sys.getrefcount(root))
        if self._counts is not None:
            self._counts.append(counts)
            return
        if counts == self.expected():
            self._give_back(root)
        else:
            self.pending.append(root)

    def settle(self) -> None:
        """After an invoke: buffers released while another view lived come back if it died."""
        pending, self.pending = self.pending, []
        while pending:
            root = pending.pop()
            # held by: this local, getrefcount's argument, and nothing else
            if sys.getrefcount(root) == 2:
                self._give_back(root)

    def _give_back(self, root) -> None:
        del self.lent[id(root)]
        self.free.setdefault(root.size, []).append(root)

    def nbytes(self) -> int:
        """Bytes of the free buffers (what the pool keeps between invokes)."""
        return sum(b.size for stack in self.free.values() for b in stack)

    @classmethod
    def expected(cls) -> tuple:
        if cls._expected is None:
            cls._expected = _probe_counts()
        return cls._expected
