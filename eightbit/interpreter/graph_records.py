"""The records of the whole-graph runner's program (graph_runner.py), one per operator.

`record_for` prepares the operator with its reference kernel (kernels/registry.py) and lays the
reference params out as the int64 record eightbit/kernels/fast/graph_ops.py reads (field order:
the comments there). It gives None for anything the compiled loops do not reproduce bit for bit
(then the whole model keeps the operator-by-operator plan): other types, grouped convolutions,
non-constant filters, broadcasting ADDs, multipliers outside requant.fits, ...
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.padding import compute_padding_height_width

CONST_AS_ACTIVATION = ("ADD", "CONCATENATION")  # operators that read a constant operand from the arena
_Q8 = {np.dtype(np.int8): 0, np.dtype(np.uint8): 1}


def covers(runner, op) -> bool:
    """A first look, before numba is imported: an operator type (and, for the 8-bit tables, an
    input type) the records may cover."""
    if op.inputs and all(i < 0 or i in runner.constants for i in op.inputs):
        return True  # folded at build (graph_runner._fold_constants) when its inputs are constants
    if op.op_type not in _MAKERS:
        return False
    if op.op_type in _ELEMENTWISE and op.op_type != "QUANTIZE":
        return bool(op.inputs) and op.inputs[0] >= 0 and np.dtype(runner.dtypes[op.inputs[0]]) in _Q8
    return True


def record_for(runner, k, op, layout):
    """(record, multiply-adds) of operator k, or None."""
    from eightbit.kernels.fast import graph_api as g
    from eightbit.kernels.registry import get_kernel

    ref = get_kernel(op.op_type)
    make = _MAKERS.get(op.op_type)
    kernel = runner.kernels[k]
    if make is None or ref is None or not (isinstance(kernel, type) and issubclass(kernel, ref)):
        return None
    if any(i >= 0 and runner.dtypes[i] != runner.dtypes[op.inputs[0]] for i in op.outputs[:1]) \
            and op.op_type not in ("SOFTMAX", "CONCATENATION") + _ELEMENTWISE:
        return None
    try:
        params = ref.prepare(runner.op_context(k))
    except Exception:  # noqa: BLE001 - the plan prepared it; anything odd here just means "not covered"
        return None
    return make(g, runner, op, params, layout)


def _shape(runner, i):
    return runner.shapes[i]


def _const(layout, op, pos):
    """The constant at input position pos (the model's, or folded at build), None when omitted;
    False when it is not a constant."""
    if len(op.inputs) <= pos or op.inputs[pos] < 0:
        return None
    return layout.constants.get(op.inputs[pos], False)


def _requant_fields(layout, p, oc):
    from eightbit.kernels.fast.requant import fits, split_shift

    mult = np.broadcast_to(np.asarray(p.mult, np.int64), (oc,))
    shift = np.broadcast_to(np.asarray(p.shift, np.int64), (oc,))
    if not fits(mult, shift):
        return None
    left, right = split_shift(shift)
    c = layout.consts
    return [int(p.in_zp), c.add(mult), c.add(left), c.add(right), int(p.out_zp), int(p.lo), int(p.hi)]


def _conv_geometry(runner, op, p, kh, kw):
    n, h, wd, c = _shape(runner, op.inputs[0])
    sh, sw = p.stride
    dh, dw = p.dilation
    geo = compute_padding_height_width(sh, sw, dh, dw, h, wd, kh, kw, p.padding)
    return [n, h, wd, c], [sh, sw, dh, dw, geo.height, geo.width, geo.out_height, geo.out_width]


def _conv(g, runner, op, p, layout):
    w, b = _const(layout, op, 1), _const(layout, op, 2)
    if w is None or w is False or b is False or len(_shape(runner, op.inputs[0])) != 4:
        return None
    oc, kh, kw, fin = w.shape
    nhwc, geo = _conv_geometry(runner, op, p, kh, kw)
    if fin != nhwc[3] or tuple(_shape(runner, op.outputs[0])) != (nhwc[0], geo[-2], geo[-1], oc):
        return None  # grouped convolution, or shapes the plan would reject at eval
    macs = nhwc[0] * geo[-2] * geo[-1] * oc * kh * kw * fin
    return _conv_like(g, layout, op, p, np.asarray(w).reshape(oc, -1).T, b, nhwc + [oc, kh, kw] + geo,
                      (g.CONV_F32, g.CONV_Q), macs)


def _depthwise(g, runner, op, p, layout):
    w, b = _const(layout, op, 1), _const(layout, op, 2)
    if w is None or w is False or b is False or len(_shape(runner, op.inputs[0])) != 4:
        return None
    _, kh, kw, oc = w.shape
    nhwc, geo = _conv_geometry(runner, op, p, kh, kw)
    if nhwc[3] == 0 or oc % nhwc[3] or tuple(_shape(runner, op.outputs[0])) != (nhwc[0], geo[-2], geo[-1], oc):
        return None
    macs = nhwc[0] * geo[-2] * geo[-1] * oc * kh * kw
    return _conv_like(g, layout, op, p, np.asarray(w).reshape(kh * kw, oc), b, nhwc + [oc, kh, kw] + geo,
                      (g.DW_F32, g.DW_Q), macs)


def _conv_like(g, layout, op, p, wmat, b, shape_fields, codes, macs):
    """CONV_2D / DEPTHWISE_CONV_2D record: weights re-laid out (K x OC, or taps x OC)."""
    c = layout.consts
    x_off, y_off = layout.offsets[op.inputs[0]], layout.offsets[op.outputs[0]]
    if p.kind == "float":
        if not np.all(np.isfinite(wmat)):
            return None  # the reference multiplies padding zeros by the filter: inf * 0 = NaN there
        b_off = -1 if b is None else c.add(np.asarray(b, np.float32))
        head = [codes[0], 0, x_off, c.add(np.asarray(wmat, np.float32)), b_off, y_off]
        return _finish(head + shape_fields + [layout.floats(*p.clamp)]), macs
    if p.kind not in ("int8", "uint8") or p.int64_acc:
        return None
    flag = _Q8.get(np.dtype(p.out_dtype))
    fields = _requant_fields(layout, p, wmat.shape[1])
    if flag is None or fields is None:
        return None
    b_off = -1 if b is None else c.add(np.asarray(b, np.int64))
    wq = (np.asarray(wmat, np.int64) - int(p.wzp)).astype(np.int32)
    head = [codes[1], 0, x_off, c.add(wq), b_off, y_off]
    return _finish(head + shape_fields + fields + [flag]), macs


def _fully_connected(g, runner, op, p, layout):
    w, b = _const(layout, op, 1), _const(layout, op, 2)
    if w is None or w is False or b is False:
        return None
    units, depth = w.shape
    size = int(np.prod(_shape(runner, op.inputs[0]), dtype=np.int64))
    if depth == 0 or size % depth:
        return None
    rows = size // depth
    if int(np.prod(_shape(runner, op.outputs[0]), dtype=np.int64)) != rows * units:
        return None
    c = layout.consts
    x_off, y_off = layout.offsets[op.inputs[0]], layout.offsets[op.outputs[0]]
    if p.kind == "float":
        b_off = -1 if b is None else c.add(np.asarray(b, np.float32))
        wt = np.ascontiguousarray(np.asarray(w, np.float32).T)
        return _finish([g.FC_F32, 0, x_off, c.add(wt), b_off, y_off, rows, depth, units,
                        layout.floats(*p.clamp)]), rows * depth * units
    flag = _Q8.get(np.dtype(p.out_dtype))
    if p.kind not in ("int8", "uint8") or p.int64_acc or flag is None:
        return None
    b_off = -1 if b is None else c.add(np.asarray(b, np.int64))
    wq = (np.asarray(w, np.int64) - int(p.wzp)).T.astype(np.int32)
    scale = np.broadcast_to(np.asarray(p.effective_scale, np.float64), (units,))
    return _finish([g.FC_Q, 0, x_off, c.add(wq), b_off, y_off, rows, depth, units, int(p.in_zp), c.add(scale),
                    int(p.out_zp), int(p.lo), int(p.hi), flag]), rows * depth * units


def _pool(g, runner, op, p, layout):
    shape = _shape(runner, op.inputs[0])
    if len(shape) != 4:
        return None
    n, h, wd, c = shape
    geo = compute_padding_height_width(p.stride_h, p.stride_w, 1, 1, h, wd, p.filter_h, p.filter_w, p.padding)
    oh, ow = max(geo.out_height, 0), max(geo.out_width, 0)
    if tuple(_shape(runner, op.outputs[0])) != (n, oh, ow, c):
        return None
    if op.op_type == "AVERAGE_POOL_2D" and not _windows_cover(geo, oh, ow, p, h, wd):
        return None  # the reference raises on an empty window
    fields = [layout.offsets[op.inputs[0]], layout.offsets[op.outputs[0]], n, h, wd, c, p.filter_h, p.filter_w,
              p.stride_h, p.stride_w, geo.height, geo.width, oh, ow]
    is_max = op.op_type == "MAX_POOL_2D"
    if p.float:
        return _finish([g.MAXPOOL_F32 if is_max else g.AVGPOOL_F32, 0] + fields + [layout.floats(*p.clamp)]), n * oh * ow * c
    flag = _Q8.get(np.dtype(p.dtype))
    if flag is None:
        return None
    return _finish([g.MAXPOOL_Q if is_max else g.AVGPOOL_Q, 0] + fields + [int(p.clamp[0]), int(p.clamp[1]), flag]), \
        n * oh * ow * c


def _windows_cover(geo, oh, ow, p, h, wd) -> bool:
    def ok(out, stride, pad, filt, size):
        return all(min(filt, size - (o * stride - pad)) > max(0, pad - o * stride) for o in range(out))

    return ok(oh, p.stride_h, geo.height, p.filter_h, h) and ok(ow, p.stride_w, geo.width, p.filter_w, wd)


def _reshape(g, runner, op, p, layout):
    from eightbit.kernels.registry import get_kernel

    x, y = op.inputs[0], op.outputs[0]
    if runner.dtypes[x] != runner.dtypes[y] or layout.nbytes(x) != layout.nbytes(y):
        return None
    args = [None if i < 0 else layout.constants.get(i, False) for i in op.inputs[1:]]
    if any(a is False for a in args):
        return None  # a shape computed at run time
    try:  # the checks the reference makes at eval (an axis out of range, a size that does not fit)
        out = get_kernel(op.op_type).eval(p, np.zeros(runner.shapes[x], runner.dtypes[x]), *args)
    except Exception:  # noqa: BLE001 - the plan raises the reference's error at invoke
        return None
    if tuple(out.shape) != tuple(runner.shapes[y]):
        return None
    return _finish([g.COPY, 0, layout.offsets[x], layout.offsets[y], layout.nbytes(x)]), 0


def _softmax(g, runner, op, p, layout):
    from eightbit.kernels.activations import SoftmaxFloat, SoftmaxQ8

    shape = _shape(runner, op.inputs[0])
    depth = int(shape[-1]) if shape else 1
    size = int(np.prod(shape, dtype=np.int64))
    rows = size // depth if depth else 0
    head = [layout.offsets[op.inputs[0]], layout.offsets[op.outputs[0]], rows, depth]
    if isinstance(p, SoftmaxFloat):
        from eightbit.kernels.fast import graph_api

        if not graph_api.depth_ok(depth) or not graph_api.exp_matches_numpy():
            return None
        return _finish([g.SOFTMAX_F32, 0] + head + [layout.floats(p.beta)]), size
    x_dtype = np.dtype(runner.dtypes[op.inputs[0]])
    if not isinstance(p, SoftmaxQ8) or np.dtype(p.out_dtype) != x_dtype or x_dtype not in _Q8:
        return None
    from eightbit.kernels.fast.softmax import _tables

    exps, terms, valid = _tables(p)
    info = np.iinfo(x_dtype)
    c = layout.consts
    return _finish([g.SOFTMAX_Q8, 0] + head + [c.add(np.asarray(exps, np.int64)), c.add(np.asarray(terms, np.int64)),
                                               c.add(np.asarray(valid, np.int64)), info.bits, int(info.min),
                                               int(info.max), _Q8[x_dtype]]), size


def _add(g, runner, op, p, layout):
    from eightbit.kernels.opdata import AddSubQuant, Plain

    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    shape = tuple(_shape(runner, a))
    if tuple(_shape(runner, b)) != shape or tuple(_shape(runner, y)) != shape:
        return None
    dt = np.dtype(runner.dtypes[a])
    if runner.dtypes[b] != dt or runner.dtypes[y] != dt:
        return None
    size = int(np.prod(shape, dtype=np.int64))
    head = [layout.offsets[a], layout.offsets[b], layout.offsets[y], size]
    if isinstance(p, Plain):
        if dt != np.float32 or p.clamp is None:
            return None
        return _finish([g.ADD_F32, 0] + head + [layout.floats(*p.clamp)]), size
    if not isinstance(p, AddSubQuant) or p.left_shift != 20 or dt not in _Q8:
        return None
    shifts = (p.in1.shift, p.in2.shift, p.out.shift)
    if max(shifts) > 0 or min(shifts) < -31:
        return None
    packed = [p.in1.offset, p.in1.multiplier, -p.in1.shift, p.in2.offset, p.in2.multiplier, -p.in2.shift,
              p.out.zero_point, p.out.multiplier, -p.out.shift, p.out.lo, p.out.hi]
    return _finish([g.ADD_Q, 0] + head + [int(v) for v in packed] + [_Q8[dt]]), size


# Operators whose output element depends on the input element alone (and on constants): on an
# 8-bit input, the reference eval of all 256 values is the whole operator.
_ELEMENTWISE = ("RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU",
                "ELU", "ABS", "NEG", "QUANTIZE", "DEQUANTIZE", "GELU", "EXP", "CAST", "SQUARE")


def _elementwise(g, runner, op, p, layout):
    from eightbit.kernels.registry import get_kernel

    x, y = op.inputs[0], op.outputs[0]
    xd, yd = np.dtype(runner.dtypes[x]), np.dtype(runner.dtypes[y])
    if xd == np.float32 and op.op_type == "QUANTIZE":
        return _quantize_float(g, runner, op, p, layout)
    args = [None if i < 0 else layout.constants.get(i, False) for i in op.inputs[1:]]
    if xd not in _Q8 or yd.itemsize not in (1, 4) or any(a is False for a in args) \
            or tuple(runner.shapes[x]) != tuple(runner.shapes[y]) or _per_channel(runner, x) or _per_channel(runner, y):
        return None  # (per-channel parameters: the same value maps differently along an axis)
    shape = runner.shapes[x]
    size = int(np.prod(shape, dtype=np.int64))
    values = np.arange(256, dtype=np.uint8).view(xd)
    table = np.empty(256, yd)
    kernel = get_kernel(op.op_type)
    try:
        with np.errstate(all="ignore"):
            for start in range(0, 256, size):  # every value, whatever the tensor's size
                feed = np.resize(values[start:start + size], size)
                out = np.asarray(kernel.eval(p, feed.reshape(shape), *args)).reshape(-1)
                if out.dtype != yd or out.size != size:
                    return None
                idx = feed.view(np.uint8).astype(np.int64)
                table[idx] = out
                if not np.array_equal(table[idx].view(np.uint8), out.view(np.uint8)):
                    return None  # not elementwise after all
    except Exception:  # noqa: BLE001 - a value the reference rejects (run time error): keep the plan
        return None
    raw = table.view(np.uint8 if yd.itemsize == 1 else np.uint32)
    return _finish([g.LUT8, 0, layout.offsets[x], layout.offsets[y], size, layout.consts.add(raw), yd.itemsize]), size


def _per_channel(runner, i) -> bool:
    q = runner.sg.tensors[i].quantization
    return q is not None and (np.size(q.scale) > 1 or np.size(q.zero_point) > 1)


def _quantize_float(g, runner, op, p, layout):
    from eightbit.kernels.quantize import AffineQuantize

    yd = np.dtype(runner.dtypes[op.outputs[0]])
    if not isinstance(p, AffineQuantize) or p.affine.axis is not None or yd not in _Q8:
        return None
    size = int(np.prod(runner.shapes[op.inputs[0]], dtype=np.int64))
    return _finish([g.QUANTIZE_F32, 0, layout.offsets[op.inputs[0]], layout.offsets[op.outputs[0]], size,
                    layout.floats(p.affine.scale), int(p.affine.zero_point), p.lo, p.hi, _Q8[yd]]), size


def _mean(g, runner, op, p, layout):
    from eightbit.kernels.fast.requant import fits, split_shift
    from eightbit.kernels.reduce import _axes

    x, y = op.inputs[0], op.outputs[0]
    axis = _const(layout, op, 1)
    if axis is None or axis is False:
        return None
    shape = runner.shapes[x]
    try:
        axes = _axes(axis, len(shape))
    except ValueError:
        return None  # the reference raises at eval
    if not axes or list(axes) != list(range(axes[0], axes[-1] + 1)):
        return None  # no axes, or axes that are not adjacent
    outer = int(np.prod(shape[:axes[0]], dtype=np.int64))
    mid = int(np.prod(shape[axes[0]:axes[-1] + 1], dtype=np.int64))
    inner = int(np.prod(shape[axes[-1] + 1:], dtype=np.int64))
    if int(np.prod(runner.shapes[y], dtype=np.int64)) != outer * inner:
        return None
    head = [layout.offsets[x], layout.offsets[y], outer, mid, inner]
    if p.type == "FLOAT32" and not p.quant:
        return _finish([g.MEAN_F32, 0] + head), outer * mid * inner
    dt = np.dtype(p.dtype)
    if not p.quant or dt not in _Q8:
        return None
    # QuantizedMeanOrSum's integer adjustment of the multiplier for 1/mid (reduce.py), done once
    s = min(mid.bit_length() - 1, 32, 31 + p.shift)
    mult, shift = (p.multiplier << s) // mid, p.shift - s
    if not fits([mult], [shift]):
        return None
    left, right = split_shift([shift])
    info = np.iinfo(dt)
    return _finish([g.MEAN_Q, 0] + head + [mult, int(left[0]), int(right[0]), p.zp_in * mid, p.zp_out,
                                           int(info.min), int(info.max), _Q8[dt]]), outer * mid * inner


def _concatenation(g, runner, op, p, layout):
    if p.tables is not None and any(t is not None for t in p.tables):
        return None  # uint8 inputs requantized to the output's parameters
    y = op.outputs[0]
    shape = runner.shapes[y]
    axis = p.axis
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    item = np.dtype(runner.dtypes[y]).itemsize
    fields = [g.CONCAT, 0, layout.offsets[y], outer, len(op.inputs)]
    total = 0
    for i in op.inputs:
        if i < 0 or runner.dtypes[i] != runner.dtypes[y]:
            return None
        chunk = int(np.prod(runner.shapes[i][axis:], dtype=np.int64)) * item
        fields += [layout.offsets[i], chunk]
        total += chunk
    if total * outer != layout.nbytes(y):
        return None
    return _finish(fields), 0


def _finish(fields: list) -> list:
    fields[1] = len(fields)
    return [int(v) for v in fields]


_MAKERS = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _depthwise,
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool,
    "MAX_POOL_2D": _pool,
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "EXPAND_DIMS": _reshape,
    "SOFTMAX": _softmax,
    "ADD": _add,
    "MEAN": _mean,
    "CONCATENATION": _concatenation,
    **{name: _elementwise for name in _ELEMENTWISE},
}
