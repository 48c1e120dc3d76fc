"""Graph rewrites around `quantize.qdq.fold_qdq`, and the helpers it shares with them.

Before the fold: same-scale ops run on integers get their input's parameters; uint8 / uint16
become int8 / int16 and asymmetric int16 becomes symmetric (listed); DEQUANTIZE(constant) ->
TRANSPOSE / RESHAPE becomes DEQUANTIZE(moved constant); QUANTIZE moves above float reshapes.
After it: hybrid ops absorb the scale MUL and bias ADD of onnxruntime's dynamic pattern; an
int16 range that started at 0 keeps its clamp as a RELU.
"""

from __future__ import annotations

import numpy as np

from eightbit.ir import QuantParams, Subgraph, Tensor
from eightbit.kernels.registry import get_spec
from eightbit.passes.graph import add_tensor, new_op

BIAS_TYPES = ("INT32", "INT64")
_MOVEMENT = ("TRANSPOSE", "RESHAPE", "SQUEEZE", "EXPAND_DIMS")
# Integer kernels that apply a fused activation (CONCATENATION, for one, rejects it).
FUSED_RELU_OK = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL")


def fmt_params(qp: QuantParams | None, type_: str = "") -> str:
    if qp is None or not qp.is_quantized:
        return f"{type_} (no parameters)".strip()
    n = qp.scale.size
    s = [float(f"{v:.6g}") for v in qp.scale[:3]]
    z = qp.zero_point[:3].tolist()
    more = "..." if n > 3 else ""
    axis = f" axis={qp.quantized_dimension}" if n > 1 else ""
    return f"{type_} scale={s if n > 1 else s[0]}{more} zp={z if n > 1 else z[0]}{more}{axis}".strip()


def note_changed(notes: list, t: Tensor, old: QuantParams | None, old_type: str, why: str) -> None:
    notes.append(f"changed '{t.name}': {fmt_params(old, old_type)} -> {fmt_params(t.quantization, t.type)} ({why})")


def qparams(scale, zp, axis: int = 0) -> QuantParams:
    return QuantParams(np.asarray(scale, np.float32), np.asarray(zp, np.int64), axis)


def same_params(a: Tensor, b: Tensor) -> bool:
    return a.type == b.type and a.quantization == b.quantization


def real_values(t: Tensor) -> np.ndarray:
    """The real values of a quantized constant: (q - zp) * scale, per channel where given."""
    qp = t.quantization
    q = t.data.astype(np.float64)
    shape = [1] * q.ndim
    if qp.scale.size > 1:
        shape[qp.quantized_dimension] = -1
    s = qp.scale.astype(np.float64).reshape(shape if q.ndim else ())
    z = qp.zero_point.astype(np.float64).reshape(shape if q.ndim else ())
    return ((q - z) * s).astype(np.float32)


def new_const(sg: Subgraph, like: Tensor, data: np.ndarray, type_: str, qp: QuantParams | None) -> int:
    i = add_tensor(sg, like.name, data.shape, type_, qp, like=like)
    sg.tensors[i].set_data(np.asarray(data), keep_type=True)
    sg.tensors[i].name = like.name  # the replaced constant is pruned; the name stays the source's
    return i


def normalize_types(sg: Subgraph, notes: list, keep_uint8: bool = False) -> set:
    """uint8 -> int8 and uint16 -> int16 with the same real values (zero point shifted); int16
    with a zero point != 0 -> symmetric int16 (TFLite's int16x8 kernels need zero point 0).
    Returns the activations whose old range started at exactly 0: quantizing clamped them at 0
    (onnxruntime drops a ReLU there), which the symmetric range no longer does."""
    edge = set(sg.inputs) | set(sg.outputs)
    shifted = 0
    floor_zero = set()
    for i, t in enumerate(sg.tensors):
        if not t.quantized or i in edge:
            continue
        if t.type == "UINT16" or (t.type == "UINT8" and not keep_uint8):
            signed, offset = ("INT8", 128) if t.type == "UINT8" else ("INT16", 32768)
            if t.is_constant:
                t.set_data((t.data.astype(np.int64) - offset).astype(np.dtype(signed.lower())), keep_type=False)
            t.type = signed
            t.quantization = qparams(t.quantization.scale, t.quantization.zero_point - offset,
                                 t.quantization.quantized_dimension)
            shifted += 1
        if t.type == "INT16" and np.any(t.quantization.zero_point != 0):
            old = t.quantization
            real = real_values(t) if t.is_constant else None
            if real is None and old.scale.size == 1 and int(old.zero_point[0]) == -32768:
                floor_zero.add(i)
            lo = (-32768 - old.zero_point.astype(np.float64)) * old.scale
            hi = (32767 - old.zero_point.astype(np.float64)) * old.scale
            scale = (np.maximum(np.abs(lo), np.abs(hi)) / 32767).astype(np.float32)
            t.quantization = qparams(scale, np.zeros(scale.size), old.quantized_dimension)
            if real is not None:
                t.set_data(np.clip(np.round(real / _bcast(scale, real.ndim, old)), -32767, 32767).astype(np.int16),
                           keep_type=True)
            note_changed(notes, t, old, "INT16", "TFLite's int16 kernels need zero point 0")
    if shifted:
        notes.append(f"{shifted} uint8/uint16 tensor(s) stored as int8/int16 (zero point shifted, same real values)")
    return floor_zero


def keep_zero_floor(sg: Subgraph, floor_zero: set, notes: list) -> None:
    """The clamp at 0 that an int16 range starting at 0 made (see normalize_types) as a fused
    RELU of the producing op, or a RELU op after it."""
    prod = {t: op for op in sg.operators for t in op.outputs if t >= 0}
    for t in sorted(floor_zero):
        op = prod.get(t)
        if op is None or op.op_type == "RELU":
            continue
        spec = get_spec(op.op_type)
        if spec is not None and spec.same_scale or op.op_type in ("LOGISTIC", "SOFTMAX"):
            continue  # passes its inputs' values on (they carry their own clamps), or is never negative
        name = sg.tensors[t].name
        if op.op_type in FUSED_RELU_OK and op.options.get("fused_activation_function", None) == 0:
            op.options["fused_activation_function"] = 1  # RELU
            notes.append(f"kept the clamp at 0 of '{name}' (int16 zero point -32768) as a fused RELU")
            continue
        y = sg.tensors[t]
        r = add_tensor(sg, y.name + "_unclamped", y.shape, y.type, qparams(y.quantization.scale, y.quantization.zero_point),
                       like=y)
        op.outputs = [r if o == t else o for o in op.outputs]
        sg.operators.insert(sg.operators.index(op) + 1, new_op("RELU", [r], [t]))
        notes.append(f"kept the clamp at 0 of '{name}' (int16 zero point -32768) as a RELU")


def _bcast(scale: np.ndarray, ndim: int, qp: QuantParams) -> np.ndarray:
    if scale.size == 1 or ndim == 0:
        return scale.reshape(())
    shape = [1] * ndim
    shape[qp.quantized_dimension] = -1
    return scale.reshape(shape)


def fold_constant_movement(sg: Subgraph) -> None:
    """DEQUANTIZE(constant) -> TRANSPOSE/RESHAPE/... becomes DEQUANTIZE(moved constant), so the
    weight reaches its op as a constant (e.g. a MatMul weight [K, N] made [N, K])."""
    prod = {t: op for op in sg.operators for t in op.outputs if t >= 0}
    for op in sg.operators:
        if op.op_type not in _MOVEMENT:
            continue
        dq = prod.get(op.inputs[0])
        if dq is None or dq.op_type != "DEQUANTIZE" or not sg.tensors[dq.inputs[0]].is_constant:
            continue
        if any(t >= 0 and not sg.tensors[t].is_constant for t in op.inputs[1:]):
            continue
        src = sg.tensors[dq.inputs[0]]
        out = sg.tensors[op.outputs[0]]
        moved = _moved(src, op, sg, tuple(out.shape))
        if moved is None:
            continue
        data, axis = moved
        qp = qparams(src.quantization.scale, src.quantization.zero_point, axis)
        c = new_const(sg, src, data, src.type, qp)
        op.op_type, op.inputs, op.options, op.options_type = "DEQUANTIZE", [c], {}, None
        prod = {t: o for o in sg.operators for t in o.outputs if t >= 0}


def _moved(src: Tensor, op, sg: Subgraph, out_shape: tuple):
    data, qp = src.data, src.quantization
    axis = qp.quantized_dimension
    if op.op_type == "TRANSPOSE":
        perm = [int(v) for v in sg.tensors[op.inputs[1]].data.reshape(-1)]
        return np.transpose(data, perm), (perm.index(axis) if qp.per_channel else 0)
    new = data.reshape(out_shape)
    if not qp.per_channel:
        return new, 0
    before = int(np.prod(data.shape[:axis]))
    for j in range(len(out_shape)):
        if int(np.prod(out_shape[:j])) == before and out_shape[j] == data.shape[axis]:
            return new, j
    return None


def hoist_quantize(sg: Subgraph) -> None:
    """float x -> RESHAPE / TRANSPOSE / ... -> QUANTIZE becomes QUANTIZE -> the same op on
    integers (quantizing is elementwise, so this is exact): onnxruntime's QOperator models
    flatten a float input before quantizing it."""
    changed = True
    while changed:
        changed = False
        readers: dict = {}
        for op in sg.operators:
            for t in op.inputs:
                if t >= 0:
                    readers.setdefault(t, []).append(op)
        dequantized = {op.outputs[0] for op in sg.operators if op.op_type == "DEQUANTIZE"}
        for op in sg.operators:
            if op.op_type not in _MOVEMENT or op.outputs[0] in sg.outputs or op.inputs[0] in dequantized:
                continue
            x, y = sg.tensors[op.inputs[0]], op.outputs[0]
            users = readers.get(y, [])
            if x.type != "FLOAT32" or x.is_constant or len(users) != 1 or users[0].op_type != "QUANTIZE":
                continue
            quant = users[0]
            q_out = sg.tensors[quant.outputs[0]]
            q_in = add_tensor(sg, x.name + "_quantized", x.shape, q_out.type,
                              qparams(q_out.quantization.scale, q_out.quantization.zero_point), like=x)
            quant.inputs, quant.outputs = [op.inputs[0]], [q_in]
            op.inputs[0], op.outputs[0] = q_in, sg.tensors.index(q_out)
            k = sg.operators.index(op)
            sg.operators.remove(quant)
            sg.operators.insert(k, quant)
            changed = True
            break


def propagate_integer_params(sg: Subgraph) -> None:
    """Same-scale ops run directly on integer tensors (onnxruntime's QOperator MaxPool, Reshape,
    Transpose ...) give their unquantized outputs the input's parameters."""
    for op in sg.operators:
        spec = get_spec(op.op_type)
        if spec is None or not spec.same_scale or not op.inputs or op.inputs[0] < 0:
            continue
        first = next((t for p, t in enumerate(op.inputs) if t >= 0 and p not in spec.non_float_inputs), -1)
        src = sg.tensors[first] if first >= 0 else None
        if src is None or not src.quantized or src.type not in ("INT8", "UINT8", "INT16"):
            continue
        for t in op.outputs:
            out = sg.tensors[t] if t >= 0 else None
            if out is not None and out.type == src.type and not out.quantized:
                out.quantization = qparams(src.quantization.scale, src.quantization.zero_point)


def absorb_hybrid_scales(sg: Subgraph, hybrids: list) -> None:
    """hybrid op (weights at scale s) -> MUL by a positive constant m -> ADD of a constant c
    (onnxruntime's dynamic MatMulInteger / ConvInteger pattern) becomes the hybrid op alone, with
    weight scales s * m and bias (bias * m + c): TFLite's hybrid kernels do that arithmetic."""
    for op in hybrids:
        spec = get_spec(op.op_type)
        if spec.bias_input is None or op.options.get("fused_activation_function", 0) != 0:
            continue
        w = sg.tensors[op.inputs[spec.weight_inputs[0]]]
        channels = w.shape[spec.weight_channel_axis or 0]
        nxt = _sole_reader(sg, op.outputs[0])
        m = _channel_constant(sg, nxt, "MUL", op.outputs[0], channels)
        if m is None or np.any(m <= 0):
            continue
        scales = (np.broadcast_to(w.quantization.scale, (channels,)) * m).astype(np.float32)
        if w.quantization.scale.size == 1 and np.all(scales == scales[0]):
            scales = scales[:1]
        axis = spec.weight_channel_axis if spec.weight_channel_axis is not None else 0
        w.quantization = qparams(scales, np.zeros(scales.size), axis % len(w.shape) if scales.size > 1 else 0)
        bias = _bias_values(sg, op, spec, channels) * m
        op.outputs = [nxt.outputs[0]]
        sg.operators.remove(nxt)
        add = _sole_reader(sg, op.outputs[0])
        c = _channel_constant(sg, add, "ADD", op.outputs[0], channels)
        if c is not None:
            bias = bias + c
            op.outputs = [add.outputs[0]]
            sg.operators.remove(add)
        b = add_tensor(sg, sg.tensors[op.outputs[0]].name + "_bias", (channels,))
        sg.tensors[b].set_data(bias.astype(np.float32))
        while len(op.inputs) <= spec.bias_input:
            op.inputs.append(-1)
        op.inputs[spec.bias_input] = b


def _sole_reader(sg: Subgraph, t: int):
    if t in sg.outputs:
        return None
    users = [op for op in sg.operators if t in op.inputs]
    return users[0] if len(users) == 1 else None


def _channel_constant(sg: Subgraph, op, op_type: str, x: int, channels: int) -> np.ndarray | None:
    """The per-channel values of `op` = op_type(x, constant) when the constant only varies along
    the last axis (or is a scalar), else None."""
    if op is None or op.op_type != op_type or len(op.inputs) != 2 or op.options.get("fused_activation_function", 0):
        return None
    other = op.inputs[1] if op.inputs[0] == x else op.inputs[0]
    c = sg.tensors[other]
    if not c.is_constant or c.type != "FLOAT32" or c.data.size not in (1, channels):
        return None
    if c.data.size == channels and c.data.ndim and c.data.shape[-1] != channels:
        return None
    return np.broadcast_to(c.data.reshape(-1).astype(np.float64), (channels,))


def _bias_values(sg: Subgraph, op, spec, channels: int) -> np.ndarray:
    b = op.inputs[spec.bias_input] if len(op.inputs) > spec.bias_input else -1
    if b < 0 or not sg.tensors[b].is_constant:
        return np.zeros(channels)
    return sg.tensors[b].data.astype(np.float64).reshape(-1)


