"""A per-user cache of prepared kernel parameters, so that a model's allocate_tensors() in a later
process loads what every operator's prepare made (packed weight panels, folded biases,
multipliers, tables) instead of making it again: the idea of XNNPACK's weights cache.

An entry is keyed by everything a prepare reads:
- the model's bytes (a sha256 tree hash, interpreter._digest_of), the subgraph, every tensor's
  shape, the kernel mode and the kernel classes (eightbit's own only);
- the fast path's environment: the variables EIGHTBIT_* and NUMBA_* a prepare may read, whether
  numba is there, aot.fingerprint() (Python, numpy, numba and llvmlite versions, the CPU and its
  flags: what the VNNI self-test's outcome follows from);
- this copy of eightbit (path, size and modification time of each .py file of the layers a
  prepare can use: schema/ to interpreter/), numpy and Python.
Any change means a miss, and the model is prepared as usual.

An entry is written after a prepare that took at least MIN_PREPARE_SECONDS, by a thread (the
first invoke goes on meanwhile), atomically (a temporary file renamed over); a process stores at
most MAX_STORES_PER_PROCESS entries, none over half the cap. It is read through a copy-on-write
mmap: arrays are views of the page cache at 64-byte aligned offsets (pickle protocol 5, buffers
out of band), writable in private. A file that does not load is removed. The directory is
capped at EIGHTBIT_PREPARED_CACHE_MB (default 1024): the least recently used entries go first.

EIGHTBIT_PREPARED_CACHE=0 turns the cache off; EIGHTBIT_PREPARED_CACHE_DIR moves it (default:
`prepared/` beside the kernel library, eightbit.kernels.fast.aot.cache_dir()). Only interpreters
made from a file or bytes use it (not ones given an IR Model, which can change after load).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import pickle
import struct
import sys
import tempfile
import threading
import time

import numpy as np

MAGIC = b"EB8PREP1"
MIN_PREPARE_SECONDS = 0.005  # below this a prepare costs about what a load would
_ALIGN = 64
_HEAD = struct.Struct("<8s32sQQ")  # magic, key, pickle bytes, number of buffers
_SPAN = struct.Struct("<QQ")  # a buffer's offset and length
_UNPICKLABLE: set = set()  # keys whose params could not be pickled in this process


def enabled() -> bool:
    return os.environ.get("EIGHTBIT_PREPARED_CACHE", "1").lower() not in ("0", "off", "no", "false")


def cache_dir() -> str:
    explicit = os.environ.get("EIGHTBIT_PREPARED_CACHE_DIR")
    if explicit:
        return explicit
    from eightbit.kernels.fast import aot

    return os.path.join(os.path.dirname(aot.cache_dir()), "prepared")


def max_bytes() -> int:
    try:
        return int(float(os.environ.get("EIGHTBIT_PREPARED_CACHE_MB", "1024")) * (1 << 20))
    except ValueError:
        return 1 << 30


# ---- the key ----------------------------------------------------------------------------

_SOURCES: list = []


# The layers a kernel's prepare can use (each layer imports only the ones before it).
_LAYERS = ("schema", "tflite", "ir", "ops", "kernels", "interpreter")


def sources_fingerprint() -> str:
    """This copy of eightbit's layers up to the interpreter: every .py file's path, size and
    modification time (once per process, under 1 ms; content hashes would take ~10 ms)."""
    if not _SOURCES:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        found, stack = [], [os.path.join(root, layer) for layer in _LAYERS]
        for name in ("__init__.py", "errors.py"):
            st = os.stat(os.path.join(root, name))
            found.append((name, st.st_size, st.st_mtime_ns))
        while stack:
            with os.scandir(stack.pop()) as entries:
                for e in entries:
                    if e.name.endswith(".py"):
                        st = e.stat()
                        found.append((e.path, st.st_size, st.st_mtime_ns))
                    elif e.name not in ("__pycache__", "data") and e.is_dir():
                        stack.append(e.path)
        found.sort()
        _SOURCES.append(hashlib.sha256(repr(found).encode()).hexdigest())
    return _SOURCES[0]


_MACHINE: list = []
# Variables no prepare reads (where caches live, how the kernel library is built and called, how
# errors print): a process that sets one (build-kernels runs the models with EIGHTBIT_AOT=0)
# shares the entries of the others.
_NO_EFFECT = frozenset({
    "EIGHTBIT_AOT", "EIGHTBIT_AOT_BUILD", "EIGHTBIT_AOT_DISPATCH", "EIGHTBIT_CC", "EIGHTBIT_CACHE_DIR",
    "EIGHTBIT_TRACEBACK", "EIGHTBIT_PREPARED_CACHE", "EIGHTBIT_PREPARED_CACHE_DIR", "EIGHTBIT_PREPARED_CACHE_MB",
    "NUMBA_CACHE_DIR",
})


def environment_fingerprint() -> str:
    """What the fast kernels' prepare depends on besides the model and eightbit's code: the
    variables, and what the compiled kernels' choice rests on (aot.fingerprint: Python, numpy,
    numba and llvmlite versions, the CPU and its flags). The VNNI self-test's outcome follows
    from those: it is not run here (a float model must not compile the int8 kernels)."""
    from eightbit.kernels.fast import HAVE_NUMBA, aot

    if not _MACHINE:
        _MACHINE.append(aot.fingerprint())
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(("EIGHTBIT_", "NUMBA_")) and k not in _NO_EFFECT)
    return repr((env, HAVE_NUMBA, _MACHINE[0], np.__version__, sys.version, sources_fingerprint()))


def kernel_name(kernel) -> str | None:
    """module.qualname of an operator's kernel class when it is eightbit's own, else None."""
    module = getattr(kernel, "__module__", "") or ""
    if kernel is None or not module.startswith("eightbit.") or not isinstance(kernel, type):
        return None
    return f"{module}.{kernel.__qualname__}"


def entry_key(model_digest: str, subgraph: int, shapes, mode: str, kernels: list) -> bytes:
    """The entry of a model's subgraph prepared at these shapes, in this mode, by these kernels
    (eightbit's own: kernel_name), in this environment."""
    text = repr((model_digest, subgraph, tuple(shapes), mode, tuple(kernels), environment_fingerprint()))
    return hashlib.sha256(text.encode()).digest()


def _path(key: bytes) -> str:
    return os.path.join(cache_dir(), key.hex()[:40] + ".prep")


# ---- reading ----------------------------------------------------------------------------

def load(key: bytes, count: int) -> list | None:
    """The params list stored under key (count operators), or None."""
    writer = _WRITERS.get(key)
    if writer is not None:  # this process is writing it
        writer.join()
    path = _path(key)
    try:
        with open(path, "rb") as f:
            mapped = _map(f.fileno())
    except (OSError, ValueError):  # missing, or empty (mmap of 0 bytes)
        return None
    try:
        params = _decode(memoryview(mapped), key)
        if not isinstance(params, list) or len(params) != count:
            raise ValueError("wrong number of operators")
    except Exception:  # noqa: BLE001 - a damaged or foreign file: drop it, prepare again
        _remove(path)
        return None
    _touch(path)
    return params


def _map(fileno: int) -> mmap.mmap:
    """The file, copy-on-write, its pages mapped as the kernels first read them. (MAP_POPULATE on
    a writable private mapping copies every page at once: 9 ms for a 22 MB entry, against ~2 ms
    of faults spread over the first invoke.)"""
    return mmap.mmap(fileno, 0, access=mmap.ACCESS_COPY)


def _decode(view: memoryview, key: bytes):
    magic, stored_key, n_pickle, n_buffers = _HEAD.unpack_from(view, 0)
    if magic != MAGIC or stored_key != key:
        raise ValueError("not an entry for this key")
    pos = _HEAD.size
    spans = [_SPAN.unpack_from(view, pos + i * _SPAN.size) for i in range(n_buffers)]
    pos += n_buffers * _SPAN.size
    if pos + n_pickle > len(view) or any(o + n > len(view) for o, n in spans):
        raise ValueError("truncated")
    return pickle.loads(view[pos:pos + n_pickle], buffers=[view[o:o + n] for o, n in spans])


def _touch(path: str) -> None:
    try:
        os.utime(path)  # least recently used goes first when the cap is reached
    except OSError:
        pass


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# ---- writing ----------------------------------------------------------------------------

MAX_STORES_PER_PROCESS = 32  # a process resizing through many shapes does not fill the disk
_STORES: list = []


def store(key: bytes, params: list) -> bool:
    """Write params under key; False when they cannot be pickled or written, are more than half
    the cap, or this process stored MAX_STORES_PER_PROCESS entries already (no error)."""
    if key in _UNPICKLABLE or len(_STORES) >= MAX_STORES_PER_PROCESS:
        return False
    buffers: list = []
    try:
        body = pickle.dumps(params, protocol=5, buffer_callback=buffers.append)
        raws = [b.raw() for b in buffers]
    except Exception:  # noqa: BLE001 - a kernel's params hold something pickle cannot take
        _UNPICKLABLE.add(key)
        return False
    cap = max_bytes()
    if len(body) + sum(r.nbytes for r in raws) > cap // 2:
        return False
    _STORES.append(key)
    # Written by another thread (file writes let the GIL go): the first invoke goes on meanwhile.
    # Not a daemon: a process that ends waits for it. The arrays are the params' own (never
    # written after prepare); the pickle (memo dicts included) was taken here, before any eval.
    writer = threading.Thread(target=_write_entry, args=(key, body, raws, cap), name="eightbit-prepared")
    _WRITERS[key] = writer
    writer.start()
    return True


_WRITERS: dict = {}  # key -> the thread writing its entry


def wait() -> None:
    """Wait until every entry this process is writing is on disk."""
    for writer in list(_WRITERS.values()):
        writer.join()


def _write_entry(key: bytes, body: bytes, raws: list, cap: int) -> None:
    directory = cache_dir()
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        path = _path(key)
        _write(path, key, body, raws, directory)
        _evict(directory, cap, keep=path)
    except OSError:
        pass  # nowhere to write: the cache stays as it was
    finally:
        _WRITERS.pop(key, None)


def _layout(key: bytes, body: bytes, raws: list) -> tuple[bytes, list]:
    pos = _HEAD.size + len(raws) * _SPAN.size + len(body)
    spans = []
    for r in raws:
        pos = -(-pos // _ALIGN) * _ALIGN
        spans.append((pos, r.nbytes))
        pos += r.nbytes
    head = _HEAD.pack(MAGIC, key, len(body), len(raws)) + b"".join(_SPAN.pack(o, n) for o, n in spans)
    return head, spans


def _write(path: str, key: bytes, body: bytes, raws: list, directory: str) -> None:
    head, spans = _layout(key, body, raws)
    fd, tmp = tempfile.mkstemp(prefix=".prep-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(head)
            f.write(body)
            for (offset, _), raw in zip(spans, raws):
                f.write(b"\0" * (offset - f.tell()))
                f.write(raw)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _evict(directory: str, cap: int, keep: str) -> None:
    """Remove the least recently used entries but `keep` (the one just written) while the
    directory holds more than cap bytes; and temporary files a dead process left."""
    try:
        entries = []
        with os.scandir(directory) as it:
            for e in it:
                st = e.stat()
                if e.name.endswith(".tmp") and time.time() - st.st_mtime > 3600:
                    _remove(e.path)  # left by a process that died while writing
                elif e.name.endswith(".prep"):
                    entries.append((st.st_mtime_ns, st.st_size, e.path))
    except OSError:
        return
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= cap:
            break
        if path != keep:
            _remove(path)
            total -= size


def clear() -> int:
    """Remove every entry; the number removed."""
    wait()
    directory, removed = cache_dir(), 0
    try:
        with os.scandir(directory) as it:
            for e in it:
                if e.name.endswith((".prep", ".tmp")):
                    _remove(e.path)
                    removed += 1
    except OSError:
        pass
    return removed
