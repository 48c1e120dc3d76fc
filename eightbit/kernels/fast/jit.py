"""numba, when installed (the `fast` extra), and the threads of the fast kernels.

`njit(fn)` declares a kernel; `.run()` gives the function to call: the ahead-of-time library's
(aot.py: every njit kernel takes part, with no declaration; loaded without importing numba) when
it holds the kernel, else numba's dispatcher (`.jit()`), compiled on first use and cached on disk
(`cache=True`): in the package's `__pycache__` when writable, else numba's user-wide cache
directory (numba falls back by itself; NUMBA_CACHE_DIR overrides both). A global that jitted code
calls must be numba's: `.run()` called by module code gives it (or capture `.jit()`). For the
library, a kernel takes arrays and scalars and returns nothing or a scalar, and calls no numba
helper but the allocator and exceptions (any other kernel stays on the JIT). Without numba (or
with EIGHTBIT_DISABLE_NUMBA=1), HAVE_NUMBA is False and the fast kernels keep the reference path.

Threads: one pool of Python threads runs row ranges of a layer (`parallel`): BLAS calls on
their rows (numpy releases the GIL) and the compiled loops (`nogil`). BLAS itself is held at
one thread during an invoke (threadpoolctl, or numpy's OpenBLAS through ctypes), so no two
thread pools spin against each other on a busy machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import importlib.util
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

# numba is imported on first use (its import costs about half a second and 60 MB), only when a
# fast kernel is prepared.
HAVE_NUMBA = importlib.util.find_spec("numba") is not None and \
    os.environ.get("EIGHTBIT_DISABLE_NUMBA", "") in ("", "0")


KERNELS: dict = {}  # "module:function" -> Jitted, every kernel declared with njit


class Jitted:
    """A Python function compiled with numba on first use, or found in the ahead-of-time
    library (aot.py: loaded without importing numba)."""

    def __init__(self, fn):
        self.fn = fn
        self.name = f"{fn.__module__}:{fn.__qualname__}"
        KERNELS[self.name] = self
        self._compiled = None
        self._aot = None

    def run(self):
        """The kernel to call: the library's when it has this kernel (calls with argument
        types it lacks go to the JIT), else the JIT's. Called by an imported module's top-level
        code (a global that jitted code calls: only numba's dispatcher can be called there), the
        JIT's."""
        if self._aot is None:
            from eightbit.kernels.fast import aot

            self._aot = aot.kernel(self) or False
        if self._aot and not _importing_module(sys._getframe(1)):
            return self._aot
        return self.jit()

    def jit(self):
        """numba's dispatcher (compiled, or loaded from numba's cache, on first use)."""
        if self._compiled is None:
            numba = _import_numba()
            try:
                self._compiled = numba.njit(cache=True, nogil=True)(self.fn)
            except RuntimeError:  # no writable cache location at all: compile in every process
                self._compiled = numba.njit(cache=False, nogil=True)(self.fn)
            _record_at_exit()
        return self._compiled


def _importing_module(frame) -> bool:
    """Whether `frame` is a module's top-level code being imported (not a script's)."""
    return frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") != "__main__"


_RECORDING: list = []


def _record_at_exit():
    """Once per process: at exit, the signatures the JIT ran are recorded for the library."""
    if not _RECORDING:
        import atexit

        from eightbit.kernels.fast import aot_build

        _RECORDING.append(True)
        atexit.register(aot_build.record_and_maybe_build)


def _import_numba():
    """numba, with a writable cache directory: numba itself falls back from the package's
    __pycache__ to its user-wide cache; when neither is writable (a read-only install and HOME),
    NUMBA_CACHE_DIR is pointed at a per-user directory under the temp dir before the import."""
    import sys

    if "numba" not in sys.modules and not os.environ.get("NUMBA_CACHE_DIR") and not _writable_cache():
        import tempfile

        path = os.path.join(tempfile.gettempdir(), f"eightbit-numba-{os.getuid() if hasattr(os, 'getuid') else 0}")
        os.makedirs(path, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = path
    import numba

    return numba


def _writable_cache() -> bool:
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    if os.access(here if os.path.isdir(here) else os.path.dirname(here), os.W_OK):
        return True
    user = os.path.join(os.path.expanduser("~"), ".cache")
    return os.access(user if os.path.isdir(user) else os.path.expanduser("~"), os.W_OK)


def njit(fn) -> Jitted:
    return Jitted(fn)


class _State(threading.local):
    """Per calling thread, so that interpreters invoked from different threads keep their own
    counts (the pool's workers never read it: the invoking thread splits the work)."""

    threads = 1  # the running interpreter's thread count (set by `running_with`)


STATE = _State()
MIN_PARALLEL_WORK = 1 << 21  # multiply-adds (or elements) below which one thread is faster
_POOL: list = []
_POOL_LOCK = threading.Lock()


RANGES_PER_THREAD = 4  # several ranges per thread: a thread the OS holds back takes fewer of them


def row_ranges(rows: int, work_per_row: int = 1, min_rows: int = 1, per_thread: int = 1) -> list:
    """[(start, stop)] splitting `rows` over the interpreter's threads, per_thread ranges each
    (one range when the work is too small to be worth handing out, or when a range would have
    fewer than min_rows). Only for work whose results do not depend on the split (integer, or
    sums in a fixed order)."""
    t = STATE.threads
    if t <= 1 or rows < 2 or rows * max(work_per_row, 1) < MIN_PARALLEL_WORK:
        return [(0, rows)]
    parts = min(t * max(per_thread, 1), rows // max(min_rows, 1))
    if parts <= 1:
        return [(0, rows)]
    step = -(-rows // parts)
    return [(s, min(rows, s + step)) for s in range(0, rows, step)]


def work_ranges(rows: int, work_per_row: int = 1) -> list:
    """row_ranges with RANGES_PER_THREAD ranges per thread, for parallel's shared queue."""
    return row_ranges(rows, work_per_row, 1, RANGES_PER_THREAD)


def fixed_ranges(rows: int, size: int) -> list:
    """[(start, stop)] of `size` rows each, whatever the thread count: for BLAS GEMMs, whose last
    bits may depend on how the rows are split, so that 1 and N threads give the same results."""
    return [(s, min(rows, s + size)) for s in range(0, rows, size)] or [(0, 0)]


def blocks(rows: int, row_bytes: int, max_bytes: int = 1 << 20) -> list:
    """[(start, stop)] row blocks whose temporaries (row_bytes per row) stay under max_bytes,
    so a batch-32 layer's int GEMM accumulator is never held whole (and stays in cache)."""
    step = max(1, max_bytes // max(row_bytes, 1))
    return [(s, min(rows, s + step)) for s in range(0, rows, step)] or [(0, 0)]


def parallel(fn, ranges, work: int | None = None) -> None:
    """fn(start, stop) for every range: spread over STATE.threads threads (this one and the
    pool's), each taking the next range not yet taken (a shared iterator: a thread that gets
    less CPU on a busy machine takes fewer); in order on this thread when there is one, or when
    `work` (multiply-adds of the whole call) is below MIN_PARALLEL_WORK (waking the pool costs
    more than it saves; the ranges, and so the results, stay the same)."""
    t = min(STATE.threads, len(ranges))
    if work is not None and work < MIN_PARALLEL_WORK:
        t = 1
    if t <= 1:
        for a, b in ranges:
            fn(a, b)
        return
    with _POOL_LOCK:
        if not _POOL or _POOL[0]._max_workers < t - 1:
            _POOL[:] = [ThreadPoolExecutor(max_workers=t - 1, thread_name_prefix="eightbit")]
        pool = _POOL[0]
    todo = iter(ranges)  # next() on a list iterator is atomic under the GIL

    def share():
        for a, b in todo:
            fn(a, b)

    futures = [pool.submit(share) for _ in range(1, t)]
    share()
    for f in futures:
        f.result()


# ---- threads ----------------------------------------------------------------------------

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


def _bundled_blas():
    """numpy's bundled OpenBLAS's (setter, getter), or False; looked up once."""
    global _BLAS
    if _BLAS is None:
        _BLAS = _openblas() or False
    return _BLAS


@contextlib.contextmanager
def _ctypes_blas_limit(n: int):
    setter, getter = _bundled_blas()
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
    """Limit numpy's BLAS threads while running: numpy's bundled OpenBLAS through ctypes (3 us a
    call), else threadpoolctl (100 us a call: it lists the process's libraries each time, and
    takes 3 ms to import); a no-op for n None or < 1 or with neither."""
    if n is None or n < 1:
        return contextlib.nullcontext()
    if _bundled_blas():
        return _ctypes_blas_limit(n)
    if not _THREADPOOL:
        _THREADPOOL.append(_threadpool_limits())
    if _THREADPOOL[0] is None:
        return contextlib.nullcontext()
    return _THREADPOOL[0](limits=n, user_api="blas")


@contextlib.contextmanager
def running_with(threads: int | None):
    """Thread counts for one invoke: STATE.threads (the fast kernels' row ranges) and BLAS held
    at one thread (the kernels split their GEMMs themselves). None runs on one thread and leaves
    numpy's BLAS threads as they are (the reference kernels' GEMMs use them); -1 every CPU."""
    if threads == -1:
        threads = os.cpu_count() or 1
    n = 1 if threads is None or threads < 1 else int(threads)
    before = STATE.threads
    STATE.threads = n
    try:
        with blas_threads(None if threads is None else 1):
            yield
    finally:
        STATE.threads = before
