"""Static checks of a quantized model against TFLite's quantization spec (the op table, eightbit.ops).

Kernels such as MAX_POOL_2D, RESHAPE or CONCATENATION (int8) copy integers without rescaling:
they rely on the output sharing the input's scale and zero point. When a model breaks that
(a hand-edited or badly converted file) it still runs, and every value after the op is misread.
SOFTMAX, LOGISTIC, TANH... have a fixed output quantization the kernels assume.
"""

from __future__ import annotations

from eightbit.debug.metrics import is_quantized
from eightbit.ir import Model
from eightbit.ops.table import spec as op_spec


def _params(t):
    q = t.quantization
    return float(q.scale[0]), int(q.zero_point[0]) if q.zero_point.size else 0


def _differ(a, b) -> bool:
    return a[1] != b[1] or abs(a[0] - b[0]) > 1e-6 * max(abs(a[0]), abs(b[0]))


def spec_warnings(model: Model) -> list:
    """One line per operator of subgraph 0 whose quantization breaks a constraint its integer
    kernel relies on."""
    sg = model.main
    out = []
    for k, op in enumerate(sg.operators):
        spec = op_spec(op.op_type)
        if spec is None or not op.outputs or op.outputs[0] < 0:
            continue
        o = sg.tensors[op.outputs[0]]
        if not is_quantized(o) or o.quantization.scale.size != 1:
            continue
        where = f"operator {k} ({op.name}) output {o.name.split(';')[0]!r}"
        if spec.same_scale:
            if "all" in spec.same_scale_inputs:
                positions = [p for p, i in enumerate(op.inputs) if i >= 0]
            else:
                positions = [0, *spec.same_scale_inputs]
            for p in positions:
                if p >= len(op.inputs) or op.inputs[p] < 0:
                    continue
                t = sg.tensors[op.inputs[p]]
                if t.is_constant or not is_quantized(t) or t.quantization.scale.size != 1 or t.type != o.type:
                    continue
                if _differ(_params(t), _params(o)):
                    s_in, z_in = _params(t)
                    s_out, z_out = _params(o)
                    out.append(f"{where}: scale/zero point {s_out:.6g}/{z_out} differ from input {p}'s "
                               f"{s_in:.6g}/{z_in}; TFLite's {op.name} does not rescale, so the values are misread")
        if spec.fixed_output and o.type in spec.fixed_output:
            want = spec.fixed_output[o.type]
            if _differ((float(want[0]), int(want[1])), _params(o)):
                s, z = _params(o)
                out.append(f"{where}: {o.type} output quantization {s:.6g}/{z}, but {op.name}'s is fixed at "
                           f"{want[0]:.6g}/{want[1]}")
    return out


__all__ = ["spec_warnings", "op_spec"]
