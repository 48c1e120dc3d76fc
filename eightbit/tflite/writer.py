"""Write schema dicts to .tflite bytes, and files atomically."""

from __future__ import annotations

import os
import tempfile

from eightbit.errors import ModelError
from eightbit.schema import encode

# The FlatBuffer itself must stay under 2 GiB; past this, buffer bytes go after it.
EXTERNAL_BUFFER_THRESHOLD = (1 << 31) - (64 << 20)


def write_flatbuffer(model: dict, external_threshold: int | None = None) -> bytes:
    """Encode a model dict. When the buffers' bytes reach `external_threshold` (default: the
    module's EXTERNAL_BUFFER_THRESHOLD, read at call time so tests can lower it), they are
    written after the flatbuffer with Buffer.offset/size, as TFLite does for files over 2 GB."""
    if external_threshold is None:
        external_threshold = EXTERNAL_BUFFER_THRESHOLD
    buffers = model.get("buffers") or []
    total = sum(len(b.get("data") or b"") for b in buffers)
    if total < external_threshold:
        # room for tables, names and alignment too: a Builder that outgrows its hint doubles (2x memory)
        return encode(model, size_hint=total + total // 64 + (1 << 20))
    return _write_with_external_buffers(model)


def _write_with_external_buffers(model: dict) -> bytes:
    # TFLite's layout for big models: Buffer.offset/size point past the flatbuffer, each
    # payload 16-byte aligned. Offsets depend on the flatbuffer's own size, which depends on
    # the offsets' values only through their presence, so encode once with placeholders.
    payloads = [b.get("data") or b"" for b in model["buffers"]]
    stripped = dict(model)
    stripped["buffers"] = [
        {"offset": 1, "size": 1} if p else {} for p in payloads
    ]
    head = encode(stripped)
    pos = _align(len(head), 16)
    placed = []
    for p in payloads:
        if p:
            placed.append({"offset": pos, "size": len(p)})
            pos = _align(pos + len(p), 16)
        else:
            placed.append({})
    stripped["buffers"] = placed
    head2 = encode(stripped)
    if len(head2) != len(head):
        raise ModelError("internal error: flatbuffer size changed while placing external buffers")
    out = bytearray(head2)
    for b, p in zip(placed, payloads):
        if p:
            out.extend(b"\0" * (b["offset"] - len(out)))
            out.extend(p)
    return bytes(out)


def _align(n, a):
    return (n + a - 1) // a * a


def _mode_for(path: str) -> int:
    """The mode a plain open() would give: a replaced file keeps its own, a new one follows the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write(path, data: bytes, overwrite: bool = True) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists; pass overwrite=True (CLI: --force) to replace it")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".eightbit-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, _mode_for(path))  # mkstemp makes 0600; the user expects their umask's mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
