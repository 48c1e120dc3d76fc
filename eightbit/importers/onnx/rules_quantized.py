"""Lowering of ONNX's quantized ops: QDQ, onnxruntime's QOperator ops, dynamic quantization.

All three become one form, which `quantize.qdq.fold_qdq` turns into integer TFLite ops after
the layout pass:

- QuantizeLinear -> QUANTIZE into a tensor carrying the given QuantParams (of a constant: the
  quantized constant itself); DequantizeLinear -> DEQUANTIZE (of a constant: the integer data
  with its per-axis parameters, axis -> quantized_dimension in the source layout). Types are kept
  as ONNX has them (uint8 included): the fold turns uint8 into the equivalent int8.
- QLinearConv, QLinearMatMul, QGemm, QLinearAdd/Mul, QLinearGlobalAveragePool, QLinearConcat,
  QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool, QLinearSoftmax -> DEQUANTIZE of each
  quantized input, the float op (lowered by the float rule of the matching ONNX op), QUANTIZE.
- Float rules that need their weights as numbers (Conv, Gemm, MatMul) read the dequantized
  values through `ctx.const` and make float constants of them; before each QUANTIZE the
  operators emitted since the last one are scanned and every float constant equal to a
  dequantized constant (as is, transposed or reshaped) is replaced by a DEQUANTIZE of that
  constant's integers, so the given weights and biases reach the fold unchanged.
- DynamicQuantizeLinear + MatMulInteger / ConvInteger (quantize_dynamic): the float input goes
  straight to a hybrid op (float activations, int8 weights at scale 1: the integers themselves;
  the MUL by x_scale * w_scale that follows in the ONNX graph then scales it, x_scale being 1).
"""

from __future__ import annotations

import itertools

import numpy as np

from eightbit.importers.onnx.context import OnnxNode
from eightbit.importers.onnx.rules import find_rule, rule
from eightbit.ir import Operator

MS = "com.microsoft"
_QTYPES = (np.int8, np.uint8, np.int16, np.uint16, np.int32)


# ---- QuantizeLinear / DequantizeLinear -----------------------------------------------------

def _params(ctx, node, si: int, zi: int, rank: int, what: str, axis: int | None = None):
    """(scale float32 1-D, zero point 1-D, numpy dtype, axis) of a Q/DQ node's parameter inputs."""
    if ctx.attr(node, "block_size", 0):
        raise ctx.unsupported(node, "blocked quantization (block_size) has no TFLite form")
    scale = np.asarray(ctx.require_const(node, si, f"{what} scale"), np.float32).reshape(-1)
    zp = ctx.const(node, zi)
    if ctx.has_input(node, zi) and zp is None:
        raise ctx.unsupported(node, f"{what} zero point must be a constant")
    output_dtype = int(ctx.attr(node, "output_dtype", 0))  # opset 21; without it and a zero point: uint8
    if zp is not None:
        dtype = np.dtype(zp.dtype)
    else:
        dtype = np.dtype(_onnx_dtype(output_dtype) if output_dtype else np.uint8)
    zp = np.zeros(scale.size, np.int64) if zp is None else np.asarray(zp, np.int64).reshape(-1)
    if dtype.type not in _QTYPES:
        raise ctx.unsupported(node, f"{dtype} quantization has no TFLite integer form")
    axis = int(ctx.attr(node, "axis", 1)) if axis is None else axis
    axis = axis % rank if rank else 0
    if scale.size > 1 and zp.size == 1:
        zp = np.repeat(zp, scale.size)
    return scale, zp, dtype, (axis if scale.size > 1 else 0)


def _onnx_dtype(code: int):
    from onnx import helper

    return helper.tensor_dtype_to_np_dtype(int(code))


def _quantized_const(ctx, name: str, value: np.ndarray, scale, zp, axis: int) -> int:
    value = np.asarray(value)
    return ctx.builder.tensor(ctx.unique(name), value.shape, value.dtype, data=value, scale=scale, zero_point=zp,
                              quantized_dimension=axis)


@rule("QuantizeLinear", domain=MS)  # onnxruntime's contrib Q/DQ (its 16-bit QDQ uses them)
@rule("QuantizeLinear")
def quantize_linear(ctx, node):
    relink_weights(ctx)
    rank = len(ctx.shape(node, 0))
    scale, zp, dtype, axis = _params(ctx, node, 1, 2, rank, "output")
    x = ctx.const(node, 0)
    if x is not None:  # a float constant quantized in the graph (weights of QAT exports)
        ctx.fold(node, 0, _quantize_values(np.asarray(x, np.float32), scale, zp, dtype, axis))
        return
    if scale.size > 1:
        raise ctx.unsupported(node, "per-axis quantization of an activation has no TFLite form")
    out = ctx.builder.tensor(ctx.unique(node.outputs[0]), ctx.shape(node, 0), dtype, scale=scale, zero_point=zp)
    ctx.values[node.outputs[0]] = out
    ctx.emit("QUANTIZE", [ctx.tensor(node, 0)], [out])


def _quantize_values(x, scale, zp, dtype, axis):
    """ONNX QuantizeLinear: saturate(round_half_even(x / scale) + zero_point)."""
    shape = [1] * x.ndim
    if scale.size > 1:
        shape[axis] = -1
    s = scale.reshape(shape) if x.ndim else scale.reshape(())
    z = zp.reshape(shape) if x.ndim else zp.reshape(())
    info = np.iinfo(dtype)
    return np.clip(np.rint(x / s) + z, info.min, info.max).astype(dtype)


@rule("DequantizeLinear", domain=MS)
@rule("DequantizeLinear")
def dequantize_linear(ctx, node):
    data = ctx.const(node, 0)
    rank = len(ctx.shape(node, 0))
    if data is not None:
        data = np.asarray(data)
        scale, zp, _, axis = _params(ctx, node, 1, 2, rank, "input")
        if data.dtype.type not in _QTYPES:
            raise ctx.unsupported(node, f"{data.dtype} data has no TFLite integer form")
        q = _quantized_const(ctx, node.inputs[0], data, scale, zp, axis)
    else:
        q = ctx.tensor(node, 0)
        scale, zp, _, axis = _params(ctx, node, 1, 2, rank, "input")
        _check_activation_params(ctx, node, q, scale, zp)
    out = ctx.output(node, 0, shape=ctx.shape(node, 0), dtype=np.float32)
    ctx.emit("DEQUANTIZE", [q], [out])
    if data is not None:
        ctx.consts[node.outputs[0]] = _register_real(ctx, q)


def _check_activation_params(ctx, node, q: int, scale, zp) -> None:
    """The DequantizeLinear's parameters are the quantized tensor's (set them where missing)."""
    t = ctx.ir(q)
    if t.type not in ("INT8", "UINT8", "INT16", "UINT16"):
        raise ctx.unsupported(node, f"dequantizing a {t.type} activation has no TFLite form")
    if scale.size > 1:
        raise ctx.unsupported(node, "per-axis dequantization of an activation has no TFLite form")
    if not t.quantized:
        from eightbit.ir import QuantParams

        t.quantization = QuantParams(scale, zp)
    elif not (np.array_equal(t.quantization.scale, scale) and np.array_equal(t.quantization.zero_point, zp)):
        raise ctx.unsupported(node, f"parameters differ from those '{t.name}' was quantized with")


# ---- QOperator: dequantize, the float op, quantize ------------------------------------------

def _dq(ctx, node, xi: int, si: int, zi: int, axis: int = 0) -> str:
    """A float ONNX value name for quantized input xi, made by a DEQUANTIZE (once per value);
    `axis`: the per-channel axis of a constant's 1-D scales (QOperator ops have no attribute)."""
    name = node.inputs[xi]
    fname = f"{name}__dq"
    if fname in ctx.values:
        return fname
    rank = len(ctx.shape(node, xi))
    scale, zp, _, axis = _params(ctx, node, si, zi, rank, f"input {xi}", axis)
    data = ctx.const(node, xi)
    if data is not None:
        q = _quantized_const(ctx, name, np.asarray(data), scale, zp, axis)
    else:
        q = ctx.tensor(node, xi)
        _check_activation_params(ctx, node, q, scale, zp)
    return _dq_value(ctx, q, fname, data is not None)


def _dq_value(ctx, q: int, fname: str, constant: bool) -> str:
    """Register ONNX value `fname` as DEQUANTIZE(q); a constant's real values also as its value."""
    shape = tuple(ctx.ir(q).shape)
    f = ctx.temp(shape, np.float32, fname)
    ctx.emit("DEQUANTIZE", [q], [f])
    ctx.values[fname] = f
    ctx.shapes[fname] = shape
    ctx.dtypes[fname] = np.dtype(np.float32)
    if constant:
        ctx.consts[fname] = _register_real(ctx, q)
    return fname


def _bias_dq(ctx, node, bi: int, scale) -> str:
    """A float value for an int32 bias at input_scale * weight_scale (QLinearConv, QGemm)."""
    name = node.inputs[bi]
    data = np.asarray(ctx.require_const(node, bi, "bias"))
    s = np.asarray(scale, np.float32).reshape(-1)
    axis = 0
    q = _quantized_const(ctx, name, data.astype(np.int32), s, np.zeros(s.size, np.int64), axis)
    return _dq_value(ctx, q, f"{name}__dq", True)


def _float_op(ctx, node, op_type: str, inputs: list, attrs: dict | None = None, domain: str = "") -> str:
    """Lower the float `op_type` on float value names with its own rule; returns its output name."""
    out = f"{node.outputs[0]}__f"
    ctx.shapes[out] = tuple(ctx.value_shape(node.outputs[0])) if node.outputs[0] in ctx.shapes else None
    if ctx.shapes[out] is None:
        del ctx.shapes[out]
    ctx.dtypes[out] = np.dtype(np.float32)
    attrs = dict(attrs if attrs is not None else node.attrs)
    from onnx import helper

    proto = helper.make_node(op_type, list(inputs), [out], name=node.name, domain=domain, **attrs)
    fnode = OnnxNode(op_type, domain, node.name, list(inputs), [out], attrs, proto)
    r = find_rule(op_type, domain)
    if r is None:
        raise ctx.unsupported(node, f"no rule for the float {op_type}")
    r.fn(ctx, fnode)
    return out


def _quantize_output(ctx, node, fname: str, si: int, zi: int) -> None:
    relink_weights(ctx)
    rank = len(ctx.value_shape(fname))
    scale, zp, dtype, _ = _params(ctx, node, si, zi, rank, "output")
    shape = ctx.value_shape(fname)
    out = ctx.builder.tensor(ctx.unique(node.outputs[0]), shape, dtype, scale=scale, zero_point=zp)
    ctx.values[node.outputs[0]] = out
    ctx.emit("QUANTIZE", [ctx.value_tensor(fname)], [out])


def _w_bias_scale(ctx, node, xs: int, ws: int):
    return (np.float64(np.asarray(ctx.require_const(node, xs), np.float32).reshape(-1)[0])
            * np.asarray(ctx.require_const(node, ws), np.float32).reshape(-1).astype(np.float64))


@rule("QLinearConv")
def qlinear_conv(ctx, node):
    x, w = _dq(ctx, node, 0, 1, 2), _dq(ctx, node, 3, 4, 5)
    ins = [x, w]
    if ctx.has_input(node, 8):
        ins.append(_bias_dq(ctx, node, 8, _w_bias_scale(ctx, node, 1, 4)))
    _quantize_output(ctx, node, _float_op(ctx, node, "Conv", ins), 6, 7)


@rule("QLinearMatMul")
def qlinear_matmul(ctx, node):
    a, b = _dq(ctx, node, 0, 1, 2), _dq(ctx, node, 3, 4, 5, axis=-1)
    _quantize_output(ctx, node, _float_op(ctx, node, "MatMul", [a, b], {}), 6, 7)


@rule("QGemm", domain=MS)
def qgemm(ctx, node):
    a, b = _dq(ctx, node, 0, 1, 2), _dq(ctx, node, 3, 4, 5, axis=0 if ctx.attr(node, "transB", 0) else 1)
    ins = [a, b]
    alpha = float(ctx.attr(node, "alpha", 1.0))
    if ctx.has_input(node, 6):
        ins.append(_bias_dq(ctx, node, 6, _w_bias_scale(ctx, node, 1, 4) * alpha))
    attrs = {k: v for k, v in node.attrs.items() if k in ("alpha", "transA", "transB")}
    attrs["beta"] = 1.0
    f = _float_op(ctx, node, "Gemm", ins, attrs)
    if ctx.has_input(node, 7):
        _quantize_output(ctx, node, f, 7, 8)
    else:  # no output scale: QGemm's output is float
        ctx.values[node.outputs[0]] = ctx.value_tensor(f)


def _binary(op_type: str):
    def lower(ctx, node):
        a, b = _dq(ctx, node, 0, 1, 2), _dq(ctx, node, 3, 4, 5)
        _quantize_output(ctx, node, _float_op(ctx, node, op_type, [a, b], {}), 6, 7)
    return lower


rule("QLinearAdd", domain=MS)(_binary("Add"))
rule("QLinearMul", domain=MS)(_binary("Mul"))


def _unary(op_type: str, keep=()):
    def lower(ctx, node):
        x = _dq(ctx, node, 0, 1, 2)
        attrs = {k: v for k, v in node.attrs.items() if k in keep}
        _quantize_output(ctx, node, _float_op(ctx, node, op_type, [x], attrs), 3, 4)
    return lower


rule("QLinearSigmoid", domain=MS)(_unary("Sigmoid"))
rule("QLinearLeakyRelu", domain=MS)(_unary("LeakyRelu", keep=("alpha",)))
rule("QLinearSoftmax", domain=MS)(_unary("Softmax", keep=("axis",)))
rule("QLinearAveragePool", domain=MS)(_unary(
    "AveragePool", keep=("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides")))


@rule("QLinearGlobalAveragePool", domain=MS)
def qlinear_global_average_pool(ctx, node):
    if ctx.attr(node, "channels_last", 0):
        raise ctx.unsupported(node, "channels_last=1")
    x = _dq(ctx, node, 0, 1, 2)
    _quantize_output(ctx, node, _float_op(ctx, node, "GlobalAveragePool", [x], {}), 3, 4)


@rule("QLinearConcat", domain=MS)
def qlinear_concat(ctx, node):
    n = (len(node.inputs) - 2) // 3
    xs = [_dq(ctx, node, 2 + 3 * i, 3 + 3 * i, 4 + 3 * i) for i in range(n)]
    f = _float_op(ctx, node, "Concat", xs, {"axis": ctx.attr(node, "axis")})
    _quantize_output(ctx, node, f, 0, 1)


# ---- dynamic quantization (quantize_dynamic) -------------------------------------------------

@rule("DynamicQuantizeLinear")
def dynamic_quantize_linear(ctx, node):
    """Feeds hybrid ops the float input itself: y = x, y_scale = 1, y_zero_point = 0, so the
    MUL by y_scale * w_scale after MatMulInteger / ConvInteger is the weights' scale alone."""
    users = [u for o in node.outputs[:1] for u in ctx.consumers(o)]
    if not users or any(u.op_type not in ("MatMulInteger", "ConvInteger") for u in users):
        raise ctx.unsupported(node, "its quantized output feeds ops other than MatMulInteger / ConvInteger")
    ctx.alias(node, 0, ctx.tensor(node, 0))
    ctx.fold(node, 1, np.float32(1.0))
    ctx.fold(node, 2, np.uint8(0))
    ctx.note(f"dynamic quantization: {node.label} left to the hybrid kernels (inputs quantized per row at run time)")


def _dynamic_input(ctx, node) -> str:
    p = ctx.producer(node.inputs[0])
    if p is None or p.op_type != "DynamicQuantizeLinear":
        raise ctx.unsupported(node, "input 0 is not from DynamicQuantizeLinear (only the quantize_dynamic "
                                    "pattern maps to TFLite's hybrid ops)")
    return node.inputs[0]


def _integer_weight(ctx, node, wi: int, zi: int, axis: int) -> str:
    """The constant integer weights as a float value that is exactly their integers (scale 1),
    read through a DEQUANTIZE that the fold turns into the hybrid op's int8 weight."""
    w = ctx.require_const(node, wi, "weights")
    zp = ctx.const(node, zi)
    zp = np.zeros(1, np.int64) if zp is None else np.asarray(zp, np.int64).reshape(-1)
    scale = np.ones(zp.size, np.float32)
    q = _quantized_const(ctx, node.inputs[wi], np.asarray(w), scale, zp, axis if zp.size > 1 else 0)
    return _dq_value(ctx, q, f"{node.inputs[wi]}__dq", True)


def _hybrid(op_type: str, axis: int):
    def lower(ctx, node):
        x = _dynamic_input(ctx, node)
        w = _integer_weight(ctx, node, 1, 3, axis)
        f = _float_op(ctx, node, op_type, [x, w], node.attrs if op_type == "Conv" else {})
        ctx.values[node.outputs[0]] = ctx.value_tensor(f)
        relink_weights(ctx)
    return lower


rule("MatMulInteger")(_hybrid("MatMul", axis=1))
rule("ConvInteger")(_hybrid("Conv", axis=0))


# ---- float constants back to the integers they were dequantized from ------------------------

def _register_real(ctx, q: int) -> np.ndarray:
    """The real values (q - zp) * scale of quantized constant q, float32, remembered by size."""
    t = ctx.ir(q)
    qp = t.quantization
    data = t.data.astype(np.float64)
    shape = [1] * data.ndim
    if qp.scale.size > 1:
        shape[qp.quantized_dimension] = -1
    s = qp.scale.astype(np.float64).reshape(shape if data.ndim else ())
    z = qp.zero_point.astype(np.float64).reshape(shape if data.ndim else ())
    real = ((data - z) * s).astype(np.float32)
    ctx.__dict__.setdefault("_qdq_reals", {}).setdefault(real.size, []).append((real, q))
    return real


def relink_weights(ctx) -> None:
    """Operators emitted since the last call read DEQUANTIZE(integers) instead of float constants
    equal to dequantized constants (the float rules made them from `ctx.const`)."""
    reals = ctx.__dict__.get("_qdq_reals")
    ops = ctx.builder.sg.operators
    k = ctx.__dict__.get("_qdq_scanned", 0)
    while reals and k < len(ops):
        op = ops[k]
        for pos, t in enumerate(op.inputs if op.op_type not in ("QUANTIZE", "DEQUANTIZE") else ()):
            c = ctx.ir(t) if t >= 0 else None
            if c is None or c.type != "FLOAT32" or not c.is_constant:
                continue
            found = _match(ctx, reals.get(c.data.size, ()), c.data)
            if found is None:  # a slice of a larger one (a group of a grouped convolution)
                found = _match_slice(ctx, [e for n, es in reals.items() if n > c.data.size
                                           and n % c.data.size == 0 for e in es], c.data)
            if found is not None:
                f = ctx.temp(c.shape, np.float32, c.name)
                ops.insert(k, Operator("DEQUANTIZE", [found], [f]))
                k += 1
                op.inputs[pos] = f
        k += 1
    ctx.__dict__["_qdq_scanned"] = len(ops)


def _match(ctx, candidates, data: np.ndarray) -> int | None:
    """A quantized constant (new when moved) whose real values are `data`, as is, transposed or
    reshaped, with its per-channel axis following; None when there is none."""
    for real, q in candidates:
        t = ctx.ir(q)
        qp = t.quantization
        if real.shape == data.shape and np.array_equal(real, data):
            return q
        if real.ndim == data.ndim and real.ndim <= 4:
            for perm in itertools.permutations(range(real.ndim)):
                moved = np.transpose(real, perm)
                if moved.shape == data.shape and np.array_equal(moved, data):
                    axis = perm.index(qp.quantized_dimension) if qp.per_channel else 0
                    return _quantized_const(ctx, t.name, np.transpose(t.data, perm), qp.scale, qp.zero_point, axis)
        if np.array_equal(real.reshape(-1), data.reshape(-1)):
            axis = _reshaped_axis(real.shape, data.shape, qp)
            if axis is not None:
                return _quantized_const(ctx, t.name, t.data.reshape(data.shape), qp.scale, qp.zero_point, axis)
    return None


def _match_slice(ctx, candidates, data: np.ndarray) -> int | None:
    for real, q in candidates:
        part = _slice_of(real, data)
        if part is not None:
            t = ctx.ir(q)
            qp = t.quantization
            per = qp.per_channel and qp.quantized_dimension == 0
            return _quantized_const(ctx, t.name, t.data[part], qp.scale[part] if per else qp.scale,
                                    qp.zero_point[part] if per else qp.zero_point, 0)
    return None


def _slice_of(real: np.ndarray, data: np.ndarray):
    """The slice along axis 0 of `real` (at a multiple of its length) equal to `data`, or None."""
    n = data.shape[0] if data.ndim else 0
    if not n or real.ndim != data.ndim or real.shape[1:] != data.shape[1:] or real.shape[0] % n or real.shape[0] == n:
        return None
    for k in range(0, real.shape[0], n):
        if np.array_equal(real[k:k + n], data):
            return slice(k, k + n)
    return None


def _reshaped_axis(old: tuple, new: tuple, qp) -> int | None:
    if not qp.per_channel:
        return 0
    before = int(np.prod(old[:qp.quantized_dimension]))
    for j in range(len(new)):
        if int(np.prod(new[:j])) == before and new[j] == old[qp.quantized_dimension]:
            return j
    return None
