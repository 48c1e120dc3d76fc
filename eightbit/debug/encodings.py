"""Quantization parameters from another tool's encodings file (AIMET's JSON layouts).

AIMET describes a quantizer by (bitwidth, scale, offset) on an unsigned grid:
    real = (q + offset) * scale,   q in [0, 2**bitwidth - 1]
so its zero point on that grid is -offset. TFLite's signed containers shift the grid by
2**(bitwidth - 1): int8 zero point = -offset - 128 for 8 bits; a symmetric AIMET quantizer
(offset = -2**(bitwidth-1)) becomes zero point 0. Weights of fewer than 8 bits keep their scale
and are stored in int8 with their restricted range, as TFLite takes them.

Two layouts are read: the classic one ({"activation_encodings": {name: [enc, ...]},
"param_encodings": {name: [enc per channel, ...]}}, enc = {bitwidth, scale, offset, min, max,
is_symmetric}) and the versioned one ({"version": "1.0.0", "activation_encodings": [{"name",
"bw", "scale": [...], "offset": [...], ...}], ...}).

`apply_encodings(model, encodings, names=...)` returns an edited copy of a quantized model with
those parameters; quantized constants are requantized so they keep their real values, biases
follow input scale x weight scale, shared-scale outputs (pooling, reshape...) follow their input,
and every encoding that matched no tensor, or that TFLite's spec cannot take, is reported.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from eightbit.debug.surgery import Editor
from eightbit.errors import ModelError
from eightbit.kernels.registry import get_spec


@dataclass(frozen=True)
class Encoding:
    name: str
    bitwidth: int
    scale: np.ndarray  # float32, one per channel (or one)
    offset: np.ndarray  # int64, AIMET's offset (zero point on the unsigned grid is -offset)

    def signed_zero_point(self) -> np.ndarray:
        return -self.offset - (1 << (self.bitwidth - 1))


@dataclass
class EncodingsResult:
    editor: Editor
    applied: list = field(default_factory=list)  # (encoding name, tensor name)
    unmatched: list = field(default_factory=list)  # encoding names matching no tensor
    notes: list = field(default_factory=list)  # followed, requantized, refused

    @property
    def model(self):
        return self.editor.model


def _one(name, enc: dict) -> tuple[int, float, int]:
    try:
        bw = int(enc.get("bitwidth", enc.get("bw", 8)))
        return bw, float(enc["scale"]), int(round(float(enc["offset"])))
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"encoding {name!r}: needs bitwidth, scale and offset ({type(e).__name__}: {e})") from None


def parse_encodings(source) -> list[Encoding]:
    """Encodings from a path, a JSON string or an already loaded dict (either AIMET layout)."""
    if isinstance(source, (str, os.PathLike)) and os.path.exists(source):
        with open(source) as f:
            source = f.read()
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except json.JSONDecodeError as e:
            raise ModelError(f"encodings are not JSON: {e}") from None
    if not isinstance(source, dict) or not ({"activation_encodings", "param_encodings"} & set(source)):
        raise ModelError("encodings need 'activation_encodings' and/or 'param_encodings' (AIMET's layout)")
    out = []
    for section in ("activation_encodings", "param_encodings"):
        entries = source.get(section) or {}
        if isinstance(entries, dict):  # classic: name -> [encoding per channel]
            for name, encs in entries.items():
                encs = encs if isinstance(encs, list) else [encs]
                parsed = [_one(name, e) for e in encs]
                if len({bw for bw, _, _ in parsed}) != 1:
                    raise ModelError(f"encoding {name!r}: channels with different bitwidths")
                out.append(Encoding(name, parsed[0][0], np.array([s for _, s, _ in parsed], np.float32),
                                    np.array([o for _, _, o in parsed], np.int64)))
        else:  # versioned: [{"name", "bw", "scale": [...], "offset": [...]}]
            for e in entries:
                name = e.get("name")
                scale = np.atleast_1d(np.asarray(e.get("scale", []), np.float32))
                offset = np.atleast_1d(np.asarray(e.get("offset", []), np.int64))
                if not name or scale.size == 0 or offset.size not in (1, scale.size):
                    raise ModelError(f"encoding {name!r}: needs name, scale and offset lists")
                out.append(Encoding(name, int(e.get("bw", 8)), scale, np.broadcast_to(offset, scale.shape).copy()))
    return out


def _resolve(editor: Editor, enc: Encoding, names):
    target = names.get(enc.name, enc.name) if isinstance(names, dict) else (names(enc.name) if names else enc.name)
    if target is None:
        return None
    found = editor.tensors(target)
    return found[0] if len(found) == 1 else None


def _apply_one(result: EncodingsResult, enc: Encoding, ref) -> bool:
    t = ref.tensor
    containers = {8: ("INT8",), 16: ("INT16",)}
    allowed = containers.get(enc.bitwidth, ("INT8",) if enc.bitwidth < 8 else ())
    if t.type not in allowed:
        result.notes.append(f"{enc.name}: {enc.bitwidth}-bit encoding does not fit {t.type} tensor {t.name!r}; skipped "
                            "(quantize the model in the matching mode first)")
        return False
    zp = enc.signed_zero_point()
    axis = 0
    if enc.scale.size > 1:
        spec_axes = [d for d, n in enumerate(t.shape) if n == enc.scale.size]
        axis = t.quantization.quantized_dimension if t.quantized and t.shape[
            t.quantization.quantized_dimension] == enc.scale.size else (spec_axes[0] if spec_axes else -1)
        if axis < 0:
            result.notes.append(f"{enc.name}: {enc.scale.size} channel encodings fit no dimension of {t.name!r} "
                                f"{list(t.shape)}; skipped")
            return False
    ref.set_quantization(enc.scale, zp, axis=axis)
    if t.is_constant and enc.bitwidth < 8:
        lo, hi = -(1 << (enc.bitwidth - 1)), (1 << (enc.bitwidth - 1)) - 1
        t.set_data(np.clip(t.data, lo, hi), keep_type=True)
    result.applied.append((enc.name, t.name))
    return True


def _follow_constraints(result: EncodingsResult, changed: set) -> None:
    """Shared-scale outputs follow their input; biases follow input x weight scale."""
    ed = result.editor
    sg = ed.sg
    for op in sg.operators:
        spec = get_spec(op.op_type) if op.op_type != "CUSTOM" else None
        if spec is None or not op.outputs:
            continue
        src = op.inputs[0] if op.inputs else -1
        out = op.outputs[0]
        if spec.same_scale and src in changed and out not in changed and sg.tensors[out].quantized:
            q = sg.tensors[src].quantization
            ed.tensor(out).set_quantization(q.scale, q.zero_point, requantize=False)
            changed.add(out)
            result.notes.append(f"{sg.tensors[out].name}: follows {sg.tensors[src].name} ({op.name} shares its scale)")
        b_pos = spec.bias_input
        if b_pos is None or b_pos >= len(op.inputs) or op.inputs[b_pos] < 0 or not spec.weight_inputs:
            continue
        x, w, b = op.inputs[0], op.inputs[spec.weight_inputs[0]], op.inputs[b_pos]
        if not ({x, w} & changed) or not sg.tensors[b].quantized:
            continue
        new = np.float32(sg.tensors[x].quantization.scale[0]) * sg.tensors[w].quantization.scale
        ed.tensor(b).set_quantization(new, 0, axis=0)
        result.notes.append(f"{sg.tensors[b].name}: bias requantized to input x weight scale")


def apply_encodings(model, encodings, names=None, strict: bool = False) -> EncodingsResult:
    """A copy of quantized `model` with the parameters of another tool's encodings.

    `names` maps encoding names to tensor names (a dict or a callable; a name may be an fnmatch
    pattern matching exactly one tensor). With strict=True an encoding that matches no tensor or
    cannot be applied raises ModelError instead of being reported in `result.unmatched`/`notes`."""
    result = EncodingsResult(Editor(model))
    changed = set()
    for enc in parse_encodings(encodings):
        ref = _resolve(result.editor, enc, names)
        if ref is None:
            result.unmatched.append(enc.name)
            continue
        if _apply_one(result, enc, ref):
            changed.add(ref.index)
    if strict and (result.unmatched or any("skipped" in n for n in result.notes)):
        raise ModelError("encodings not applied: " + "; ".join(
            [f"{n}: no tensor" for n in result.unmatched] + [n for n in result.notes if "skipped" in n]))
    _follow_constraints(result, changed)
    return result


__all__ = ["Encoding", "EncodingsResult", "apply_encodings", "parse_encodings"]
