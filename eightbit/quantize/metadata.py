"""Model metadata TF's converter writes with a quantized model.

- CONVERSION_METADATA (tensorflow/lite/schema/conversion_metadata.fbs): the environment it
  came from and the optimization modes applied (PTQ_FLOAT16 1001, PTQ_DYNAMIC_RANGE 1002,
  PTQ_FULL_INTEGER 1003, PTQ_INT16 1004). The input model's environment is kept.
- reduced_precision_support = "fp16accfp32" for float16 models.
"""

from __future__ import annotations

import logging
import struct

import flatbuffers
from flatbuffers import number_types as N
from flatbuffers.table import Table

from eightbit.ir import Model
from eightbit.ir.model import Buffer, Metadata

log = logging.getLogger(__name__)

MODES = {"float16": 1001, "dynamic_range": 1002, "int8": 1003, "int16x8": 1004}


def _read_environment(data: bytes) -> dict:
    """tensorflow_version, api_version, model_type, model_hash of a CONVERSION_METADATA buffer."""
    try:
        buf = bytearray(data)
        root = Table(buf, flatbuffers.encode.Get(N.UOffsetTFlags.packer_type, buf, 0))
        o = root.Offset(4)
        if not o:
            return {}
        env = Table(buf, root.Indirect(o + root.Pos))
        out = {}
        o = env.Offset(4)
        if o:
            out["tensorflow_version"] = env.String(o + env.Pos).decode("utf-8", "replace")
        o = env.Offset(6)
        if o:
            out["api_version"] = env.Get(N.Uint32Flags, o + env.Pos)
        o = env.Offset(8)
        if o:
            out["model_type"] = env.Get(N.Int32Flags, o + env.Pos)
        o = env.Offset(10)
        if o:
            out["model_hash"] = env.Get(N.Uint64Flags, o + env.Pos)
        return out
    except (IndexError, ValueError, struct.error) as e:
        log.warning("CONVERSION_METADATA: environment unreadable (%s: %s); not carried over", type(e).__name__, e)
        return {}


def read_conversion_metadata(data: bytes) -> dict:
    """The environment fields and `model_optimization_modes` of a CONVERSION_METADATA buffer."""
    out = _read_environment(data)
    try:
        buf = bytearray(data)
        root = Table(buf, flatbuffers.encode.Get(N.UOffsetTFlags.packer_type, buf, 0))
        o = root.Offset(6)
        modes = []
        if o:
            opts = Table(buf, root.Indirect(o + root.Pos))
            o = opts.Offset(4)
            if o:
                start, n = opts.Vector(o), opts.VectorLen(o)
                modes = [opts.Get(N.Int32Flags, start + 4 * i) for i in range(n)]
        out["model_optimization_modes"] = modes
    except (IndexError, ValueError, struct.error) as e:
        log.warning("CONVERSION_METADATA: optimization modes unreadable (%s: %s); taken as none",
                    type(e).__name__, e)
        out.setdefault("model_optimization_modes", [])
    return out


def conversion_metadata(environment: dict, modes: list) -> bytes:
    b = flatbuffers.Builder(128)
    tfv = b.CreateString(environment["tensorflow_version"]) if environment.get("tensorflow_version") else None
    b.StartObject(4)
    if tfv is not None:
        b.PrependUOffsetTRelativeSlot(0, tfv, 0)
    b.PrependUint32Slot(1, int(environment.get("api_version", 2)), 0)
    b.PrependInt32Slot(2, int(environment.get("model_type", 0)), 0)
    if environment.get("model_hash"):
        b.PrependUint64Slot(3, int(environment["model_hash"]), 0)
    env = b.EndObject()
    b.StartVector(4, len(modes), 4)
    for m in reversed(modes):
        b.PrependInt32(int(m))
    vec = b.EndVector()
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, vec, 0)
    opts = b.EndObject()
    b.StartObject(2)
    b.PrependUOffsetTRelativeSlot(0, env, 0)
    b.PrependUOffsetTRelativeSlot(1, opts, 0)
    root = b.EndObject()
    b.Finish(root)
    return bytes(b.Output())


def set_conversion_metadata(model: Model, mode: str | None) -> None:
    """Record the optimization mode (keeping the producer environment) and, for float16, the
    reduced-precision hint TF adds."""
    env = {}
    for md in model.metadata:
        if md.name == "CONVERSION_METADATA":
            env = _read_environment(md.buffer.data)
    modes = [MODES[mode]] if mode in MODES else []
    data = conversion_metadata(env, modes)
    for md in model.metadata:
        if md.name == "CONVERSION_METADATA":
            md.buffer = Buffer(data)
            break
    else:
        model.metadata.append(Metadata("CONVERSION_METADATA", Buffer(data)))
    if mode == "float16" and not any(md.name == "reduced_precision_support" for md in model.metadata):
        at = next((i for i, md in enumerate(model.metadata) if md.name == "CONVERSION_METADATA"), len(model.metadata))
        model.metadata.insert(at, Metadata("reduced_precision_support", Buffer(b"fp16accfp32")))
