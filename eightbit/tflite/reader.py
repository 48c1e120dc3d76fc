"""Read .tflite bytes into checked schema dicts (buffers resolved, structure verified)."""

from __future__ import annotations

import os

from eightbit.errors import ModelError
from eightbit.schema import decode
from eightbit.tflite.verify import verify_structure


def read_bytes(path_or_bytes) -> bytes:
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes)
    path = os.fspath(path_or_bytes)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ModelError(f"cannot read model file {path!r}: {e.strerror}") from None


def read_flatbuffer(data: bytes, arrays=frozenset()) -> dict:
    """Decode and verify; buffers stored outside the flatbuffer (offset/size) are read in.
    `arrays`: number vectors wanted as numpy arrays, or lists (see eightbit.schema.decode)."""
    model = decode(data, arrays=arrays)
    _resolve_external_buffers(model, data)
    verify_structure(model)
    return model


def _resolve_external_buffers(model: dict, data: bytes) -> None:
    # Files over 2 GB keep buffer bytes after the flatbuffer: Buffer.offset counts from the
    # start of the file. offset 0/1 means "not external" (1 is TFLite's placeholder).
    for i, buf in enumerate(model.get("buffers") or []):
        off, size = buf.get("offset") or 0, buf.get("size") or 0
        if off > 1:
            if off + size > len(data):
                raise ModelError(
                    f"malformed model: buffers[{i}] says {size} bytes at file offset {off}, "
                    f"but the file has {len(data)} bytes"
                )
            buf["data"] = memoryview(data)[off:off + size]  # a view, as decode() gives the others
        buf["offset"], buf["size"] = 0, 0
    for s, sg in enumerate(model.get("subgraphs") or []):
        for o, op in enumerate(sg.get("operators") or []):
            off, size = op.get("large_custom_options_offset") or 0, op.get("large_custom_options_size") or 0
            if off > 1:
                if off + size > len(data):
                    raise ModelError(
                        f"malformed model: subgraphs[{s}].operators[{o}] custom options at file offset "
                        f"{off} (+{size}) past the end of the {len(data)}-byte file"
                    )
                op["custom_options"] = data[off:off + size]
            op["large_custom_options_offset"], op["large_custom_options_size"] = 0, 0
