"""Malformed models fail cleanly.

Contract (also in eightbit/interpreter/runner.py):
  * eightbit.load(bytes) raises ModelError (a ValueError) naming table, index or byte offset for
    anything malformed: truncated or garbage bytes, offsets or indices out of range, a buffer
    smaller than its tensor, an operator reading a tensor nothing produces, a cycle. Never
    IndexError, struct.error, RecursionError or MemoryError; never a hang.
  * A file that loads may still be nonsense (a flipped weight byte is a valid model). Then
    Interpreter() raises ModelError (UnsupportedOpError listing every operator it cannot run),
    allocate_tensors() ModelError or ValueError, invoke() ValueError or RuntimeError naming the
    operator: always one of those, always with a message.
The mutation test checks this on a few hundred deterministic mutations of real files: random
byte flips, integer fields overwritten with edge values, truncations at structural offsets.
"""

from __future__ import annotations

import contextlib
import random
import resource
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

import eightbit
from eightbit.errors import ModelError, UnsupportedOpError
from eightbit.ir.builder import ModelBuilder
from eightbit.schema import codec, decode, encode
from tests.corpus import case, model_bytes

MEDIAPIPE = Path(__file__).resolve().parent.parent / "data" / "mediapipe"
TIME_LIMIT = 10.0  # seconds per mutated file, load to invoke (they take milliseconds)
MAX_INPUT_ELEMENTS = 1 << 20  # larger declared inputs are loaded and allocated, not fed
ALLOWED = {"load": (ModelError,), "interpreter": (ModelError,), "allocate": (ModelError, ValueError),
           "invoke": (ValueError, RuntimeError)}


# ---- where the structure is: every scalar the decoder reads, with its type and field path ----
class _RecordingReader(codec._Reader):
    def __init__(self, buf):
        super().__init__(buf)
        self.seen = {}

    def scalar(self, typ, pos, where):
        self.seen.setdefault(pos, (typ, where))
        return super().scalar(typ, pos, where)


def structure(data: bytes) -> dict:
    """byte offset -> (scalar type, field path) for every scalar, offset and length in the file."""
    r = _RecordingReader(data)
    r.table("Model", r.deref(0, "root"), "Model")
    return r.seen


_EDGE = {
    "int8": [0, 1, -1, 127, -128], "uint8": [0, 1, 255, 2, 17], "int16": [0, -1, 32767, -32768],
    "uint16": [0, 2, 4, 0xFFFF, 0x8000], "bool": [0, 1, 2],
    "int32": [0, 1, -1, -2, 0x7FFFFFFF, -0x80000000, 1 << 20, 255, 3],
    "uint32": [0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 4, 1 << 20, 12],
    "int64": [0, -1, 1 << 40, -(1 << 62)], "uint64": [0, 1, 1 << 33, (1 << 64) - 1],
    "float32": [0.0, -1.0, float("nan"), float("inf"), 1e-45, 3e38],
    "float64": [0.0, float("nan")],
}


def mutations(data: bytes, seed: int, flips: int, overwrites: int, truncations: int):
    """(description, mutated bytes), deterministic for a seed."""
    rng = random.Random(seed)
    seen = structure(data)
    positions = sorted(seen)
    for _ in range(flips):
        b = bytearray(data)
        where = []
        for _ in range(rng.choice([1, 1, 2, 4])):
            p = rng.randrange(len(b))
            b[p] ^= rng.randrange(1, 256)
            where.append(p)
        yield f"flip bytes {where}", bytes(b)
    for pos in rng.sample(positions, min(overwrites, len(positions))):
        typ, field = seen[pos]
        fmt = codec.SCALAR_FMT[typ]
        old = struct.unpack_from(fmt, data, pos)[0]
        value = rng.choice(_EDGE[typ] + ([old + 1, old - 1, old * 3 + 7] if typ not in ("bool",) and isinstance(old, int) else []))
        b = bytearray(data)
        try:
            struct.pack_into(fmt, b, pos, value)
        except struct.error:
            struct.pack_into(fmt, b, pos, _EDGE[typ][0])
            value = _EDGE[typ][0]
        yield f"{field} at byte {pos} ({typ}) {old!r} -> {value!r}", bytes(b)
    cuts = sorted({0, 1, 4, 7, 8, len(data) - 1} | set(rng.sample(positions, min(truncations, len(positions)))))
    for pos in cuts:
        yield f"truncated to {pos} bytes", data[:pos]


@contextlib.contextmanager
def address_space_limit(extra_bytes: int):
    """Cap this process's address space a little above what it uses, so that an allocation sized
    by a garbage field fails at once (MemoryError) instead of eating the machine's memory."""
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (vm + extra_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def exercise(data: bytes, rng: np.random.Generator) -> str:
    """Load, build, allocate and invoke; returns the stage reached. Raises AssertionError when an
    exception outside the contract escapes."""
    stage = "load"
    try:
        m = eightbit.load(data)
        stage = "interpreter"
        it = eightbit.Interpreter(model_content=m)
        stage = "allocate"
        it.allocate_tensors()
        details = it.get_input_details()
        if sum(int(np.prod(d["shape"])) for d in details) > MAX_INPUT_ELEMENTS:
            return "allocated (inputs too large to feed)"
        stage = "invoke"
        for d in details:
            dt = np.dtype(d["dtype"])
            if dt.kind == "f":
                x = rng.uniform(-1, 1, d["shape"]).astype(dt)
            elif dt == np.bool_:
                x = rng.integers(0, 2, d["shape"]).astype(bool)
            else:
                info = np.iinfo(dt)
                x = rng.integers(max(info.min, -1000), min(info.max, 1000), d["shape"], endpoint=True).astype(dt)
            it.set_tensor(d["index"], x)
        it.invoke()
        for d in it.get_output_details():
            it.get_tensor(d["index"])
        return "ran"
    except ALLOWED[stage] as e:
        assert str(e).strip(), f"{stage}: {type(e).__name__} without a message"
        return f"{stage} error"
    except Exception as e:  # noqa: BLE001 - the point: report anything else
        raise AssertionError(f"{stage} raised {type(e).__name__}: {e}") from e


BASES = [
    ("cnn__int8", 60, 50, 25),
    ("opmix_act__float32", 60, 50, 25),
    ("opmix_shape__int16x8", 40, 40, 20),
    ("mlp__uint8io", 30, 30, 15),
]


@pytest.mark.parametrize("name,flips,overwrites,truncations", BASES, ids=[b[0] for b in BASES])
def test_mutated_corpus_files_fail_cleanly(name, flips, overwrites, truncations):
    _run_mutations(model_bytes(case(name)), name, flips, overwrites, truncations)


def test_mutated_sparse_model_fails_cleanly():
    # MediaPipe's sparse face detector: mutations aimed at its sparsity structure and DENSIFY
    # inputs, plus a few anywhere. Fewer of them: each run takes half a second.
    data = (MEDIAPIPE / "face_detection_full_range_sparse.tflite").read_bytes()
    seen = structure(data)
    rng = random.Random(7)
    sparse_fields = [p for p, (_, w) in seen.items() if "sparsity" in w]
    assert sparse_fields, "expected sparse tensors in this model"
    cases_ = []
    for pos in rng.sample(sparse_fields, 30):
        typ, field = seen[pos]
        old = struct.unpack_from(codec.SCALAR_FMT[typ], data, pos)[0]
        b = bytearray(data)
        value = rng.choice(_EDGE[typ])
        struct.pack_into(codec.SCALAR_FMT[typ], b, pos, value)
        cases_.append((f"{field} at byte {pos} ({typ}) {old!r} -> {value!r}", bytes(b)))
    cases_ += list(mutations(data, seed=7, flips=8, overwrites=0, truncations=0))
    outcomes = _check(cases_, "face_detection_full_range_sparse")
    assert outcomes.get("load error", 0) >= 10 and outcomes.get("ran", 0) >= 1, outcomes


def _run_mutations(data, name, flips, overwrites, truncations):
    outcomes = _check(mutations(data, seed=zlib.crc32(name.encode()), flips=flips, overwrites=overwrites,
                                truncations=truncations), name)
    total = sum(outcomes.values())
    assert total >= flips + overwrites + truncations
    # Most mutations must be caught at load; the rest either run or fail later, cleanly.
    assert outcomes.get("load error", 0) > total // 4, outcomes


def _check(cases_, name) -> dict:
    outcomes: dict = {}
    rng = np.random.default_rng(0)
    with address_space_limit(3 << 30), np.errstate(all="ignore"):
        for what, data in cases_:
            t0 = time.perf_counter()
            try:
                result = exercise(data, rng)
            except AssertionError as e:
                raise AssertionError(f"{name}, {what}: {e}") from None
            elapsed = time.perf_counter() - t0
            assert elapsed < TIME_LIMIT, f"{name}, {what}: took {elapsed:.1f} s ({result})"
            outcomes[result] = outcomes.get(result, 0) + 1
    return outcomes


# ---- specific malformations and their messages ----------------------------------------------
def _base() -> dict:
    return decode(model_bytes(case("cnn__int8")))


def _load_dict(d):
    return eightbit.load(encode(d))


def _with(d, **sg_changes):
    d = dict(d)
    d["subgraphs"] = [dict(d["subgraphs"][0], **sg_changes)] + d["subgraphs"][1:]
    return d


def test_garbage_and_truncated_bytes():
    with pytest.raises(ModelError, match="not a .tflite model: only 0 bytes"):
        eightbit.load(b"")
    with pytest.raises(ModelError, match="file identifier"):
        eightbit.load(bytes(range(256)) * 4)
    raw = model_bytes(case("cnn__int8"))
    with pytest.raises(ModelError, match="byte offset"):
        eightbit.load(raw[:100])


def test_operator_input_index_out_of_range():
    d = _base()
    ops = [dict(o) for o in d["subgraphs"][0]["operators"]]
    ops[2]["inputs"] = [ops[2]["inputs"][0], 999, ops[2]["inputs"][2]]
    with pytest.raises(ModelError, match=r"subgraphs\[0\]\.operators\[2\]\.inputs\[1\] = 999, out of range -1\.\.14"):
        _load_dict(_with(d, operators=ops))


def test_opcode_index_out_of_range():
    d = _base()
    ops = [dict(o) for o in d["subgraphs"][0]["operators"]]
    ops[0]["opcode_index"] = 40
    with pytest.raises(ModelError, match=r"operators\[0\]\.opcode_index 40 out of range 0\.\.5"):
        _load_dict(_with(d, operators=ops))


def test_buffer_smaller_than_tensor():
    d = _base()
    tensors = [dict(t) for t in d["subgraphs"][0]["tensors"]]
    tensors[5]["shape"] = [16, 3, 3, 9]  # one more input channel than the buffer holds
    with pytest.raises(ModelError, match=r"tensors\[5\] \('cnn_1/conv2d_3_1/convolution'\) INT8\[16, 3, 3, 9\] needs 1296 bytes but buffer \d+ holds 1152"):
        _load_dict(_with(d, tensors=tensors))


def test_tensor_buffer_index_out_of_range():
    d = _base()
    tensors = [dict(t) for t in d["subgraphs"][0]["tensors"]]
    tensors[3]["buffer"] = 10_000
    with pytest.raises(ModelError, match=r"tensors\[3\] .* refers to buffer 10000, out of range"):
        _load_dict(_with(d, tensors=tensors))


def test_operator_reading_a_tensor_nothing_produces():
    d = _base()
    ops = [dict(o) for o in d["subgraphs"][0]["operators"]]
    del ops[1]  # MAX_POOL_2D gone: CONV_2D #2 reads its output
    with pytest.raises(ModelError, match=r"operators\[1\] reads tensor 9 \('cnn_1/max_pooling2d_1_1/MaxPool2d'\), which nothing produces"):
        _load_dict(_with(d, operators=ops))


def test_cycle():
    d = _base()
    ops = [dict(o) for o in d["subgraphs"][0]["operators"]]
    ops[1], ops[2] = ops[2], ops[1]  # CONV reads the pool's output before the pool runs
    with pytest.raises(ModelError, match=r"operators\[1\] reads tensor 9 produced by operators\[2\]: a cycle"):
        _load_dict(_with(d, operators=ops))
    ops = [dict(o) for o in d["subgraphs"][0]["operators"]]
    ops[1]["inputs"] = [9]  # the pool reads its own output
    with pytest.raises(ModelError, match=r"operators\[1\] reads tensor 9 produced by operators\[1\]"):
        _load_dict(_with(d, operators=ops))


def test_graph_output_nothing_produces():
    d = _base()
    with pytest.raises(ModelError, match=r"subgraphs\[0\]\.outputs\[0\] is tensor 13 .* which nothing produces"):
        _load_dict(_with(d, outputs=[13], operators=d["subgraphs"][0]["operators"][:5]))


def test_signature_and_metadata_indices():
    d = dict(_base())
    d["signature_defs"] = [dict(d["signature_defs"][0], outputs=[{"name": "x", "tensor_index": 77}])]
    with pytest.raises(ModelError, match=r"signature_defs\[0\]\.outputs\[0\] tensor_index 77 out of range"):
        _load_dict(d)
    d = dict(_base())
    d["metadata"] = [{"name": "min_runtime_version", "buffer": 500}]
    with pytest.raises(ModelError, match=r"metadata\[0\] \('min_runtime_version'\) refers to buffer 500"):
        _load_dict(d)


def test_huge_shape_is_refused_before_allocating():
    d = _base()
    tensors = [dict(t) for t in d["subgraphs"][0]["tensors"]]
    tensors[8]["shape"] = [1 << 20, 1 << 20, 8, 8]
    with pytest.raises(ModelError, match=r"tensors\[8\] .* has \d+ elements, more than we allocate"):
        _load_dict(_with(d, tensors=tensors))


def test_inconsistent_sparsity_is_refused():
    data = (MEDIAPIPE / "face_detection_full_range_sparse.tflite").read_bytes()
    d = decode(data)
    sg = d["subgraphs"][0]
    k = next(i for i, t in enumerate(sg["tensors"]) if t.get("sparsity"))
    t = dict(sg["tensors"][k])
    sp = dict(t["sparsity"])
    dims = [dict(x) for x in sp["dim_metadata"]]
    j = next(i for i, x in enumerate(dims) if x["format"] == 1)
    idx = dict(dims[j]["array_indices"])
    values = list(idx["values"])
    values[0] = 10_000  # an index past the dimension
    idx["values"] = values if not isinstance(idx["values"], bytes) else bytes([255]) + idx["values"][1:]
    dims[j]["array_indices"] = idx
    sp["dim_metadata"] = dims
    t["sparsity"] = sp
    tensors = list(sg["tensors"])
    tensors[k] = t
    with pytest.raises(ModelError, match=rf"tensors\[{k}\] .* sparsity: dim_metadata\[{j}\] array_indices outside"):
        _load_dict(_with(d, tensors=tensors))


def test_unsupported_op_error_lists_every_operator(monkeypatch):
    import eightbit.interpreter.runner as runner
    from eightbit.kernels.base import Kernel

    class NoInt8(Kernel):
        types = ("float32",)

        @staticmethod
        def prepare(op):
            if op.inputs[0].type != "FLOAT32":
                raise op.unsupported(f"input type {op.inputs[0].type}")
            return None

    real = runner.get_kernel
    fake = {"MAX_POOL_2D": None, "AVERAGE_POOL_2D": None, "CONV_2D": NoInt8, "SOFTMAX": NoInt8}
    monkeypatch.setattr(runner, "get_kernel", lambda n: fake[n] if n in fake else real(n))
    with pytest.raises(UnsupportedOpError) as e:
        eightbit.Interpreter(model_content=model_bytes(case("cnn__int8")))
    got = sorted(e.value.unsupported)
    assert got == [
        ("AVERAGE_POOL_2D", 2, 1, "no kernel"),
        ("CONV_2D", 3, 2, "input type INT8"),
        ("MAX_POOL_2D", 2, 1, "no kernel"),
        ("SOFTMAX", 2, 1, "input type INT8"),
    ]
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("model uses 4 unsupported operator(s): ")
    assert "CONV_2D v3 x2 (input type INT8)" in msg and "AVERAGE_POOL_2D v2 x1 (no kernel)" in msg


def test_custom_ops_are_reported_by_name():
    b = ModelBuilder()
    x = b.tensor("x", (1, 4))
    y = b.tensor("y", (1, 4))
    z = b.tensor("z", (1, 4))
    b.op("CUSTOM", [x], [y], custom_code="FancyOp")
    b.op("CUSTOM", [y], [z], custom_code="FancyOp")
    b.inputs(x).outputs(z)
    with pytest.raises(UnsupportedOpError, match=r"FancyOp v1 x2 \(custom op: register a kernel with eightbit.register_custom_op\)"):
        eightbit.Interpreter(model_content=b.build().to_bytes())
