"""The ahead-of-time kernel library (eightbit/kernels/fast/aot.py, aot_build.py): built in a temp
cache dir from a workload run on the JIT in a subprocess, then every tensor of conformance cases
through it equal bit for bit to numba's JIT and to the reference kernels, with no call left to the
JIT; a process using it never imports numba; errors, allocations, returns, strided arrays,
threads, stale sources and a missing compiler."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import eightbit
from eightbit.interpreter.fastpath import floats_stay_float
from eightbit.kernels.fast import aot, jit
from eightbit.kernels.fast.jit import HAVE_NUMBA
from tests.corpus import case, case_data, case_names, model_bytes
from tests.fuzz.fast_vs_reference import same
from tests.kernels import aot_test_kernels as tk

pytestmark = pytest.mark.skipif(not HAVE_NUMBA or shutil.which("cc") is None and shutil.which("gcc") is None,
                                reason="the library needs numba and a C compiler")

ROOT = Path(__file__).resolve().parents[2]
CASES = ["cnn__int8", "dwsep__int8", "dwsep__float32", "opmix_act__uint8io", "opmix_hswish__int8",
         "opmix_shape__int16x8", "mlp__int8_floatio"]

# Runs in a fresh process on the JIT: the cases and the test kernels, then records what they
# called and builds the library (exactly these signatures, whatever this pytest process ran).
BUILD = """
import sys, json
import numpy as np
from eightbit.kernels.fast import aot, aot_build
from tests.kernels.test_aot_library import run_case
from tests.kernels import aot_test_kernels, aot_capture_kernels
x = np.arange(5, dtype=np.int16)
aot_capture_kernels.add_two.run()(x, np.zeros_like(x), np.zeros_like(x))
for name in json.loads(sys.argv[1]):
    run_case(name, "fast")
aot_test_kernels.exercise()
aot.merge_signatures(aot_build.seen_signatures())
print(aot_build.build())
"""


def _env(directory, **extra) -> dict:
    env = dict(os.environ, EIGHTBIT_CACHE_DIR=str(directory), **{"EIGHTBIT_AOT_BUILD": "0", **extra})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _build(directory, cases, **extra):
    r = subprocess.run([sys.executable, "-c", BUILD, json.dumps(cases)], capture_output=True, text=True,
                       cwd=ROOT, env=_env(directory, EIGHTBIT_AOT="0", **extra), timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    directory = tmp_path_factory.mktemp("aot")
    r = _build(directory, CASES)
    so = r.stdout.strip().splitlines()[-1]
    assert os.path.exists(so), r.stdout + r.stderr
    return directory


@pytest.fixture(scope="module")
def built_ctypes(tmp_path_factory):
    """A library called through ctypes (as where Python's or numpy's headers are missing)."""
    directory = tmp_path_factory.mktemp("aot_ctypes")
    _build(directory, CASES[:1], EIGHTBIT_AOT_DISPATCH="ctypes")
    return directory


@contextmanager
def mode(directory, use_library: bool, jit_allowed: bool = True):
    """The library of `directory` (or numba's JIT) for the kernels run inside; with
    jit_allowed False any call that reaches the JIT fails the test."""
    mp = pytest.MonkeyPatch()
    mp.setenv("EIGHTBIT_CACHE_DIR", str(directory))
    mp.setenv("EIGHTBIT_AOT", "1" if use_library else "0")
    calls = []
    if not jit_allowed:
        original = jit.Jitted.jit

        def counted(self):
            calls.append(self.name)
            return original(self)

        mp.setattr(jit.Jitted, "jit", counted)
    aot.reset()
    try:
        yield calls
    finally:
        mp.undo()
        aot.reset()


def run_case(name, kernels, threads=1):
    c = case(name)
    data = case_data(c)
    it = eightbit.Interpreter(model_content=model_bytes(c), experimental_preserve_all_tensors=True,
                              kernels=kernels, num_threads=threads)
    it.allocate_tensors()
    for spec, det in zip(c["inputs"], it.get_input_details()):
        it.set_tensor(det["index"], data[spec["key"]][0])
    it.invoke()
    return {d["index"]: np.array(it.get_tensor(d["index"])) for d in it.get_tensor_details()}


def _identical(a: dict, b: dict) -> list:
    return [i for i in a if a[i].dtype != b[i].dtype or a[i].tobytes() != b[i].tobytes()]


def _check_case(built, name, threads=1, must_use=True):
    with mode(built, True, jit_allowed=False) as jitted:
        lib = run_case(name, "fast", threads)
        used = [k.name for k in jit.KERNELS.values() if k._aot]
    assert used or not must_use, f"{name}: no kernel of the library ran"
    assert not jitted, f"{name}: calls left to the JIT: {sorted(set(jitted))}"
    with mode(built, False):
        jitted_out = run_case(name, "fast", threads)
    ref = run_case(name, "reference")
    assert not _identical(lib, jitted_out), f"{name}: the library differs from numba's JIT"
    blas = floats_stay_float(eightbit.load(model_bytes(case(name))))
    bad = [i for i in ref if not same(b"", lib[i], ref[i], blas)]
    assert not bad, f"{name}: tensors {bad} differ from the reference kernels"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", CASES)
def test_library_equals_jit_and_reference(built, name):
    _check_case(built, name)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", CASES[:1])
def test_library_through_ctypes_equals_jit_and_reference(built_ctypes, name):
    with mode(built_ctypes, True):
        assert aot.library().extension is None
    _check_case(built_ctypes, name)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_library_on_two_threads(built, monkeypatch):
    monkeypatch.setattr(jit, "MIN_PARALLEL_WORK", 1)  # split even these small layers
    for name in ("cnn__int8", "dwsep__float32"):
        _check_case(built, name, threads=2)


def test_concurrent_calls_from_threads(built):
    rng = np.random.default_rng(0)
    args = [rng.integers(-1000, 1000, 200_000).astype(np.int32) for _ in range(6)]
    with mode(built, False):
        expected = [a // 3 for a in args]
    with mode(built, True, jit_allowed=False) as jitted:
        fn = tk.divide.run()

        def one(a):
            out = np.zeros_like(a)
            fn(a, np.int32(3), out)
            return out

        with ThreadPoolExecutor(2) as pool:
            got = list(pool.map(one, args))
    assert not jitted
    assert all(np.array_equal(g, e) for g, e in zip(got, expected))


@pytest.mark.parametrize("library", ["built", "built_ctypes"])
def test_generic_kernels_equal_jit(library, request):
    built = request.getfixturevalue(library)
    with mode(built, False):
        expected = tk.exercise()
    with mode(built, True, jit_allowed=False) as jitted:
        assert tk.divide.run() is tk.divide._aot and tk.divide._aot  # the library's
        got = tk.exercise()
    assert not jitted
    out, c1, c2, total, flags = got
    assert np.array_equal(out, expected[0]) and np.array_equal(c1, expected[1]) and np.array_equal(c2, expected[2])
    assert total == expected[3] and isinstance(total, float)  # allocates a temporary, returns a float
    assert flags == expected[4] == [False, True] and all(type(f) is bool for f in flags)


def test_a_kernel_calling_a_captured_kernel(built):
    from tests.kernels import aot_capture_kernels as ck

    assert type(ck.ADD_ONE).__name__ == "CPUDispatcher"  # captured by module code: numba's
    x = np.arange(-3, 30, dtype=np.int16)
    tmp, out = np.zeros_like(x), np.zeros_like(x)
    with mode(built, True, jit_allowed=False) as jitted:
        fn = ck.add_two.run()
        assert fn is ck.add_two._aot and fn  # the library's
        fn(x, tmp, out)
    assert not jitted
    assert np.array_equal(out, x + 2)


@pytest.mark.parametrize("library", ["built", "built_ctypes"])
def test_an_error_is_raised_as_numba_raises_it(library, request):
    built = request.getfixturevalue(library)
    a = np.arange(5, dtype=np.int32)
    with mode(built, True, jit_allowed=False) as jitted:
        with pytest.raises(ZeroDivisionError):
            tk.divide.run()(a, np.int32(0), np.zeros_like(a))
    assert jitted == ["tests.kernels.aot_test_kernels:_divide"]  # rerun on the JIT, which raised


@pytest.mark.parametrize("library", ["built", "built_ctypes"])
def test_argument_types_the_library_lacks_go_to_the_jit(library, request):
    built = request.getfixturevalue(library)
    a = np.arange(-9, 9, dtype=np.int64)  # built for int32
    out = np.zeros_like(a)
    with mode(built, True, jit_allowed=False) as jitted:
        tk.divide.run()(a, 4, out)
        tk.divide.run()(a.astype(np.int32), np.int64(4), out.astype(np.int32))  # a scalar's type differs
    assert np.array_equal(out, a // 4)
    assert jitted == ["tests.kernels.aot_test_kernels:_divide"] * 2


def test_a_process_using_the_library_never_imports_numba(built):
    code = ("import sys, hashlib\n"
            "from tests.kernels.test_aot_library import run_case\n"
            "for name in sys.argv[1:]:\n"
            "    out = run_case(name, 'fast')\n"
            "    print(hashlib.sha256(b''.join(out[i].tobytes() for i in sorted(out))).hexdigest())\n"
            "print('numba' in sys.modules)\n")
    names = ["dwsep__int8", "dwsep__float32"]
    r = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, cwd=ROOT,
                       env=_env(built, EIGHTBIT_AOT="1"), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    *digests, imported = r.stdout.split()
    assert imported == "False"
    import hashlib

    with mode(built, False):
        for name, digest in zip(names, digests):
            out = run_case(name, "fast")
            assert hashlib.sha256(b"".join(out[i].tobytes() for i in sorted(out))).hexdigest() == digest


def test_no_unresolved_numba_helpers(built):
    manifest = aot.manifest_path(str(Path(built) / "kernels"))
    so = str(Path(manifest).parent / json.loads(Path(manifest).read_text())["library"])
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm")
    undefined = subprocess.run([nm, "-u", so], capture_output=True, text=True, check=True).stdout.split()
    assert not [s for s in undefined if s.startswith(("NRT_", "numba_"))]


def _copy(built, tmp_path):
    shutil.copytree(built, tmp_path / "c")
    return tmp_path / "c"


def test_a_kernel_whose_source_changed_is_not_used(built, tmp_path):
    copy = _copy(built, tmp_path)
    manifest = aot.manifest_path(str(copy / "kernels"))
    data = json.loads(Path(manifest).read_text())
    name = "tests.kernels.aot_test_kernels:_divide"
    deps = data["kernels"][name]["deps"]
    deps["tests.kernels.aot_test_kernels"] = "0" * 64  # as after an edit of its source
    Path(manifest).write_text(json.dumps(data))
    with mode(copy, True) as _:
        lib = aot.library()
        assert lib is not None and name not in lib.kernels and "tests.kernels.aot_test_kernels:_copy2d" in lib.kernels
        assert tk.divide.run() is tk.divide._compiled


def test_a_library_built_for_another_cpu_is_not_used(built, monkeypatch):
    monkeypatch.setattr(aot, "_cpu", lambda: "another CPU|sse2")
    with mode(built, True):
        assert aot.library() is None
        assert tk.divide.run() is tk.divide._compiled


def test_without_a_compiler_nothing_is_built_and_the_jit_runs(tmp_path):
    r = _build(tmp_path, ["dwsep__int8"], EIGHTBIT_CC=str(tmp_path / "no-such-cc"))
    assert r.stdout.strip().splitlines()[-1] == "None" and "no C compiler" in r.stdout
    assert not list((tmp_path / "kernels").glob("*.so"))
    with mode(tmp_path, True):
        assert aot.library() is None
        assert not _identical(run_case("dwsep__int8", "fast"), run_case("dwsep__int8", "reference"))


def test_disabling_numba_turns_the_library_off_too(built):
    code = "from eightbit.kernels.fast import jit; print(jit.HAVE_NUMBA)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env=_env(built, EIGHTBIT_AOT="1", EIGHTBIT_DISABLE_NUMBA="1"), timeout=120)
    assert r.stdout.strip() == "False"  # the fast kernels keep the reference path: nothing compiled runs


def test_cli_lists_the_library(built):
    r = subprocess.run([sys.executable, "-m", "eightbit.cli", "build-kernels", "--info"], capture_output=True,
                       text=True, cwd=ROOT, env=_env(built, EIGHTBIT_AOT="1"), timeout=120)
    assert r.returncode == 0, r.stderr
    assert "eightbit.kernels.fast.requant:_requant_rows: 1 signature(s)" in r.stdout


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_whole_corpus_through_the_library(tmp_path):
    _build(tmp_path, case_names())
    for name in case_names():
        _check_case(tmp_path, name, must_use=False)  # some cases call no compiled kernel (BLAS only)


def test_a_process_that_ran_the_jit_builds_the_library_in_the_background(tmp_path):
    """The user's path: the first process runs the JIT, records what it called at exit and starts
    a build; a later process then runs the library, without numba."""
    code = ("import sys\nfrom tests.kernels.test_aot_library import run_case\nrun_case('dwsep__int8', 'fast')\n"
            "print('numba' in sys.modules)\n")
    env = _env(tmp_path, EIGHTBIT_AOT="1", EIGHTBIT_AOT_BUILD="1")
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert first.returncode == 0 and first.stdout.split() == ["True"], first.stderr[-2000:]
    assert (tmp_path / "kernels" / "signatures.json").exists()
    manifest = Path(aot.manifest_path(str(tmp_path / "kernels")))
    deadline = time.monotonic() + 240
    while not manifest.exists() or (tmp_path / "kernels" / "build.lock").exists():
        assert time.monotonic() < deadline, "no library built in the background"
        time.sleep(0.5)
    later = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert later.returncode == 0 and later.stdout.split() == ["False"], later.stderr[-2000:]
    assert len(list((tmp_path / "kernels").glob("*.so"))) == 1
    assert "kernel signatures of" in (tmp_path / "kernels" / "build.log").read_text()


def test_a_build_starts_only_for_signatures_the_library_lacks(built, monkeypatch):
    from eightbit.kernels.fast import aot_build

    started = []
    monkeypatch.setattr(aot_build.subprocess, "Popen", lambda *a, **k: started.append(a))
    monkeypatch.setattr(aot, "merge_signatures", lambda seen, directory=None: True)
    monkeypatch.setenv("EIGHTBIT_AOT_BUILD", "1")
    with mode(built, True):
        held = {name: set(sigs) for name, sigs in aot.library().signatures.items()}
        monkeypatch.setattr(aot_build, "seen_signatures", lambda: held)
        aot_build.record_and_maybe_build()
        assert not started
        name = "tests.kernels.aot_test_kernels:_divide"
        more = {name: held[name] | {(("A", "<i8", 1, "C"), ("S", "<i8"), ("A", "<i8", 1, "C"))}}
        monkeypatch.setattr(aot_build, "seen_signatures", lambda: more)
        aot_build.record_and_maybe_build()
        assert len(started) == 1


def test_lookup_calls_a_kernel_without_importing_its_module(built):
    code = ("import sys\nimport numpy as np\nfrom eightbit.kernels.fast import aot\n"
            "fn = aot.lookup('tests.kernels.aot_capture_kernels:_add_two')\n"
            "x = np.arange(4, dtype=np.int16); out = np.zeros_like(x)\n"
            "fn(x, np.zeros_like(x), out)\n"
            "print(out.tolist(), aot.lookup('no.such:kernel'), 'tests.kernels.aot_capture_kernels' in sys.modules,"
            " 'numba' in sys.modules)\n"
            "fn(x.astype(np.int64), np.zeros(4, np.int64), out.astype(np.int64))  # not in the library: the JIT\n"
            "print('tests.kernels.aot_capture_kernels' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env=_env(built, EIGHTBIT_AOT="1"), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.splitlines() == ["[2, 3, 4, 5] None False False", "True"]


def test_sources_whose_stat_matches_the_manifest_are_not_hashed_again(built, monkeypatch):
    data = json.loads(Path(aot.manifest_path(str(built / "kernels"))).read_text())
    deps = {m for k in data["kernels"].values() for m in k["deps"]}
    assert deps and set(data["sources"]) == deps  # every dependency's stat and hash recorded
    module = "tests.kernels.aot_test_kernels"
    path, size, mtime, inode, digest = data["sources"][module]
    monkeypatch.setattr(aot, "_FILE_HASHES", {})
    monkeypatch.setattr(aot, "_HINTS", {module: [path, size, mtime, inode, "recorded"]})
    assert aot.module_hash(module) == "recorded"  # the stat matches: the recorded hash, file not read
    monkeypatch.setattr(aot, "_FILE_HASHES", {})
    monkeypatch.setattr(aot, "_HINTS", {module: [path, size + 1, mtime, inode, "recorded"]})
    assert aot.module_hash(module) == digest  # an edited file (another size): hashed again
