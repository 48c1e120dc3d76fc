"""numba, when installed (the `fast` extra), and the thread counts of the fast kernels.

`njit(fn)` gives a pair of compiled versions of one Python function: serial, and parallel (its
`prange` loops spread over numba's threads); `jitted.run(threads)` picks one. Compiled code is
cached on disk (`cache=True`): in the package's `__pycache__` when writable, else numba's
user-wide cache directory (numba falls back by itself; NUMBA_CACHE_DIR overrides both), so a
process after the first starts without compiling.

Without numba, HAVE_NUMBA is False and the fast kernels run their numpy fallbacks.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os

try:
    import numba
    from numba import prange

    HAVE_NUMBA = os.environ.get("EIGHTBIT_DISABLE_NUMBA", "") in ("", "0")
except ImportError:  # pragma: no cover - exercised by the no-numba CI job
    numba = None
    prange = range
    HAVE_NUMBA = False


class Jitted:
    """A Python function with lazily compiled serial and parallel versions."""

    def __init__(self, fn):
        self.fn = fn
        self._serial = None
        self._parallel = None

    def run(self, threads: int = 1):
        if threads > 1:
            if self._parallel is None:
                self._parallel = numba.njit(cache=True, parallel=True, nogil=True)(self.fn)
            return self._parallel
        if self._serial is None:
            self._serial = numba.njit(cache=True, nogil=True)(self.fn)
        return self._serial


def njit(fn) -> Jitted:
    return Jitted(fn)


# ---- threads ----------------------------------------------------------------------------

def max_threads() -> int:
    return int(numba.config.NUMBA_NUM_THREADS) if HAVE_NUMBA else 1


def _openblas():
    """numpy's bundled OpenBLAS (set/get thread count by ctypes), or None."""
    try:
        import numpy

        libs = glob.glob(os.path.join(os.path.dirname(numpy.__file__) + ".libs", "*openblas*.so*"))
        for path in libs:
            lib = ctypes.CDLL(path)
            for suffix in ("64_", "_64_", ""):
                setter = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None) or \
                    getattr(lib, f"openblas_set_num_threads{suffix}", None)
                getter = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None) or \
                    getattr(lib, f"openblas_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    return setter, getter
    except OSError:
        pass
    return None


_BLAS = None


@contextlib.contextmanager
def _ctypes_blas_limit(n: int):
    global _BLAS
    if _BLAS is None:
        _BLAS = _openblas() or False
    if not _BLAS:
        yield
        return
    setter, getter = _BLAS
    before = int(getter())
    if before != n:
        setter(int(n))
    try:
        yield
    finally:
        if before != n:
            setter(before)


def _threadpool_limits():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits


_THREADPOOL = []  # [threadpool_limits or None], looked up once (a failed import is slow to repeat)


def blas_threads(n: int | None):
    """Limit numpy's BLAS threads while running: threadpoolctl when installed, else numpy's
    bundled OpenBLAS through ctypes; a no-op for n None or < 1."""
    if n is None or n < 1:
        return contextlib.nullcontext()
    if not _THREADPOOL:
        _THREADPOOL.append(_threadpool_limits())
    if _THREADPOOL[0] is None:
        return _ctypes_blas_limit(n)
    return _THREADPOOL[0](limits=n, user_api="blas")


@contextlib.contextmanager
def numba_threads(n: int):
    """numba's thread count for the parallel kernels (capped at NUMBA_NUM_THREADS); the serial
    versions run when n is 1, so numba's pool is left alone then."""
    if not HAVE_NUMBA or n <= 1:
        yield
        return
    n = max(1, min(int(n), max_threads()))
    before = numba.get_num_threads()
    if before != n:
        numba.set_num_threads(n)
    try:
        yield
    finally:
        if before != n:
            numba.set_num_threads(before)


class _State:
    threads = 1  # the running interpreter's thread count (set by `running_with`)


STATE = _State()


@contextlib.contextmanager
def running_with(threads: int | None):
    """Thread counts for one invoke: BLAS threads, numba threads, and STATE.threads, which the
    fast kernels read to choose their serial or parallel compiled versions. None leaves numpy's
    BLAS threads as they are and runs the compiled loops serially; -1 uses every CPU."""
    if threads == -1:
        threads = os.cpu_count() or 1
    n = 1 if threads is None or threads < 1 else int(threads)
    before = STATE.threads
    STATE.threads = n
    try:
        with blas_threads(threads), numba_threads(n):
            yield
    finally:
        STATE.threads = before
