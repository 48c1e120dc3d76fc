"""`eightbit verify`: a quantized model checked against TFLite's quantization specification.

Any producer's model (TF's converter, ours, onnx2tf, a hand edit) is checked operator by
operator, against the rules TFLite's kernels and its quantization spec rely on:

- scales positive and finite; zero points inside the type's range; int16 zero points 0;
- per-axis parameters: `quantized_dimension` inside the rank, one scale and zero point per index;
- int8 weights symmetric (zero point 0) with values in [-127, 127], per channel on the axis the op
  expects; uint8 weights (legacy TOCO models) only with uint8 activations;
- biases int32 (int64 allowed with int16 activations), zero point 0, scale = input scale x weight
  scale within TFLite's own tolerance (kernel_util.cc: |a - b| <= 1e-6 * min(a, b));
- fixed output parameters (LOGISTIC, SOFTMAX, TANH, LOG_SOFTMAX...) and shared parameters
  (pooling, reshape, concatenation...) as the op table states them;
- no integer operator at version 1 where TFLite's converter gives the types it uses a later one.

Each violation names the operator (index, type), the tensor (input/output position, name) and
the rule; nothing is fixed or changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.ir import Model
from eightbit.kernels.registry import get_spec
from eightbit.quantize.versions import op_version

ZERO_POINT_RANGE = {"INT8": (-128, 127), "UINT8": (0, 255), "INT16": (0, 0), "INT32": (0, 0), "INT64": (0, 0),
                    "INT4": (-8, 7)}
BIAS_TOLERANCE = 1e-6  # TFLite's GetQuantizedConvolutionMultipler check


@dataclass(frozen=True)
class Violation:
    subgraph: int
    op_index: int | None  # None: a tensor-level rule not tied to one operator
    op_type: str | None
    tensor: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"op {self.op_index} {self.op_type}" if self.op_index is not None else "model"
        if self.subgraph:
            where = f"subgraph {self.subgraph} {where}"
        return f"{where}: {self.message}"


def shared_scale_inputs(spec, op) -> list[int]:
    """Positions of the operator's inputs that must share its output's parameters (present ones)."""
    positions = range(len(op.inputs)) if "all" in spec.same_scale_inputs else [0, *spec.same_scale_inputs]
    return [p for p in positions if p < len(op.inputs) and op.inputs[p] >= 0]


def _short(name: str, width: int = 60) -> str:
    name = name.split(";")[0]
    return name if len(name) <= width else name[: width - 3] + "..."


class _Checker:
    def __init__(self, model: Model):
        self.model = model
        self.found: list[Violation] = []

    def add(self, sgi, k, op, tensor, rule, msg):
        self.found.append(Violation(sgi, k, op.name if op is not None else None,
                                    tensor.name if tensor is not None else None, rule, msg))

    # -- per tensor ------------------------------------------------------------------------
    def tensor_params(self, sgi, k, op, t, role):
        q = t.quantization
        if q is None or not q.is_quantized:
            return
        label = f"{role} {_short(t.name)!r}"
        if not np.all(np.isfinite(q.scale)) or np.any(q.scale <= 0):
            self.add(sgi, k, op, t, "scale", f"{label}: scale {q.scale[:4].tolist()} must be positive and finite")
        if q.zero_point.size not in (0, q.scale.size):
            self.add(sgi, k, op, t, "per_axis", f"{label}: {q.scale.size} scales but {q.zero_point.size} zero points")
        if q.scale.size > 1:
            rank = len(t.shape)
            if not 0 <= q.quantized_dimension < max(rank, 1):
                self.add(sgi, k, op, t, "per_axis",
                         f"{label}: quantized_dimension {q.quantized_dimension} outside rank {rank}")
            elif rank and t.shape[q.quantized_dimension] != q.scale.size:
                self.add(sgi, k, op, t, "per_axis",
                         f"{label}: {q.scale.size} scales for dimension {q.quantized_dimension} of size "
                         f"{t.shape[q.quantized_dimension]}")
        lo_hi = ZERO_POINT_RANGE.get(t.type)
        if lo_hi and q.zero_point.size and (q.zero_point.min() < lo_hi[0] or q.zero_point.max() > lo_hi[1]):
            bad = q.zero_point[(q.zero_point < lo_hi[0]) | (q.zero_point > lo_hi[1])][:4].tolist()
            want = "0" if lo_hi == (0, 0) else f"in [{lo_hi[0]}, {lo_hi[1]}]"
            self.add(sgi, k, op, t, "zero_point", f"{label}: {t.type} zero point {bad} must be {want}")

    # -- per operator ----------------------------------------------------------------------
    def weights(self, sgi, k, op, spec, sg):
        act = self.activation_type(sg, op)
        for pos in spec.weight_inputs:
            if pos >= len(op.inputs) or op.inputs[pos] < 0:
                continue
            w = sg.tensors[op.inputs[pos]]
            if not w.quantized or w.type not in ("INT8", "UINT8", "INT4"):
                continue
            label = f"weight input {pos} {_short(w.name)!r}"
            q = w.quantization
            if w.type == "UINT8":
                if act != "UINT8":
                    self.add(sgi, k, op, w, "weight_type",
                             f"{label}: uint8 weights need uint8 activations (legacy models); with {act} "
                             "activations TFLite takes int8 symmetric weights")
                continue
            if q.zero_point.size and np.any(q.zero_point != 0):
                self.add(sgi, k, op, w, "weight_symmetric",
                         f"{label}: zero point {q.zero_point[:4].tolist()} must be 0 (symmetric weights)")
            data = w.data
            if w.type == "INT8" and data is not None and data.size and int(data.min()) < -127:
                self.add(sgi, k, op, w, "weight_range",
                         f"{label}: holds -128; TFLite's int8 weights are in [-127, 127]")
            axis = spec.weight_channel_axis
            if q.scale.size > 1 and axis is not None and q.quantized_dimension != axis:
                self.add(sgi, k, op, w, "weight_axis",
                         f"{label}: per-channel on dimension {q.quantized_dimension}, {op.name} expects {axis}")

    def bias(self, sgi, k, op, spec, sg):
        b_pos = spec.bias_input
        if b_pos is None or b_pos >= len(op.inputs) or op.inputs[b_pos] < 0 or not op.inputs:
            return
        bias = sg.tensors[op.inputs[b_pos]]
        if not bias.quantized:
            return
        x = sg.tensors[op.inputs[0]] if op.inputs[0] >= 0 else None
        w_pos = spec.weight_inputs[0] if spec.weight_inputs else 1
        w = sg.tensors[op.inputs[w_pos]] if w_pos < len(op.inputs) and op.inputs[w_pos] >= 0 else None
        label = f"bias input {b_pos} {_short(bias.name)!r}"
        act = self.activation_type(sg, op)
        allowed = ("INT32", "INT64") if act == "INT16" else ("INT32",)
        if bias.type not in allowed:
            self.add(sgi, k, op, bias, "bias_type", f"{label}: {bias.type} bias, {act} activations take "
                     f"{' or '.join(a.lower() for a in allowed)}")
        if x is None or w is None or not x.quantized or not w.quantized:
            return
        want = np.float64(x.quantization.scale[0]) * w.quantization.scale.astype(np.float64)
        have = bias.quantization.scale.astype(np.float64)
        if have.size not in (1, want.size) or (want.size > 1 and have.size == 1 and want.size != 1):
            self.add(sgi, k, op, bias, "bias_scale", f"{label}: {have.size} scales for {want.size} weight scales")
            return
        bad = np.abs(have - want) > BIAS_TOLERANCE * np.minimum(have, want)
        if np.any(bad):
            i = int(np.argmax(bad))
            self.add(sgi, k, op, bias, "bias_scale",
                     f"{label}: scale {have.flat[min(i, have.size - 1)]:.8g} is not input scale x weight scale "
                     f"{want.flat[min(i, want.size - 1)]:.8g} (channel {i}; TFLite rejects a relative difference "
                     f"over {BIAS_TOLERANCE:g})")

    @staticmethod
    def activation_type(sg, op) -> str:
        for i in op.inputs:
            if i >= 0 and not sg.tensors[i].is_constant:
                return sg.tensors[i].type
        return sg.tensors[op.outputs[0]].type if op.outputs and op.outputs[0] >= 0 else "NOTYPE"

    def fixed_and_shared(self, sgi, k, op, spec, sg):
        if not op.outputs or op.outputs[0] < 0:
            return
        o = sg.tensors[op.outputs[0]]
        if not o.quantized or o.quantization.scale.size != 1:
            return
        s_out, z_out = float(o.quantization.scale[0]), int(o.quantization.zero_point[0])
        label = f"output {_short(o.name)!r}"
        if spec.fixed_output and o.type in spec.fixed_output:
            s_want, z_want = spec.fixed_output[o.type]
            if z_out != z_want or abs(s_out - s_want) > 1e-6 * s_want:
                self.add(sgi, k, op, o, "fixed_output", f"{label}: {o.type} parameters {s_out:.6g}/{z_out}, "
                         f"{op.name} requires {s_want:.6g}/{z_want}")
        if not spec.same_scale or o.type == "UINT8":  # the uint8 kernels rescale
            return
        for p in shared_scale_inputs(spec, op):
            t = sg.tensors[op.inputs[p]]
            if t.is_constant or not t.quantized or t.quantization.scale.size != 1 or t.type != o.type:
                continue
            s_in, z_in = float(t.quantization.scale[0]), int(t.quantization.zero_point[0])
            if z_in != z_out or abs(s_in - s_out) > 1e-6 * max(s_in, s_out):
                self.add(sgi, k, op, o, "shared_scale",
                         f"{label}: parameters {s_out:.6g}/{z_out} differ from input {p} {_short(t.name)!r} "
                         f"{s_in:.6g}/{z_in}; {op.name} does not rescale")

    def version(self, sgi, k, op, sg):
        try:
            need = op_version(sg, op)
        except Exception as e:  # noqa: BLE001 - a rule that cannot judge this op must say so
            self.add(sgi, k, op, None, "version", f"version rules could not judge it: {type(e).__name__}: {e}")
            return
        # Only version 1 on an integer op is judged: converters disagree on the exact version of
        # later type additions (TF's own int16x8 files carry lower versions than op_version.cc
        # gives), but version 1 always names the float-only kernel of an op that gained integer
        # support later, which older runtimes then refuse or misrun.
        if need > 1 and op.version == 1 and self.activation_type(sg, op) in ("INT8", "INT16"):
            self.add(sgi, k, op, None, "version",
                     f"version 1 with {self.activation_type(sg, op).lower()} tensors: TFLite gives it "
                     f"version {need} (version 1 is the float kernel's)")

    def run(self) -> list[Violation]:
        for sgi, sg in enumerate(self.model.subgraphs):
            checked = set()
            for k, op in enumerate(sg.operators):
                for role, idx in [*((f"input {p}", i) for p, i in enumerate(op.inputs)),
                                  *((f"output {p}", i) for p, i in enumerate(op.outputs))]:
                    if idx >= 0 and idx not in checked:
                        checked.add(idx)
                        self.tensor_params(sgi, k, op, sg.tensors[idx], role)
                if op.op_type == "CUSTOM":
                    continue
                spec = get_spec(op.op_type)
                if spec is not None:
                    self.weights(sgi, k, op, spec, sg)
                    self.bias(sgi, k, op, spec, sg)
                    self.fixed_and_shared(sgi, k, op, spec, sg)
                self.version(sgi, k, op, sg)
        return self.found


def check_spec(model: Model) -> list[Violation]:
    """Every way `model` breaks TFLite's quantization spec (empty: it conforms)."""
    return _Checker(model).run()


__all__ = ["Violation", "check_spec", "shared_scale_inputs"]
