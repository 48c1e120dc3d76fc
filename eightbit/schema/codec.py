"""Generic, bounds-checked FlatBuffers codec driven by the schema tables.

`decode` turns a buffer into nested dicts (field name -> value) and never trusts an
offset or length before checking it against the buffer, so malformed files raise
ModelError naming the table, field and byte offset instead of IndexError/struct.error.
`encode` writes the same dicts back deterministically (same input, same bytes).
"""

from __future__ import annotations

import mmap
import struct

import flatbuffers
import numpy as np

from eightbit.errors import ModelError
from eightbit.schema._tables import ENUMS, TABLES

SCALAR_FMT = {
    "bool": "<?", "int8": "<b", "uint8": "<B", "int16": "<h", "uint16": "<H",
    "int32": "<i", "uint32": "<I", "int64": "<q", "uint64": "<Q", "float32": "<f",
    "float64": "<d",
}
SCALAR_SIZE = {k: struct.calcsize(v) for k, v in SCALAR_FMT.items()}
NP_DTYPE = {k: np.dtype(v) for k, v in SCALAR_FMT.items()}
UNION_TABLES = {
    union: {v: k for k, v in members.items() if k != "NONE"}
    for union, members in ENUMS.items()
    if union in ("BuiltinOptions", "BuiltinOptions2", "QuantizationDetails", "SparseIndexVector")
}
FIELDS = {t: {f[0]: f for f in fields} for t, fields in TABLES.items()}


class _Reader:
    def __init__(self, buf):
        self.buf = memoryview(buf).cast("B") if not isinstance(buf, bytes) else buf
        self.size = len(self.buf)
        # Constant buffers (Buffer.data) come out as read-only views on the input, not copies,
        # when the input cannot change under them (bytes, or a read-only view).
        self.views = isinstance(buf, bytes) or (isinstance(buf, memoryview) and buf.readonly)
        # Bytes of tables, vectors and strings decoded so far. A well-formed file decodes each
        # byte once; offsets that make many fields share one big vector or table would make
        # decoding quadratic in time and memory, so past twice the file size we stop.
        self.budget = 2 * self.size + 4096

    def spend(self, n, where, pos):
        self.budget -= n
        if self.budget < 0:
            self.fail(
                f"offsets make the decoder read the same bytes over and over (more than twice the "
                f"{self.size}-byte buffer)", where, pos,
            )

    def fail(self, what, where, pos):
        raise ModelError(f"malformed flatbuffer: {what} in {where} at byte offset {pos}")

    def scalar(self, typ, pos, where):
        n = SCALAR_SIZE[typ]
        if pos < 0 or pos + n > self.size:
            self.fail(f"{typ} value past the end of the {self.size}-byte buffer", where, pos)
        return struct.unpack_from(SCALAR_FMT[typ], self.buf, pos)[0]

    def deref(self, pos, where):
        target = pos + self.scalar("uint32", pos, where)
        if target >= self.size:
            self.fail(f"offset points to {target}, past the end", where, pos)
        return target

    def vector_span(self, pos, elem_size, where):
        start = self.deref(pos, where)
        n = self.scalar("uint32", start, where)
        if start + 4 + n * elem_size > self.size:
            self.fail(f"vector of {n} x {elem_size}-byte elements runs past the end", where, start)
        self.spend(4 + n * elem_size, where, start)
        return start + 4, n

    def table(self, name, pos, where):
        vt = pos - self.scalar("int32", pos, where)
        if vt < 0 or vt + 4 > self.size:
            self.fail(f"vtable offset {vt} out of range", f"{where} ({name})", pos)
        vt_size = self.scalar("uint16", vt, where)
        obj_size = self.scalar("uint16", vt + 2, where)
        if vt_size < 4 or vt + vt_size > self.size or pos + obj_size > self.size:
            self.fail("vtable or table extends past the end", f"{where} ({name})", vt)
        self.spend(max(obj_size, 4), where, pos)
        out = {}
        for fname, slot, kind, typ, extra in TABLES[name]:
            vo = 4 + 2 * slot
            off = self.scalar("uint16", vt + vo, where) if vo + 2 <= vt_size else 0
            if off and off >= obj_size:
                self.fail(f"field {fname} offset {off} beyond table size {obj_size}", f"{where} ({name})", pos)
            fpos = pos + off
            fwhere = f"{where}.{fname}"
            if kind == "scalar":
                out[fname] = self.scalar(typ, fpos, fwhere) if off else (bool(extra) if typ == "bool" else extra)
            elif not off:
                out[fname] = None
            elif kind == "string":
                out[fname] = self.string(fpos, fwhere)
            elif kind == "table":
                out[fname] = self.table(typ, self.deref(fpos, fwhere), fwhere)
            elif kind == "union":
                out[fname] = self.union(typ, out.get(fname + "_type", 0), fpos, fwhere)
            elif self.views and name == "Buffer" and fname == "data":
                start, n = self.vector_span(fpos, 1, fwhere)
                out[fname] = memoryview(self.buf)[start:start + n]
            else:
                out[fname] = self.vector(typ, fpos, fwhere)
        return out

    def string(self, pos, where):
        start, n = self.vector_span(pos, 1, where)
        return bytes(self.buf[start:start + n]).decode("utf-8", errors="replace")

    def union(self, union, type_code, pos, where):
        member = UNION_TABLES[union].get(type_code)
        if member is None:
            self.fail(f"unknown {union} type {type_code}", where, pos)
        return self.table(member, self.deref(pos, where), f"{where}<{member}>")

    def vector(self, typ, pos, where):
        if typ in SCALAR_SIZE:
            start, n = self.vector_span(pos, SCALAR_SIZE[typ], where)
            if typ == "uint8":
                return bytes(self.buf[start:start + n])
            return np.frombuffer(self.buf, NP_DTYPE[typ], n, start).tolist()
        start, n = self.vector_span(pos, 4, where)
        if typ == "string":
            return [self.string(start + 4 * i, f"{where}[{i}]") for i in range(n)]
        return [self.table(typ, self.deref(start + 4 * i, f"{where}[{i}]"), f"{where}[{i}]") for i in range(n)]


# ---- the fast path -------------------------------------------------------------------------
# `_Reader` above checks every read and builds each field's path as it goes, which is what a
# good error message needs but costs more than the decoding itself. `_fast_decode` makes the
# same checks without the paths, reads each vtable once per decode, and all of a table's scalar
# fields with one struct call. On anything it does not like it raises, and `decode` hands the
# buffer to `_Reader`, which then raises the exact message (or, should the fast path ever be
# stricter than needed, returns the result). So errors are `_Reader`'s by construction; results
# must be equal, which tests/unit/test_fast_decode.py checks on every model in tests/data.
class _Bad(Exception):
    """Raised by the fast path; `decode` then re-reads with `_Reader` for the message."""


_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U16 = struct.Struct("<H").unpack_from
_VT_HEAD = struct.Struct("<HH").unpack_from
_VT_SLOTS = {}  # number of slots -> unpack_from of that many uint16


def _slots_unpack(n):
    f = _VT_SLOTS.get(n)
    if f is None:
        f = _VT_SLOTS[n] = struct.Struct(f"<{n}H").unpack_from
    return f


# Plans depend only on the table type, its layout (object size and the vtable slots the schema
# knows) and `arrays`, and converters write the same few layouts into every file: kept across
# decodes, up to a bound (a hostile file can hold many layouts; a layout is at most 36 bytes).
_PLANS = {}
_MAX_PLANS = 1024
_KNOWN_SLOTS = {name: fields[-1][1] + 1 if fields else 0 for name, fields in TABLES.items()}


def _plan_for(name, buf, size, vt, arrays):
    if vt < 0 or vt + 4 > size:
        raise _Bad
    vt_size = _VT_HEAD(buf, vt)[0]
    if vt_size < 4 or vt + vt_size > size:
        raise _Bad
    n_slots = min((vt_size - 4) // 2, _KNOWN_SLOTS[name])  # slots past the schema's: newer fields
    key = (name, arrays, bytes(buf[vt + 2:vt + 4 + 2 * n_slots]))
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        plan = _PLANS[key] = _make_plan(name, key[2], arrays)
    return plan


def _make_plan(name, layout, arrays):
    """How to decode table `name` laid out as `layout` (its vtable from the object size on, up to
    the last slot the schema knows), as a tuple: (bytes the table needs, budget it spends, dict
    of defaults, names of the present fields read by one struct (scalars' values, children's
    uint32 offsets), that struct's unpack_from, the present children as (name, offset, read, arg))."""
    obj_size = _U16(layout, 0)[0]
    n_slots = (len(layout) - 2) // 2
    offsets = _slots_unpack(n_slots)(layout, 2) if n_slots else ()
    template, scalars, refs = {}, [], []
    for fname, slot, kind, typ, extra in TABLES[name]:
        off = offsets[slot] if slot < n_slots else 0
        if off and off >= obj_size:
            raise _Bad
        if kind == "scalar":
            template[fname] = bool(extra) if typ == "bool" else extra
        else:
            template[fname] = None
        if not off:
            continue
        # Offsets to children are read with the scalars, as uint32, then replaced by the child.
        scalars.append((off, fname, typ if kind == "scalar" else "uint32"))
        if kind != "scalar":
            refs.append((fname, off) + _field_reader(name, fname, kind, typ, (name, fname) in arrays))
    names, unpack, scalar_end = _scalar_reader(scalars)
    return max(obj_size, scalar_end), max(obj_size, 4), template, names, unpack, tuple(refs)


def _scalar_reader(scalars):
    """(names, unpack_from, end): one struct reading every present scalar field of a table,
    padding over the bytes between them; fields that overlap (legal, if odd) get a slower reader."""
    if not scalars:
        return (), None, 0
    scalars.sort()
    fmt, at = "<", 0
    for off, _name, typ in scalars:
        if off < at:
            return _overlapping_reader(scalars)
        fmt += ("x" * (off - at)) + SCALAR_FMT[typ][1]
        at = off + SCALAR_SIZE[typ]
    return tuple(name for _, name, _ in scalars), struct.Struct(fmt).unpack_from, at


def _overlapping_reader(scalars):
    readers = [(struct.Struct(SCALAR_FMT[typ]).unpack_from, off) for off, _name, typ in scalars]

    def unpack(buf, pos):
        return tuple(read(buf, pos + off)[0] for read, off in readers)

    end = max(off + SCALAR_SIZE[typ] for off, _name, typ in scalars)
    return tuple(name for _, name, _ in scalars), unpack, end


# Field readers: read(reader, arg, target, out) -> value, `target` being where the field's
# offset points. Every one reads at least 4 bytes at `target` first, so a target at or past
# the end raises struct.error there.
def _read_table(r, typ, target, out):
    return r.table(typ, target)


def _read_union(r, arg, target, out):
    members, type_field = arg
    member = members.get(out[type_field])
    if member is None:
        raise _Bad
    return r.table(member, target)


def _read_string(r, _arg, target, out):
    n = r.span(target, 1)
    return str(r.buf[target + 4:target + 4 + n], "utf-8", "replace")


def _read_bytes(r, _arg, target, out):
    n = r.span(target, 1)
    return bytes(r.buf[target + 4:target + 4 + n])


def _read_buffer_data(r, _arg, target, out):
    n = r.span(target, 1)
    if r.views:  # a read-only view on the input, as _Reader gives
        return memoryview(r.buf)[target + 4:target + 4 + n]
    return bytes(r.buf[target + 4:target + 4 + n])


_SMALL_VECTOR = 16  # up to this many elements struct beats numpy
# type -> [unpack_from of n values for n in 0.._SMALL_VECTOR]
_SMALL_UNPACK = {typ: [struct.Struct(f"<{n}{fmt[1]}").unpack_from for n in range(_SMALL_VECTOR + 1)]
                 for typ, fmt in SCALAR_FMT.items()}


def _read_numbers(r, arg, target, out):
    size, small, dtype = arg
    buf = r.buf
    n = _U32(buf, target)[0]
    spent = 4 + n * size  # r.take, inlined: this is the most frequent field reader
    if target + spent > r.size:
        raise _Bad
    r.budget -= spent
    if r.budget < 0:
        raise _Bad
    if n > _SMALL_VECTOR:
        return np.frombuffer(buf, dtype, n, target + 4).tolist()
    return list(small[n](buf, target + 4))


def _read_array(r, arg, target, out):
    size, _small, dtype = arg
    n = r.span(target, size)
    return np.frombuffer(r.buf, dtype, n, target + 4).copy()  # writable, not tied to the input


def _element_targets(r, target):
    n = r.span(target, 4)
    first = target + 4
    if n > _SMALL_VECTOR:
        offsets = np.frombuffer(r.buf, "<u4", n, first).tolist()
    else:
        offsets = _SMALL_UNPACK["uint32"][n](r.buf, first)
    return [first + 4 * i + off for i, off in enumerate(offsets)]


def _read_strings(r, _arg, target, out):
    return [_read_string(r, None, t, None) for t in _element_targets(r, target)]


def _read_tables(r, typ, target, out):
    table = r.table
    return [table(typ, t) for t in _element_targets(r, target)]


def _field_reader(table, fname, kind, typ, as_array):
    """(read, arg) for a non-scalar field."""
    if kind == "table":
        return _read_table, typ
    if kind == "string":
        return _read_string, None
    if kind == "union":
        return _read_union, (UNION_TABLES[typ], fname + "_type")
    if typ == "uint8":
        return (_read_buffer_data if (table, fname) == ("Buffer", "data") else _read_bytes), None
    if typ in SCALAR_SIZE:
        return (_read_array if as_array else _read_numbers), (SCALAR_SIZE[typ], _SMALL_UNPACK[typ], NP_DTYPE[typ])
    return (_read_strings, None) if typ == "string" else (_read_tables, typ)


class _FastReader:
    def __init__(self, buf, arrays):
        self.buf = memoryview(buf).cast("B") if not isinstance(buf, bytes) else buf
        self.size = len(self.buf)
        self.views = isinstance(buf, bytes) or (isinstance(buf, memoryview) and buf.readonly)
        self.budget = 2 * self.size + 4096  # the same budget, spent on the same bytes, as _Reader
        self.arrays = arrays
        self.plans = {}

    def table(self, name, pos):
        # Positions are never negative here (offsets are unsigned, vtables checked), so a read
        # past the end raises struct.error rather than wrapping around.
        buf = self.buf
        key = (name, pos - _I32(buf, pos)[0])
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = _plan_for(name, buf, self.size, key[1], self.arrays)
        end, spend, template, names, unpack, refs = plan
        if pos + end > self.size:
            raise _Bad
        self.budget -= spend
        if self.budget < 0:
            raise _Bad
        out = template.copy()
        if unpack is not None:
            out.update(zip(names, unpack(buf, pos)))
        for fname, off, read, arg in refs:
            out[fname] = read(self, arg, pos + off + out[fname], out)
        return out

    def span(self, start, elem_size):
        """Element count of the vector at `start`, checked against the buffer and the budget."""
        n = _U32(self.buf, start)[0]
        self.take(start, 4 + n * elem_size)
        return n

    def take(self, start, n_bytes):
        """Checks that `n_bytes` from `start` are in the buffer and spends them from the budget."""
        if start + n_bytes > self.size:
            raise _Bad
        self.budget -= n_bytes
        if self.budget < 0:
            raise _Bad


def _fast_decode(buf, root, arrays=frozenset()):
    reader = _FastReader(buf, arrays)
    return reader.table(root, _U32(reader.buf, 0)[0])


def decode(buf, root="Model", identifier=b"TFL3", arrays=frozenset()):
    """Decode a FlatBuffer into nested dicts; raises ModelError on anything malformed.

    `arrays`: (table, field) pairs of number vectors to return as numpy arrays rather than
    lists, for a caller that wants arrays anyway (eightbit.load: quantization scales). Usually
    honoured, but a caller must take lists too (they come when a file needs the checked reader).
    """
    if len(buf) < 8:
        raise ModelError(f"not a .tflite model: only {len(buf)} bytes (a FlatBuffer needs at least 8)")
    if identifier is not None and bytes(buf[4:8]) != identifier:
        raise ModelError(
            f"not a .tflite model: file identifier at byte offset 4 is {bytes(buf[4:8])!r}, expected {identifier!r}"
        )
    try:
        return _fast_decode(buf, root, frozenset(arrays))
    except Exception:  # noqa: BLE001 - anything odd: the checked reader decides, and names the fault
        reader = _Reader(buf)
        return reader.table(root, reader.deref(0, "root"), root)


# Big models: byte payloads of at least SPLICE_MIN bytes are not copied into the Builder; their
# space is reserved in an anonymous mmap (pages never touched cost no memory) and the payloads are
# joined into the output at the end, so encoding holds the output once, not a Builder copy too.
SPLICE_MODEL_MIN = 16 << 20
SPLICE_MIN = 64 << 10


class _Writer:
    def __init__(self, size_hint):
        self.splices = []  # (offset from the Builder's end, payload) of reserved vectors
        self.splice = size_hint >= SPLICE_MODEL_MIN
        self.b = flatbuffers.Builder(1024 if self.splice else max(1024, size_hint))
        if self.splice:
            self.b.Bytes = mmap.mmap(-1, size_hint)
            self.b.head = size_hint

    def output(self) -> bytes:
        """The finished buffer, reserved payloads joined in (one copy of everything)."""
        b = self.b
        end = len(b.Bytes)
        if not self.splices:
            return bytes(memoryview(b.Bytes)[b.Head():])
        parts, pos = [], b.Head()
        for at, payload in sorted((end - off, p) for off, p in self.splices):
            parts += [b.Bytes[pos:at], payload]
            pos = at + len(payload)
        parts.append(b.Bytes[pos:end])
        return b"".join(parts)

    def table(self, name, obj):
        fields = TABLES[name]
        unknown = obj.keys() - FIELDS[name].keys()
        if unknown:
            raise ModelError(f"{name} has no field(s) {sorted(unknown)}; its fields are {sorted(FIELDS[name])}")
        # Children first: FlatBuffers cannot nest object construction.
        refs = {}
        for fname, _slot, kind, typ, extra in fields:
            val = obj.get(fname)
            if val is None or kind == "scalar":
                continue
            if kind == "string":
                refs[fname] = self.b.CreateString(val)
            elif kind == "table":
                refs[fname] = self.table(typ, val)
            elif kind == "union":
                member = UNION_TABLES[typ].get(obj.get(fname + "_type", 0))
                if member is None:
                    raise ModelError(f"{name}.{fname}: union type {obj.get(fname + '_type')} is not a {typ} member")
                refs[fname] = self.table(member, val)
            else:
                refs[fname] = self.vector(typ, val, extra, f"{name}.{fname}")
        self.b.StartObject(len(fields) and max(f[1] for f in fields) + 1)
        # Write largest scalars first to keep padding small; order is fixed by the schema.
        for fname, slot, kind, typ, extra in sorted(fields, key=lambda f: -SCALAR_SIZE.get(f[3], 4)):
            if kind == "scalar":
                val = obj.get(fname, extra)
                if val is None:
                    continue
                flags = getattr(flatbuffers.number_types, _FLAG_NAMES[typ])
                try:
                    self.b.PrependSlot(flags, slot, _coerce(typ, val), extra)
                except (struct.error, OverflowError, TypeError, ValueError) as e:
                    raise ModelError(f"{name}.{fname}: cannot store {val!r} as {typ}: {e}") from None
            elif fname in refs:
                self.b.PrependUOffsetTRelativeSlot(slot, refs[fname], 0)
        return self.b.EndObject()

    def vector(self, typ, val, align, where):
        if self.splice and typ in ("uint8", "int8") and isinstance(val, (bytes, memoryview)) and len(val) >= SPLICE_MIN:
            self.b.StartVector(1, len(val), max(align or 1, 1))  # makes room (grows if needed)
            self.b.head -= len(val)
            self.splices.append((len(self.b.Bytes) - self.b.head, val))
            self.b.vectorNumElems = len(val)
            return self.b.EndVector()
        if typ in SCALAR_SIZE:
            if isinstance(val, (bytes, bytearray, memoryview)):
                val = np.frombuffer(val, np.uint8)
            try:
                arr = np.ascontiguousarray(np.asarray(val, dtype=NP_DTYPE[typ]).reshape(-1))
            except (OverflowError, TypeError, ValueError) as e:
                raise ModelError(f"{where}: cannot store the values as a vector of {typ}: {e}") from None
            self.b.StartVector(arr.itemsize, arr.size, max(align or 1, arr.itemsize))
            payload = arr.tobytes()
            self.b.head -= len(payload)
            self.b.Bytes[self.b.head:self.b.head + len(payload)] = payload
            self.b.vectorNumElems = arr.size
            return self.b.EndVector()
        if typ == "string":
            offs = [self.b.CreateString(s) for s in val]
        else:
            offs = [self.table(typ, v) for v in val]
        self.b.StartVector(4, len(offs), 4)
        for off in reversed(offs):
            self.b.PrependUOffsetTRelative(off)
        return self.b.EndVector()


_FLAG_NAMES = {
    "bool": "BoolFlags", "int8": "Int8Flags", "uint8": "Uint8Flags", "int16": "Int16Flags",
    "uint16": "Uint16Flags", "int32": "Int32Flags", "uint32": "Uint32Flags", "int64": "Int64Flags",
    "uint64": "Uint64Flags", "float32": "Float32Flags", "float64": "Float64Flags",
}


def _coerce(typ, val):
    if typ == "bool":
        return bool(val)
    if typ.startswith("float"):
        return float(val)
    return int(val)


def encode(obj, root="Model", identifier=b"TFL3", size_hint=1024):
    """Encode nested dicts (as `decode` returns) into FlatBuffer bytes."""
    w = _Writer(size_hint)
    root_off = w.table(root, obj)
    w.b.Finish(root_off, file_identifier=identifier)
    return w.output()
