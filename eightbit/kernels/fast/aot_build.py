"""Builds the shared library of `aot.py` (imports numba; runs once per machine, not per process).

For each recorded (kernel, signature): a numba cfunc wrapper taking each array as its ndarray
object's address (an intrinsic reads data, shape and strides from the header into a numba array
of the signature's type) and each scalar by value, calling the kernel's numba dispatcher (its
compiled code comes from numba's cache). The wrappers' LLVM modules are linked into one, emitted
as one position-independent object for the host CPU and linked with the system C compiler, with
a small C file of stand-ins for numba's error-path helpers (an error counts in
`eightbit_aot_errors`, and the caller reruns the call on the JIT, which raises) and, when a
kernel allocates, numba's own runtime (nrt.cpp, from the installed numba). A kernel needing any
other numba helper stays on the JIT.

`python -m eightbit.kernels.fast.aot_build [--background]` builds from the recorded signatures.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types as pytypes

from eightbit.kernels.fast import aot
from eightbit.kernels.fast import jit as jit_mod

STUBS = {"numba_gil_ensure", "numba_gil_release", "numba_unpickle", "numba_do_raise",
         "numba_runtime_build_excinfo_struct"}

SHIM = r"""
volatile int eightbit_aot_errors = 0;
extern int PyGILState_Ensure(void);
extern void PyGILState_Release(int);
extern void PyErr_Clear(void);
/* Only reached on a compiled kernel's error path: count it (the caller reruns on the JIT). */
void numba_gil_ensure(int *state) {
    __atomic_add_fetch(&eightbit_aot_errors, 1, __ATOMIC_SEQ_CST);
    *state = PyGILState_Ensure();
}
void numba_gil_release(int *state) { PyGILState_Release(*state); }
void *numba_unpickle(const char *data, int n, const char *hashed) { return 0; }
int numba_do_raise(void *exc) { return 0; }
void *numba_runtime_build_excinfo_struct(void *a, void *b) { return 0; }
void PyErr_WriteUnraisable(void *obj) { PyErr_Clear(); }
#ifdef EIGHTBIT_NRT
extern void NRT_MemSys_init(void);
__attribute__((constructor)) static void eightbit_nrt_init(void) { NRT_MemSys_init(); }
#endif
"""

LOCK_STALE_SECONDS = 900


def compiler() -> str | None:
    """The C compiler: EIGHTBIT_CC, else CC, else cc / gcc / clang on PATH."""
    for name in (os.environ.get("EIGHTBIT_CC"), os.environ.get("CC"), "cc", "gcc", "clang"):
        if name:
            found = shutil.which(name)
            if found or os.environ.get("EIGHTBIT_CC"):
                return found
    return None


def cxx_compiler() -> str | None:
    if os.environ.get("EIGHTBIT_CC"):
        return None  # a forced C compiler: no C++ (kernels that allocate stay on the JIT)
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


# ---- signatures from numba types -------------------------------------------------------------

def item_of(t):
    """aot's signature item for a numba type, or None (not passable)."""
    from numba.core import types
    from numba.np.numpy_support import as_dtype

    try:
        if isinstance(t, types.Array):
            if not t.aligned:
                return None
            return ("A", as_dtype(t.dtype).str, t.ndim, t.layout)
        if isinstance(t, (types.Integer, types.Float, types.Boolean)):
            return ("S", as_dtype(t).str)
    except (NotImplementedError, TypeError):
        return None
    return None


def seen_signatures() -> dict:
    """{kernel name: {signature}} of the kernels this process ran on the JIT."""
    seen = {}
    for name, jitted in jit_mod.KERNELS.items():
        disp = jitted._compiled
        if disp is None:
            continue
        for sig in disp.nopython_signatures:
            items = tuple(item_of(t) for t in sig.args)
            if all(items):
                seen.setdefault(name, set()).add(items)
    return seen


def numba_type(item):
    import numpy as np
    from numba.core import types
    from numba.np.numpy_support import from_dtype

    if item[0] == "A":
        return types.Array(from_dtype(np.dtype(item[1])), item[2], item[3])
    return from_dtype(np.dtype(item[1]))


# ---- dependencies --------------------------------------------------------------------------

def dependencies(fn, seen=None) -> dict:
    """{module: source hash} of fn's module and of every eightbit function, kernel or module its
    code refers to, recursively (a change to any makes the kernel stale)."""
    seen = set() if seen is None else seen
    deps = {}
    if id(fn) in seen:
        return deps
    seen.add(id(fn))
    deps[fn.__module__] = aot.module_hash(fn.__module__)
    if fn.__module__ in sys.modules:  # what its own module pulls in (graph.py's opcodes, helpers)
        deps.update(_module_dependencies(sys.modules[fn.__module__], seen))
    for name in _code_names(fn.__code__):
        g = fn.__globals__.get(name)
        if isinstance(g, jit_mod.Jitted):
            g = g.fn
        g = getattr(g, "py_func", g)  # a numba dispatcher captured as a global (`x.run()`)
        if isinstance(g, pytypes.FunctionType) and g.__module__.startswith(_OURS):
            deps.update(dependencies(g, seen))
        elif isinstance(g, pytypes.ModuleType) and g.__name__.startswith(_OURS):
            deps.update(_module_dependencies(g, seen))
    return deps


def _module_dependencies(module, seen) -> dict:
    """{module: source hash} of `module` and, recursively, of every eightbit module its globals
    name (modules, or functions, kernels and intrinsics defined there): jitted code that calls
    through a module (graph_ops.conv(...)) reaches whatever that module uses."""
    deps = {}
    if id(module) in seen:
        return deps
    seen.add(id(module))
    deps[module.__name__] = aot.module_hash(module.__name__)
    for value in list(vars(module).values()):
        if isinstance(value, jit_mod.Jitted):
            value = value.fn
        value = getattr(value, "py_func", getattr(value, "_defn", value))  # dispatchers, intrinsics
        name = value.__name__ if isinstance(value, pytypes.ModuleType) else getattr(value, "__module__", None)
        if isinstance(name, str) and name.startswith(_OURS) and name in sys.modules:
            deps.update(_module_dependencies(sys.modules[name], seen))
    return deps


_OURS = ("eightbit", "tests")


def _code_names(code):
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, pytypes.CodeType):
            names |= _code_names(c)
    return names


# ---- wrappers ------------------------------------------------------------------------------

_VIEWS: dict = {}


def _view(arytype):
    """An intrinsic: int64 ndarray object address -> a numba array of `arytype` on its data."""
    if arytype in _VIEWS:
        return _VIEWS[arytype]
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic
    from numba.np.arrayobj import make_array, populate_array

    data_off, _, dims_off, strides_off = aot._HEADER_OFFSETS

    @intrinsic
    def view(typingctx, addr):
        def codegen(context, builder, sig, args):
            i64 = ir.IntType(64)
            p64 = i64.as_pointer()

            def load(address):
                return builder.load(builder.inttoptr(address, p64))

            base = args[0]
            data = load(builder.add(base, i64(data_off)))
            dims, strides = load(builder.add(base, i64(dims_off))), load(builder.add(base, i64(strides_off)))
            shape = [load(builder.add(dims, i64(8 * d))) for d in range(arytype.ndim)]
            steps = [load(builder.add(strides, i64(8 * d))) for d in range(arytype.ndim)]
            ary = make_array(arytype)(context, builder)
            itemsize = context.get_abi_sizeof(context.get_data_type(arytype.dtype))
            populate_array(ary, data=builder.inttoptr(data, ary.data.type), shape=shape, strides=steps,
                           itemsize=itemsize, meminfo=None)
            return ary._getvalue()

        return arytype(types.int64), codegen

    _VIEWS[arytype] = view
    return view


def wrapper(dispatcher, sig, index: int):
    """(cfunc, return item or None) for the kernel at `sig`; raises when it cannot be passed."""
    import numba
    import numpy as np
    from numba.core import types

    argtypes = tuple(numba_type(t) for t in sig)
    dispatcher.compile(argtypes)
    ret = dispatcher.overloads[argtypes].signature.return_type
    if ret == types.none:
        ret_item, cret = None, types.void
    elif isinstance(ret, (types.Integer, types.Float)):
        ret_item, cret = item_of(ret)[1], ret
    elif isinstance(ret, types.Boolean):  # as one byte (ctypes c_bool gives back a bool)
        ret_item, cret = "|b1", types.uint8
    else:
        raise TypeError(f"returns {ret}")
    scope, params, values = {"kern": dispatcher}, [], []
    for i, (item, t) in enumerate(zip(sig, argtypes)):
        if item[0] == "A":
            scope[f"view{i}"] = _view(t)
            params.append(types.int64)
            values.append(f"view{i}(a{i})")
        elif item[1] == "|b1":
            params.append(types.uint8)
            values.append(f"a{i} != 0")
        else:
            params.append(t)
            values.append(f"a{i}")
    name = f"eightbit_k{index}"
    call = f"kern({', '.join(values)})"
    if ret_item == "|b1":
        call = f"np.uint8(1) if {call} else np.uint8(0)"
        scope["np"] = np
    src = f"def {name}({', '.join(f'a{i}' for i in range(len(sig)))}):\n    return {call}\n"
    exec(src, scope)  # noqa: S102 - generated from the signature's types only
    cf = numba.cfunc(cret(*params), nopython=True, nogil=True)(scope[name])
    return cf, ret_item


def declarations(module) -> set:
    return {f.name for f in module.functions if f.is_declaration and not f.name.startswith("llvm.")}


def needs_unavailable(decls: set, have_nrt: bool) -> list:
    """The helpers among `decls` the library cannot provide."""
    return sorted(d for d in decls if (d.startswith("numba_") and d not in STUBS)
                  or (d.startswith("NRT_") and not have_nrt))


# ---- the build -----------------------------------------------------------------------------

def _kernel(name: str):
    module, _, _ = name.partition(":")
    try:
        importlib.import_module(module)
    except ImportError:
        return None
    return jit_mod.KERNELS.get(name)


def compile_entries(signatures: dict, have_nrt: bool, log=print):
    """Compiles the wrappers: (llvm modules, manifest kernels, whether any uses NRT)."""
    import llvmlite.binding as ll

    modules, kernels, uses_nrt, index = [], {}, False, 0
    for name in sorted(signatures):
        jitted = _kernel(name)
        if jitted is None:
            continue
        entries = []
        for sig in sorted(signatures[name], key=repr):
            if len(sig) != jitted.fn.__code__.co_argcount:
                continue  # recorded before the kernel's arguments changed: nothing calls it so any more
            index += 1
            try:
                cf, ret = wrapper(jitted.jit(), sig, index)
            except Exception as e:  # noqa: BLE001 - a signature the kernel no longer takes
                log(f"eightbit: build-kernels: {name} {sig}: not compiled ({type(e).__name__}: {str(e)[:200]})")
                continue
            module = ll.parse_bitcode(cf._library._final_module.as_bitcode())
            missing = needs_unavailable(declarations(module), have_nrt)
            if missing:
                log(f"eightbit: build-kernels: {name} stays on the JIT (needs {', '.join(missing)})")
                continue
            uses_nrt |= any(d.startswith("NRT_") for d in declarations(module))
            modules.append(module)
            entries.append([aot.to_json(sig), cf.native_name, ret])
        if entries:
            deps = dependencies(jitted.fn)
            for module in (aot.__name__, __name__ if __name__ != "__main__" else "eightbit.kernels.fast.aot_build"):
                deps[module] = aot.module_hash(module)
            kernels[name] = {"deps": deps, "entries": entries}
    return modules, kernels, uses_nrt


def emit_object(modules, path: str) -> None:
    import llvmlite.binding as ll

    main = modules[0]
    for m in modules[1:]:
        main.link_in(m)
    target = ll.Target.from_triple(main.triple)
    tm = target.create_target_machine(cpu=ll.get_host_cpu_name(), features=ll.get_host_cpu_features().flatten(),
                                      opt=3, reloc="pic", codemodel="default")
    with open(path, "wb") as f:
        f.write(tm.emit_object(main))


def link(cc: str, objects: list, shim_flags: list, work: str, out: str) -> None:
    shim = os.path.join(work, "shim.c")
    with open(shim, "w") as f:
        f.write(SHIM)
    cmd = [cc, "-shared", "-fPIC", "-O2", "-Wl,-Bsymbolic", *shim_flags, "-o", out, shim, *objects, "-lm"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def compile_nrt(cxx: str, work: str) -> str:
    import numba

    src = os.path.join(os.path.dirname(numba.__file__), "core", "runtime", "nrt.cpp")
    obj = os.path.join(work, "nrt.o")
    subprocess.run([cxx, "-c", "-O2", "-fPIC", "-o", obj, src], check=True, capture_output=True, text=True)
    return obj


def build(directory: str | None = None, log=print) -> str | None:
    """Builds the library from the recorded signatures; its path, or None (nothing to build,
    no compiler, or every kernel stayed on the JIT)."""
    directory = directory or aot.cache_dir()
    cc = compiler()
    if cc is None:
        log("eightbit: build-kernels: no C compiler found (set EIGHTBIT_CC); the kernels stay on the JIT")
        return None
    signatures = aot.read_signatures(aot.signatures_path(directory))
    cxx = cxx_compiler()
    modules, kernels, uses_nrt = compile_entries(signatures, cxx is not None, log)
    if not modules:
        log("eightbit: build-kernels: no kernel to build (none recorded yet: name models to run)"
            if not signatures else "eightbit: build-kernels: every kernel stays on the JIT")
        return None
    os.makedirs(directory, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as work:
        objects = [os.path.join(work, "kernels.o")]
        emit_object(modules, objects[0])
        flags = []
        try:
            if uses_nrt:
                objects.append(compile_nrt(cxx, work))
                flags = ["-DEIGHTBIT_NRT"]
            tmp_so = os.path.join(work, "kernels.so")
            dispatch = _dispatch_source(kernels, work)
            link(cc, objects + dispatch[1], flags + dispatch[0], work, tmp_so)
        except (OSError, subprocess.CalledProcessError) as e:
            log(f"eightbit: build-kernels: compiling failed: {getattr(e, 'stderr', '') or e}")
            return None
        with open(tmp_so, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:16]
        manifest = aot.manifest_path(directory)
        so = f"{manifest[:-len('.json')]}-{digest}.so"
        os.replace(tmp_so, so)
    sources = aot.source_stats(sorted({m for k in kernels.values() for m in k["deps"]}))
    _write_json(manifest, {"format": aot.FORMAT, "library": os.path.basename(so), "kernels": kernels,
                           "dispatch": "extension" if dispatch[1] else "ctypes", "sources": sources})
    _remove_older_libraries(manifest, so)
    count = sum(len(k["entries"]) for k in kernels.values())
    log(f"eightbit: build-kernels: {count} kernel signatures of {len(kernels)} kernels in {so}")
    return so


def _dispatch_source(kernels: dict, work: str):
    """(compiler flags, [C file]) of the Python extension calling the kernels (numbering them
    in `kernels`), or ([], []) for the ctypes calls (no headers, or EIGHTBIT_AOT_DISPATCH=ctypes)."""
    from eightbit.kernels.fast import aot_dispatch

    flags = aot_dispatch.headers()
    if flags is None or os.environ.get("EIGHTBIT_AOT_DISPATCH") == "ctypes":
        return [], []
    ordered = []
    for k, entry in enumerate(kernels.values()):
        entry["function"] = k
        ordered.append([(aot.from_json(sig), symbol, ret) for sig, symbol, ret in entry["entries"]])
    path = os.path.join(work, "dispatch.c")
    with open(path, "w") as f:
        f.write(aot_dispatch.module_source(ordered))
    return flags, [path]


def _write_json(path: str, data) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)  # readers see the old manifest (and its library) or the new one


def _remove_older_libraries(manifest: str, keep: str) -> None:
    """The libraries the manifest named before (a process that loaded one keeps its mapping)."""
    prefix = manifest[:-len(".json")] + "-"
    for path in glob.glob(glob.escape(prefix) + "*.so"):
        if path != keep:
            with contextlib.suppress(OSError):
                os.unlink(path)


# ---- recording at exit and building in the background --------------------------------------

def record_and_maybe_build() -> None:
    """At exit of a process that ran kernels on the JIT: record their signatures; when any is
    missing from the library, start a background build. EIGHTBIT_AOT_BUILD=0: neither."""
    try:
        if os.environ.get("EIGHTBIT_AOT_BUILD", "1") in ("0", "off", "no", "false"):
            return  # this process leaves no trace (the test suite)
        seen = seen_signatures()
        if not seen:
            return
        aot.merge_signatures(seen)
        lib = aot.library()
        have = lib.signatures if lib is not None else {}
        if all(sigs <= have.get(name, set()) for name, sigs in seen.items()):
            return
        if compiler() is None:
            return
        env = dict(os.environ, EIGHTBIT_AOT_BUILD="0", EIGHTBIT_AOT="0")
        subprocess.Popen([sys.executable, "-m", "eightbit.kernels.fast.aot_build", "--background"],
                         env=env, start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except Exception:  # noqa: BLE001, S110 - exiting: a failed record only costs a later JIT
        pass


def _lock(directory: str):
    """An exclusive lock file (one build at a time), or None when another build holds it."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "build.lock")
    try:
        if time.time() - os.path.getmtime(path) > LOCK_STALE_SECONDS:
            os.unlink(path)
    except OSError:
        pass
    try:
        return path, os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return None


def locked_build(directory: str | None = None, log=print) -> str | None:
    directory = directory or aot.cache_dir()
    held = _lock(directory)
    if held is None:
        log("eightbit: build-kernels: another build is running")
        return None
    path, fd = held
    try:
        return build(directory, log)
    finally:
        os.close(fd)
        os.unlink(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eightbit.kernels.fast.aot_build")
    parser.add_argument("--background", action="store_true", help="low priority, quiet")
    args = parser.parse_args(argv)
    if args.background:
        if hasattr(os, "nice"):
            os.nice(19)
        directory = aot.cache_dir()
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "build.log"), "w") as f:  # the last background build's
            locked_build(directory, log=lambda msg: print(msg, file=f, flush=True))
    else:
        locked_build()
    return 0


if __name__ == "__main__":
    sys.exit(main())
