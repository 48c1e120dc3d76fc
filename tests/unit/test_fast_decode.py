"""The fast decoder (schema/codec.py `_fast_decode`) gives exactly what the checked reader
(`_Reader`, the decoder every error message comes from) gives: the same dicts on every model in
tests/data, the same accept/reject on hundreds of mutated files, the same message through
`decode`. And `eightbit.load`, which asks for quantization vectors as numpy arrays, builds the
same IR as the list path (`model_from_dict(read_flatbuffer(raw))`).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

import eightbit
from eightbit.errors import ModelError
from eightbit.ir.serialize import model_from_dict
from eightbit.schema import codec, decode
from eightbit.tflite import read_flatbuffer
from eightbit.tflite.verify import MAX_TENSOR_ELEMENTS, verify_structure
from tests.corpus import case, model_bytes
from tests.unit.test_malformed import mutations

DATA = Path(__file__).resolve().parent.parent / "data"
MODELS = sorted(DATA.rglob("*.tflite"))


def checked_decode(buf, root="Model"):
    r = codec._Reader(buf)
    return r.table(root, r.deref(0, "root"), root)


def plain(x):
    """Comparable form: memoryviews as ('view', bytes), so repr() shows key order and types too."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [plain(v) for v in x]
    if isinstance(x, memoryview):
        return ("view", x.readonly, bytes(x))
    return x


def test_there_are_models_to_compare():
    assert len(MODELS) >= 40, MODELS


@pytest.mark.parametrize("path", MODELS, ids=[p.name for p in MODELS])
def test_fast_decode_equals_checked_reader(path):
    raw = path.read_bytes()
    fast = codec._fast_decode(raw, "Model")  # directly: must not need the fallback
    assert repr(plain(fast)) == repr(plain(checked_decode(raw)))
    # Same through decode, for bytes, a read-only view (constants stay views) and a bytearray.
    assert repr(plain(decode(memoryview(raw)))) == repr(plain(fast))
    copied = decode(bytearray(raw))
    assert repr(plain(copied)) == repr(plain(checked_decode(bytearray(raw))))
    assert all(not isinstance(b.get("data"), memoryview) for b in copied["buffers"])


def _owner(a):
    """What finally holds an array's memory (an ndarray, or the bytes it views)."""
    while isinstance(a, np.ndarray) and a.base is not None:
        a = a.base
    return a.obj if isinstance(a, memoryview) else a


@pytest.mark.parametrize("path", MODELS, ids=[p.name for p in MODELS])
def test_load_builds_the_same_ir_as_the_list_path(path):
    raw = path.read_bytes()
    fast, slow = eightbit.load(raw), model_from_dict(read_flatbuffer(raw))
    assert (fast.version, fast.description, fast.signature_defs) == (slow.version, slow.description, slow.signature_defs)
    assert [(md.name, bytes(md.buffer.data)) for md in fast.metadata] == [(md.name, bytes(md.buffer.data)) for md in slow.metadata]
    assert [bytes(b.data) for b in fast.buffers] == [bytes(b.data) for b in slow.buffers]
    for sg_fast, sg_slow in zip(fast.subgraphs, slow.subgraphs, strict=True):
        for a, b in zip(sg_fast.tensors, sg_slow.tensors, strict=True):
            assert (a.name, a.shape, a.type, a.shape_signature, a.extra) == (b.name, b.shape, b.type, b.shape_signature, b.extra)
            assert (a.quantization is None) == (b.quantization is None)
            if a.quantization is None:
                continue
            for field in ("scale", "zero_point", "min", "max"):
                x, y = getattr(a.quantization, field), getattr(b.quantization, field)
                assert (x is None) == (y is None)
                if x is not None:
                    assert x.dtype == y.dtype and x.flags.writeable and _owner(x) is not raw
                    np.testing.assert_array_equal(x, y)
            assert a.quantization.details == b.quantization.details
        assert [(o.op_type, o.inputs, o.outputs, o.options, o.extra) for o in sg_fast.operators] == \
            [(o.op_type, o.inputs, o.outputs, o.options, o.extra) for o in sg_slow.operators]


def test_arrays_option_gives_copies_of_the_stored_numbers():
    raw = model_bytes(case("cnn__int8"))
    fields = frozenset({("QuantizationParameters", "scale"), ("QuantizationParameters", "zero_point")})
    as_arrays, as_lists = decode(raw, arrays=fields), decode(raw)
    seen = 0
    for t_arr, t_list in zip(as_arrays["subgraphs"][0]["tensors"], as_lists["subgraphs"][0]["tensors"], strict=True):
        q_arr, q_list = t_arr["quantization"], t_list["quantization"]
        for f in ("scale", "zero_point"):
            if q_list[f] is None:
                assert q_arr[f] is None
                continue
            assert isinstance(q_arr[f], np.ndarray) and q_arr[f].flags.writeable and _owner(q_arr[f]) is not raw
            assert q_arr[f].tolist() == q_list[f]
            seen += 1
        assert q_arr["min"] == q_list["min"]  # not asked for: still lists
    assert seen > 10


# ---- malformed input: same verdict and, through decode, the checked reader's message --------
BASES = ["cnn__int8", "opmix_act__float32", "opmix_shape__int16x8", "mlp__uint8io"]


@pytest.mark.parametrize("name", BASES)
def test_mutated_files_get_the_same_verdict(name):
    outcomes = {"both accept": 0, "both reject": 0}
    for what, data in mutations(model_bytes(case(name)), seed=11, flips=80, overwrites=80, truncations=30):
        if len(data) < 8:
            continue
        try:
            expected = repr(plain(checked_decode(data)))
        except ModelError as e:
            expected = e
        try:
            got = repr(plain(codec._fast_decode(data, "Model")))
        except Exception:  # noqa: BLE001 - any failure means "let the checked reader speak"
            got = None
        if isinstance(expected, ModelError):
            assert got is None, f"{name}, {what}: fast path accepted what the checked reader rejects: {expected}"
            with pytest.raises(ModelError) as e:
                decode(data)
            assert str(e.value) == str(expected)
            outcomes["both reject"] += 1
        else:
            assert got == expected, f"{name}, {what}"
            outcomes["both accept"] += 1
    assert outcomes["both reject"] > 40 and outcomes["both accept"] > 20, outcomes


def _operator_code(vtable_slots, table_bytes, vt_size=None, obj_size=None):
    """A FlatBuffer whose root is one OperatorCode: [root][vtable][soffset + table_bytes]."""
    vt_size = 4 + 2 * len(vtable_slots) if vt_size is None else vt_size
    vtable = struct.pack(f"<HH{len(vtable_slots)}H", vt_size, obj_size or 4 + len(table_bytes), *vtable_slots)
    table_pos = 4 + len(vtable) + (-(4 + len(vtable)) % 4)
    head = struct.pack("<I", table_pos) + vtable
    head += b"\0" * (table_pos - len(head))
    return head + struct.pack("<i", table_pos - 4) + table_bytes


LAYOUTS = {
    # OperatorCode slots: deprecated_builtin_code int8, custom_code string, version int32, builtin_code int32.
    "ordinary": ([8, 0, 4, 0], struct.pack("<iB3x", 2, 17)),
    "overlapping scalars": ([5, 0, 4, 4], struct.pack("<i", 0x01020304)),
    "scalars out of slot order": ([4, 0, 8, 5], struct.pack("<B3xi", 200, -7)),
    "short vtable (older writer)": ([4], struct.pack("<b3x", 3)),
    "long vtable (newer writer)": ([4, 0, 0, 0, 4, 4, 4], struct.pack("<i", 9)),
    "no fields": ([], b""),
}


@pytest.mark.parametrize("slots,body", LAYOUTS.values(), ids=list(LAYOUTS))
def test_unusual_vtables_decode_as_the_checked_reader_does(slots, body):
    buf = _operator_code(slots, body)
    expected = checked_decode(buf, "OperatorCode")
    assert codec._fast_decode(buf, "OperatorCode") == expected
    assert decode(buf, root="OperatorCode", identifier=None) == expected


def test_odd_vtable_size_ignores_the_half_slot():
    buf = _operator_code([4, 0, 4], struct.pack("<i", 5), vt_size=9)  # 2.5 slots: version unread
    expected = checked_decode(buf, "OperatorCode")
    assert expected["version"] == 1 and expected["deprecated_builtin_code"] == 5
    assert codec._fast_decode(buf, "OperatorCode") == expected


@pytest.mark.parametrize("slots,body,obj_size,message", [
    ([4, 0, 9], struct.pack("<i", 5), None, r"field version offset 9 beyond table size 8"),
    ([4, 0, 6], struct.pack("<i", 5), None, r"int32 value past the end of the 24-byte buffer in OperatorCode\.version at byte offset 22"),
    ([4, 0, 4], struct.pack("<i", 5), 40, r"vtable or table extends past the end in OperatorCode \(OperatorCode\)"),
    ([4, 4], struct.pack("<I", 40), None, r"offset points to 56, past the end in OperatorCode\.custom_code"),
])
def test_bad_tables_raise_the_checked_readers_message(slots, body, obj_size, message):
    buf = _operator_code(slots, body, obj_size=obj_size)
    with pytest.raises(ModelError, match=message):
        checked_decode(buf, "OperatorCode")
    with pytest.raises(ModelError, match="malformed flatbuffer: " + message):
        decode(buf, root="OperatorCode", identifier=None)


# ---- the verifier's element count: integer arithmetic where it is exact ----------------------
def _tensor_model(shape):
    return {"subgraphs": [{"tensors": [{"name": "t", "shape": shape, "type": 0, "buffer": 0}],
                           "inputs": [0], "outputs": [0], "operators": []}], "buffers": [{}]}


@pytest.mark.parametrize("shape", [[], [0], [1, 2, 3], [0, 1 << 15, 1 << 16], [1 << 31], [1 << 16, 1 << 15, 1]])
def test_shapes_within_the_limit_pass(shape):
    verify_structure(_tensor_model(shape))


@pytest.mark.parametrize("shape,count", [
    ([(1 << 31) + 1], (1 << 31) + 1),
    ([1 << 16, (1 << 15) + 1], (1 << 31) + (1 << 16)),
    ([0, 1 << 40, 1 << 40, 3], 0),
    ([1 << 30, 1 << 30, 1 << 30], int(np.float64(2.0) ** 90)),  # float64's product, as before
])
def test_shapes_over_the_limit_fail_with_the_float_count(shape, count):
    with pytest.raises(ModelError, match=rf"shape \[.*\] has {count} elements, more than we allocate"):
        verify_structure(_tensor_model(shape))
    assert MAX_TENSOR_ELEMENTS == 1 << 31


def test_negative_dimension_is_named_before_the_size():
    with pytest.raises(ModelError, match=r"has a negative dimension in shape \[1099511627776, 1099511627776, -1\]"):
        verify_structure(_tensor_model([1 << 40, 1 << 40, -1]))


# ---- plans kept across decodes -------------------------------------------------------------
def test_plan_cache_bound_does_not_change_results(monkeypatch):
    monkeypatch.setattr(codec, "_PLANS", {})
    monkeypatch.setattr(codec, "_MAX_PLANS", 3)  # cleared over and over while decoding
    for name in ("cnn__int8", "opmix_act__float32"):
        raw = model_bytes(case(name))
        assert repr(plain(codec._fast_decode(raw, "Model"))) == repr(plain(checked_decode(raw)))
        assert len(codec._PLANS) <= 3


def test_arrays_as_a_plain_set_stays_on_the_fast_path(monkeypatch):
    raw = model_bytes(case("cnn__int8"))

    def no_fallback(buf):
        raise AssertionError("decode fell back to the checked reader")

    monkeypatch.setattr(codec, "_Reader", no_fallback)
    m = decode(raw, arrays={("QuantizationParameters", "scale")})
    assert any(isinstance((t["quantization"] or {}).get("scale"), np.ndarray) for t in m["subgraphs"][0]["tensors"])


def test_plan_keys_ignore_vtable_slots_the_schema_does_not_know(monkeypatch):
    # A newer writer's long vtable and an ordinary one with the same known slots share a plan,
    # and a hostile 64 KB vtable costs a small key.
    monkeypatch.setattr(codec, "_PLANS", {})
    short = _operator_code([4, 0, 4, 4], struct.pack("<i", 9))
    long_ = _operator_code([4, 0, 4, 4] + [4] * 3000, struct.pack("<i", 9))
    assert codec._fast_decode(short, "OperatorCode") == codec._fast_decode(long_, "OperatorCode") == checked_decode(long_, "OperatorCode")
    assert len(codec._PLANS) == 1 and all(len(key[2]) <= 36 for key in codec._PLANS)
