"""The fast kernels compiled ahead of time into one shared library, called without numba.

numba's import alone costs about 65 MB and 0.2 s, and loading its cached kernels (and LLVM)
more: a batch-1 model's first invoke paid several times its steady invoke for it. So the
kernels a process has run through the JIT are also compiled, once per machine, into a C-ABI
shared library (`aot_build.py`: a numba cfunc wrapper per kernel and argument-type signature,
linked with the system C compiler), and later processes load it with ctypes and call it
without importing numba (ctypes releases the GIL, so the row-block threads keep working).

Signatures are recorded, not declared: a process that ran a kernel through the JIT writes the
argument types it saw to `signatures.json` in the cache directory at exit, and the library is
(re)built from them: by `eightbit build-kernels [MODEL ...]`, or by itself in a background
process after a process that used the JIT exits (EIGHTBIT_AOT_BUILD=0 turns both the record and
the build off: the test suite's conftest sets it, and EIGHTBIT_AOT=0). Every
`njit(...)` kernel takes part with no declaration.

Stale code is never run: the manifest's file name holds the Python, numba and llvmlite versions,
the CPU (code is compiled for the host CPU) and this copy of eightbit, and the manifest the hash
of every module's source each kernel depends on, checked against the modules this process runs;
a kernel whose sources changed goes to the JIT. A call whose argument
types the library lacks goes to the JIT too (and is recorded for the next build).

EIGHTBIT_AOT=0 forces the JIT (tests); EIGHTBIT_DISABLE_NUMBA=1 still turns every compiled
kernel off; EIGHTBIT_CACHE_DIR moves the cache (default ~/.cache/eightbit, or the temp dir).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import platform
import sys
import tempfile
import threading

import numpy as np

FORMAT = 1  # the wrapper ABI below; a change makes every existing library stale
_HEADER_OFFSETS = (16, 24, 32, 40)  # PyArrayObject: data, nd, dimensions, strides


def enabled() -> bool:
    return os.environ.get("EIGHTBIT_AOT", "1").lower() not in ("0", "off", "no", "false")


def cache_dir() -> str:
    """Per-user directory for the library and the recorded signatures."""
    base = os.environ.get("EIGHTBIT_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "eightbit")
        if not _writable_parent(base):
            uid = os.getuid() if hasattr(os, "getuid") else 0
            base = os.path.join(tempfile.gettempdir(), f"eightbit-{uid}")
    return os.path.join(base, "kernels")


def _writable_parent(path: str) -> bool:
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return os.access(path, os.W_OK)


_CPU: list = []  # _cpu()'s text, read once per process
_VERSIONS: dict = {}  # _version()'s answers, looked up once per process


def _cpu() -> str:
    """The CPU's model name and feature flags (the code is compiled for the host CPU)."""
    if not _CPU:
        _CPU.append(_read_cpu())
    return _CPU[0]


def _read_cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read(1 << 16)
        fields = {}
        for line in text.split("\n\n")[0].splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        return fields.get("model name", "") + "|" + fields.get("flags", "")
    except OSError:
        return platform.machine() + "|" + platform.processor()


def _version(dist: str) -> str:
    """The installed distribution's version from its .dist-info folder name (importlib.metadata
    costs about 15 ms to import), else the package's file times; "none" when absent."""
    if dist not in _VERSIONS:
        _VERSIONS[dist] = _find_version(dist)
    return _VERSIONS[dist]


def _find_version(dist: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec(dist)
    if spec is None or not spec.origin:
        return "none"
    package = os.path.dirname(spec.origin)
    try:
        infos = [n for n in os.listdir(os.path.dirname(package))
                 if n.startswith(dist + "-") and n.endswith((".dist-info", ".egg-info"))]
    except OSError:
        infos = []
    if len(infos) == 1:
        return infos[0]
    return str(os.stat(spec.origin).st_mtime_ns)


def fingerprint() -> str:
    """What a library must have been built for: this ABI, Python, numba, llvmlite, the CPU, and
    this copy of eightbit (each checkout sharing a user's cache keeps its own library)."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parts = [str(FORMAT), sys.version, _version("numpy"), _version("numba"), _version("llvmlite"), _cpu(), here]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def manifest_path(directory: str | None = None) -> str:
    """This machine's manifest: the library's file name (in the same directory) and its kernels.
    Replacing it atomically switches processes to a new library file as a whole."""
    return os.path.join(directory or cache_dir(), f"kernels-{fingerprint()}.json")


_FILE_HASHES: dict = {}
# module -> [path, size, mtime_ns, inode, hash] from the manifest (the build's view of each source):
# a file whose stat still matches is not read and hashed again (~1 ms a process), the check
# Python's own .pyc files rest on.
_HINTS: dict = {}


def _source_path(module: str):
    mod = sys.modules.get(module)
    path = getattr(mod, "__file__", None)
    if path is None:
        import importlib.util

        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        path = spec.origin if spec is not None else None
    return path


def _stat_key(path) -> list | None:
    try:
        st = os.stat(path)
    except (OSError, TypeError):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def source_stats(modules) -> dict:
    """{module: [path, size, mtime_ns, inode, hash]} for the manifest (see _HINTS)."""
    out = {}
    for m in modules:
        path = _source_path(m)
        key = _stat_key(path)
        if key is not None:
            out[m] = [path, *key, module_hash(m)]
    return out


def module_hash(module: str) -> str:
    """sha256 of the source of `module` as this process imports it ("missing" when absent)."""
    h = _FILE_HASHES.get(module)
    if h is None:
        path = _source_path(module)
        hint = _HINTS.get(module)
        if hint is not None and hint[0] == path and hint[1:4] == _stat_key(path):
            _FILE_HASHES[module] = hint[4]
            return hint[4]
        try:
            with open(path, "rb") as f:
                h = hashlib.sha256(f.read()).hexdigest()
        except (OSError, TypeError):
            h = "missing"
        _FILE_HASHES[module] = h
    return h


# ---- argument types ------------------------------------------------------------------------
# A signature is a tuple with one item per argument: ("A", dtype.str, ndim, layout) for an
# array (layout "C", "F" or "A", as numba types it), ("S", dtype.str) for a scalar (Python
# int, float and bool as numba types them: int64, float64, bool).

_SCALARS = {bool: ("S", "|b1"), int: ("S", "<i8"), float: ("S", "<f8")}


def arg_type(a):
    if isinstance(a, np.ndarray):
        f = a.flags
        layout = "C" if f.c_contiguous else "F" if f.f_contiguous else "A"
        return ("A", a.dtype.str, a.ndim, layout)
    t = _SCALARS.get(type(a))
    if t is not None:
        return t
    if isinstance(a, np.generic):
        return ("S", a.dtype.str)
    return None


def signature_of(args) -> tuple:
    return tuple(arg_type(a) for a in args)


def to_json(sig) -> list:
    return [list(t) if t else None for t in sig]


def from_json(items) -> tuple:
    return tuple(tuple(t) if t else None for t in items)


# ---- the library ---------------------------------------------------------------------------

_CTYPES = {"|b1": ctypes.c_uint8, "|i1": ctypes.c_int8, "|u1": ctypes.c_uint8, "<i2": ctypes.c_int16,
           "<u2": ctypes.c_uint16, "<i4": ctypes.c_int32, "<u4": ctypes.c_uint32, "<i8": ctypes.c_int64,
           "<u8": ctypes.c_uint64, "<f4": ctypes.c_float, "<f8": ctypes.c_double}


class Library:
    """The loaded shared library: kernel name -> {signature: ctypes function}, or, when it was
    built as a Python extension (aot_dispatch.py), kernel name -> (its function, its number)."""

    def __init__(self, so_path: str, manifest: dict):
        self.extension = None
        if manifest.get("dispatch") == "extension":
            self.extension = _load_extension(so_path)
        self.cdll = ctypes.CDLL(so_path)
        self.errors = ctypes.c_int.in_dll(self.cdll, "eightbit_aot_errors")
        self.kernels = {}
        self.signatures = {}  # kernel name -> {signature} of the kernels not stale
        _HINTS.update(manifest.get("sources") or {})
        for name, entry in manifest["kernels"].items():
            if any(module_hash(m) != h for m, h in entry["deps"].items()):
                continue  # its source changed since the build: the JIT runs it
            self.signatures[name] = {from_json(e[0]) for e in entry["entries"]}
            if self.extension is not None:
                self.kernels[name] = (getattr(self.extension, f"k{entry['function']}"), entry["function"])
                continue
            table = {}
            for sig_items, symbol, ret in entry["entries"]:
                sig = from_json(sig_items)
                fn = getattr(self.cdll, symbol)
                fn.argtypes = [ctypes.c_void_p if t[0] == "A" else _CTYPES[t[1]] for t in sig]
                fn.restype = (ctypes.c_bool if ret == "|b1" else _CTYPES[ret]) if ret else None
                table[sig] = fn
            self.kernels[name] = table

    def kernel(self, jitted):
        """The callable for `jitted`, or None when the library lacks it."""
        found = self.kernels.get(jitted.name)
        if not found:
            return None
        if self.extension is None:
            return AotKernel(jitted, found, self.errors)
        fn, number = found
        self.extension.set_fallback(number, _Fallback(jitted))
        return fn


class _Fallback:
    """What the extension calls for arguments of no signature it holds (or after an error)."""

    def __init__(self, jitted):
        self.jitted = jitted

    def __call__(self, *args):
        return self.jitted.jit()(*args)


def _load_extension(path: str):
    from importlib.machinery import ExtensionFileLoader
    from importlib.util import module_from_spec, spec_from_file_location

    from eightbit.kernels.fast.aot_dispatch import MODULE

    loader = ExtensionFileLoader(MODULE, path)
    module = module_from_spec(spec_from_file_location(MODULE, path, loader=loader))
    loader.exec_module(module)
    return module


# numpy's array flags (ndarray.flags.num) a signature's layout checks
_C, _F, _ALIGNED = 0x1, 0x2, 0x100
_LAYOUT_FLAGS = {"C": (_C | _ALIGNED, _C | _ALIGNED), "F": (_C | _F | _ALIGNED, _F | _ALIGNED),
                 "A": (_C | _F | _ALIGNED, _ALIGNED)}
_SCALAR_TYPES: dict = {}
for _t in (np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
           np.longlong, np.ulonglong, np.float32, np.float64):
    _SCALAR_TYPES.setdefault(np.dtype(_t).str, set()).add(_t)
for _t, (_, _str) in _SCALARS.items():
    _SCALAR_TYPES[_str].add(_t)


def _guard(name: str, item, scope: dict) -> str:
    """A Python expression true when argument `name` has exactly the signature item's type
    (cheap checks only: dtype by identity; a false negative only costs the exact lookup)."""
    if item[0] == "A":
        mask, value = _LAYOUT_FLAGS[item[3]]
        scope.setdefault(f"dt_{item[1][1:]}", np.dtype(item[1]))
        return (f"type({name}) is ndarray and {name}.dtype is dt_{item[1][1:]} and {name}.ndim == {item[2]}"
                f" and {name}.flags.num & {mask} == {value}")
    types_name = f"st_{item[1][1:]}"
    scope[types_name] = frozenset(_SCALAR_TYPES[item[1]])
    return f"type({name}) in {types_name}"


def _caller(fn, sig, fallback, rerun, errors):
    """Two Python functions, (guarded, direct). The guarded one: when its arguments have the types of `sig`, it calls `fn` with each
    array passed as its object's address (the wrapper reads data, shape and strides from the
    ndarray header; the caller's references keep the arrays alive during the call), and a call
    during which the compiled kernel reported an error runs again through `rerun` (numba's,
    which raises it); any other arguments go to `fallback`. The direct one, for arguments whose
    exact signature is `sig`, skips the guard."""
    names = [f"a{i}" for i in range(len(sig))]
    scope = {"fn": fn, "fallback": fallback, "rerun": rerun, "errors": errors, "ndarray": np.ndarray}
    guards = " and ".join(_guard(n, t, scope) for n, t in zip(names, sig)) or "True"
    passed = [f"id({n})" if t[0] == "A" else (f"(1 if {n} else 0)" if t[1] == "|b1" else n)
              for n, t in zip(names, sig)]
    args = ", ".join(names)
    src = (f"def direct({args}):\n"
           f"    e = errors.value\n"
           f"    r = fn({', '.join(passed)})\n"
           f"    return r if errors.value == e else rerun({args})\n"
           f"def call({args}):\n"
           f"    if {guards}:\n"
           f"        e = errors.value\n"
           f"        r = fn({', '.join(passed)})\n"
           f"        return r if errors.value == e else rerun({args})\n"
           f"    return fallback({args})\n")
    exec(src, scope)  # noqa: S102 - generated from the signature's types only
    return scope["call"], scope["direct"]


def _header_ok() -> bool:
    """numpy's PyArrayObject header is where the wrappers read it (checked once)."""
    a = np.zeros((2, 3), np.int16)[:, 1:]
    base = id(a)
    data, nd, dims, strides = (ctypes.c_void_p.from_address(base + o).value for o in _HEADER_OFFSETS)
    nd = ctypes.c_int.from_address(base + _HEADER_OFFSETS[1]).value
    return (data == a.ctypes.data and nd == 2
            and tuple((ctypes.c_int64 * 2).from_address(dims)) == a.shape
            and tuple((ctypes.c_int64 * 2).from_address(strides)) == a.strides)


_LOADED: list = []  # [Library or None], loaded once per process


_LOAD_LOCK = threading.Lock()


def library() -> Library | None:
    if not _LOADED:
        with _LOAD_LOCK:
            if not _LOADED:
                _LOADED.append(_load())
    return _LOADED[0]


def reset() -> None:
    """Forget the loaded library and every kernel's choice (after the environment changed:
    EIGHTBIT_AOT, EIGHTBIT_CACHE_DIR, or a new build); the next `.run()` looks again."""
    from eightbit.kernels.fast import jit

    _LOADED.clear()
    for k in jit.KERNELS.values():
        k._aot = None


def _load() -> Library | None:
    if not enabled() or ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    man = manifest_path()
    try:
        with open(man) as f:
            manifest = json.load(f)
        if manifest.get("format") != FORMAT or not _header_ok():
            return None
        return Library(os.path.join(os.path.dirname(man), os.path.basename(manifest["library"])), manifest)
    except (OSError, ValueError, KeyError, AttributeError):
        return None


class AotKernel:
    """What `Jitted.run()` gives when the library has the kernel: a chain of generated callers,
    one per signature the library holds (the last one matched tried first); arguments of no
    signature in the library go to the exact lookup, then to the JIT (and are recorded for the
    next build)."""

    def __init__(self, jitted, table: dict, errors):
        self.jitted = jitted
        self.errors = errors
        self.table = {sig: _caller(fn, sig, self._slow, self._rerun, errors) for sig, fn in table.items()}
        self.head = next(iter(self.table.values()))[0]

    def _rerun(self, *args):
        return self.jitted.jit()(*args)

    def _slow(self, *args):
        found = self.table.get(signature_of(args))
        if found is None:
            return self.jitted.jit()(*args)
        self.head = found[0]  # this signature's guard first from now on
        return found[1](*args)

    def __call__(self, *args):
        return self.head(*args)


def kernel(jitted):
    """The library's kernel for `jitted` (a callable), or None."""
    lib = library()
    return lib.kernel(jitted) if lib is not None else None


def lookup(name: str):
    """The library's kernel `name` ("module:function"), or None, without importing its module:
    for a module that imports numba when imported (numba intrinsics), whose caller can skip the
    import while the library holds the kernels it calls. Calls the library cannot take import
    the module and go to the JIT."""
    lib = library()
    return lib.kernel(_Deferred(name)) if lib is not None else None


class _Deferred:
    """Stands for a kernel whose module is imported only when the JIT is needed."""

    def __init__(self, name: str):
        self.name = name

    def jit(self):
        import importlib

        from eightbit.kernels.fast import jit

        importlib.import_module(self.name.partition(":")[0])
        return jit.KERNELS[self.name].jit()


# ---- recording signatures ------------------------------------------------------------------

def signatures_path(directory: str | None = None) -> str:
    return os.path.join(directory or cache_dir(), "signatures.json")


def read_signatures(path: str) -> dict:
    try:
        with open(path) as f:
            data = json.load(f)
        return {name: {from_json(s) for s in sigs} for name, sigs in data.items()}
    except (OSError, ValueError, TypeError):
        return {}


def merge_signatures(seen: dict, directory: str | None = None) -> bool:
    """Adds `seen` ({kernel name: {signature}}) to the recorded signatures (atomically);
    True when any was new."""
    path = signatures_path(directory)
    known = read_signatures(path)
    new = False
    for name, sigs in seen.items():
        have = known.setdefault(name, set())
        if not sigs <= have:
            have |= sigs
            new = True
    if new:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = {name: sorted(to_json(s) for s in sigs) for name, sigs in sorted(known.items())}
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=0)
        os.replace(tmp, path)
    return new
