"""to_nhwc: NCHW graphs (as importers emit them) rewritten to NHWC.

Numeric tests: a hand-built NCHW graph (tests/passes/layout_net.py) whose ops torch computes in
NCHW, run through to_nhwc and then in eightbit's Interpreter and in LiteRT's reference kernels;
outputs must match torch's (transposed where the output became NHWC). Structural tests check
which TRANSPOSE operators remain.
"""

from __future__ import annotations

import numpy as np
import pytest

from eightbit.passes.layout import to_nhwc
from tests.oracle import run_eightbit, run_litert
from tests.passes.layout_net import Net

NHWC = (0, 2, 3, 1)


def _cnn(n):
    x = n.input((2, 3, 9, 9))
    y = n.conv(x, 6, act=1)
    y = n.depthwise(y, mult=2, stride=2)
    y = n.conv(y, 8, k=1, padding="VALID")
    return [x], [n.pool(y, "AVERAGE")]


def _grouped_dilated(n):
    x = n.input((1, 4, 10, 10))
    y = n.conv(x, 8, groups=2)
    return [x], [n.conv(y, 4, dilation=2, padding="VALID")]


def _transpose_conv(n):
    x = n.input((1, 4, 5, 5))
    return [x], [n.transpose_conv(n.conv(x, 3), 2)]


def _residual_concat(n):
    x = n.input((1, 4, 8, 8))
    a = n.conv(x, 4)
    s = n.binary("ADD", a, x)
    b = n.unary("HARD_SWISH", n.conv(s, 2, k=1))
    return [x], [n.concat([s, b, n.unary("LOGISTIC", a)], axis=1)]


def _bias_broadcast(n):
    x = n.input((1, 3, 6, 6))
    y = n.conv(x, 5)
    scale = n.const(np.linspace(0.5, 2, 5).reshape(5, 1, 1))  # [C, 1, 1] broadcasts against [N, C, H, W]
    y = n.binary("MUL", y, scale)
    y = n.binary("ADD", y, n.const(np.float32(0.25)))
    return [x], [n.binary("MAXIMUM", y, n.const(np.zeros((1, 5, 1, 6))))]


def _flatten_fc(n):
    x = n.input((2, 3, 6, 6))
    y = n.pool(n.conv(x, 4), "MAX")
    return [x], [n.fc(n.reshape(y, (2, 4 * 3 * 3)), 5)]  # flatten needs the channel-first order


def _flatten_shared(n):
    x = n.input((2, 3, 4, 4))
    flat = n.reshape(n.conv(x, 2), (2, 32))  # also an output: its element order must be the source's
    return [x], [n.fc(flat, 3), flat]


def _global_pool_flatten(n):
    x = n.input((2, 3, 6, 6))
    y = n.reduce("MEAN", n.conv(x, 7), [2, 3], keep=True)
    return [x], [n.fc(n.reshape(y, (2, 7)), 3)]  # only size-1 axes move: no TRANSPOSE needed


def _reductions(n):
    x = n.input((1, 4, 6, 5))
    y = n.conv(x, 6)
    return [x], [n.reduce("SUM", y, [1], keep=True), n.reduce("REDUCE_MAX", y, [1, 3]), n.reduce("MEAN", y, [3])]


def _resize_d2s(n):
    x = n.input((1, 8, 4, 4))
    up = n.resize(n.conv(x, 8), 2, "nearest")
    bi = n.resize(x, 2, "bilinear")
    d2s = n.depth_to_space(n.conv(x, 8), 2)
    return [x], [n.concat([up, bi, d2s], axis=1)]


def _channel_softmax(n):
    x = n.input((1, 5, 4, 4))
    y = n.conv(x, 6)
    # softmax over channels, lowered as the contract says: transpose, softmax, transpose back
    s = n.transpose(n.softmax(n.transpose(y, (0, 2, 3, 1))), (0, 3, 1, 2))
    return [x], [n.conv(s, 2)]


def _pad_then_conv(n):
    x = n.input((1, 3, 6, 6))
    y = n.conv(x, 4)
    y = n.pad(y, [[0, 0], [0, 0], [1, 2], [2, 1]])  # ONNX explicit pads become PAD + VALID conv
    return [x], [n.conv(y, 4, padding="VALID")]


def _transposed_output(n):
    x = n.input((1, 3, 4, 4))
    y = n.conv(x, 2)
    return [x], [n.transpose(y, (0, 3, 2, 1)), y]


def _conv1d(n):
    x = n.input((2, 3, 10))  # [N, C, L]: lowered as EXPAND_DIMS -> CONV_2D (1 x k) -> SQUEEZE
    y = n.squeeze(n.conv_hw(n.expand_dims(x, 2), 4, 1, 3), [2])
    y = n.binary("ADD", y, n.const(np.linspace(-1, 1, 4).reshape(4, 1)))  # [C, 1] broadcasts on [N, C, L]
    y = n.squeeze(n.conv_hw(n.expand_dims(n.unary("RELU", y), 2), 5, 1, 3), [2])
    return [x], [y]


def _slices(n):
    x = n.input((1, 4, 8, 6))
    y = n.conv(x, 6)
    a = n.strided_slice(y, [0, 1, 0, 0], [1, 5, 8, 6], [1, 1, 2, 1])  # channels 1..4, every other row
    b = n.slice(y, [0, 2, 0, 0], [1, 4, 4, 6])
    rows = n.strided_slice(y, [0, 0, 3, 0], [1, 6, 4, 6], [1, 1, 1, 1], shrink=4)  # one row: [N, C, W]
    return [x], [n.conv(n.concat([a, b], axis=1), 3), rows]


def _split_glu(n):
    x = n.input((1, 4, 5, 5))
    a, b = n.split(n.conv(x, 8), 2, axis=1)
    c, d, e = n.split_v(n.conv(n.binary("MUL", a, n.unary("LOGISTIC", b)), 6), [1, 2, 3], axis=1)
    return [x], [n.concat([e, c, d], axis=1), n.padv2(c, [[0, 0], [0, 1], [1, 0], [2, 2]], -1.5)]


def _pack_gather(n):
    x = n.input((1, 3, 4, 4))
    y = n.conv(x, 3)
    planes = n.unpack(y, axis=1)  # three [N, H, W] planes
    z = n.pack([planes[2], planes[0], planes[1]], axis=1)
    g = n.gather(n.conv(z, 4), [3, 1, 2], axis=1)
    one = n.gather(y, 1, axis=2)  # a scalar index drops the axis: [N, C, W]
    return [x], [n.conv(g, 2), one, n.tile(g, [1, 2, 1, 2])]


def _segmentation_head(n):
    x = n.input((1, 3, 6, 6))
    logits = n.conv(x, 5)
    return [x], [n.arg_max(logits, 1), n.reduce("MEAN", logits, [1], keep=True)]


def _squeeze_excite(n):
    x = n.input((1, 8, 5, 5))
    y = n.conv(x, 8)
    s = n.unary("LOGISTIC", n.conv(n.unary("RELU", n.conv(n.reduce("MEAN", y, [2, 3], keep=True), 2, k=1)), 8, k=1))
    return [x], [n.binary("MUL", y, s)]


def _swapped_axes(n):
    x = n.input((1, 2, 4, 6))
    y = n.transpose(n.conv(x, 3), (0, 1, 3, 2))  # swap H and W: composes with the layout, no op left
    return [x], [n.conv(y, 2), n.transpose(y, (0, 2, 3, 1))]


def _patch_embedding(n):
    x = n.input((1, 3, 8, 8))
    y = n.conv(x, 6, k=2, stride=2, padding="VALID")  # ViT-style patches: [N, C, 4, 4]
    tokens = n.transpose(n.reshape(y, (1, 6, 16)), (0, 2, 1))  # flatten(2).transpose(1, 2): [N, 16, C]
    return [x], [n.fc(n.unary("RELU", tokens), 5)]


def _channel_split_reshape(n):
    x = n.input((1, 4, 3, 5))
    y = n.conv(x, 6)
    groups = n.reshape(y, (1, 2, 3, 3, 5))  # split channels into 2 groups of 3: [N, G, C/G, H, W]
    return [x], [n.reduce("SUM", groups, [2]), n.reshape(n.unary("TANH", groups), (1, 6, 15))]


CASES = {f.__name__[1:]: f for f in (
    _patch_embedding, _channel_split_reshape,
    _conv1d, _slices, _split_glu, _pack_gather, _segmentation_head, _squeeze_excite, _swapped_axes,
    _cnn, _grouped_dilated, _transpose_conv, _residual_concat, _bias_broadcast, _flatten_fc, _flatten_shared,
    _global_pool_flatten,
    _reductions, _resize_d2s, _channel_softmax, _pad_then_conv, _transposed_output)}


def _convert(case, io_layout):
    n = Net(seed=1)
    ins, outs = CASES[case](n)
    model = n.build(ins, outs)
    inserted = to_nhwc(model, io_layout=io_layout)
    return n, ins, outs, model, inserted


def _edge(value, nhwc):
    v = value.numpy()
    return v.transpose(NHWC) if nhwc and v.ndim == 4 else v


@pytest.mark.parametrize("io_layout", ["NHWC", "keep"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_torch(case, io_layout):
    n, ins, outs, model, _ = _convert(case, io_layout)
    sg = model.main
    nhwc_in = [io_layout == "NHWC" and tuple(sg.tensors[t].shape) != tuple(n.v(s).shape) for t, s in zip(sg.inputs, ins)]
    feeds = [_edge(n.v(s), f) for s, f in zip(ins, nhwc_in)]
    data = model.to_bytes()
    for got_all in (run_eightbit(data, feeds), run_litert(data, feeds)):
        for got, src in zip(got_all, outs):
            want = n.v(src).numpy()
            if got.shape != want.shape:
                assert io_layout == "NHWC" and want.ndim == 4
                want = want.transpose(NHWC)
            np.testing.assert_allclose(got, want, atol=2e-4 * max(1.0, float(np.abs(want).max())), rtol=0)


@pytest.mark.parametrize("case, io_layout, transposes", [
    ("cnn", "NHWC", 0), ("cnn", "keep", 2), ("residual_concat", "NHWC", 0), ("bias_broadcast", "NHWC", 0),
    ("global_pool_flatten", "NHWC", 0), ("flatten_fc", "NHWC", 0), ("flatten_shared", "NHWC", 1), ("channel_softmax", "NHWC", 0),
    ("resize_d2s", "NHWC", 0), ("reductions", "NHWC", 1), ("pad_then_conv", "NHWC", 0),
    ("segmentation_head", "NHWC", 0), ("squeeze_excite", "NHWC", 0), ("split_glu", "NHWC", 0),
    ("swapped_axes", "NHWC", 1), ("conv1d", "keep", 2), ("conv1d", "NHWC", 2), ("patch_embedding", "NHWC", 0),
])
def test_transposes_only_where_layout_changes(case, io_layout, transposes):
    _, _, _, model, inserted = _convert(case, io_layout)
    ops = [op.op_type for op in model.main.operators]
    assert ops.count("TRANSPOSE") == transposes == inserted, ops


def test_io_names_and_shapes():
    _, ins, outs, model, _ = _convert("transposed_output", "NHWC")
    sg = model.main
    assert [sg.tensors[t].name for t in sg.inputs] == ["x1"]
    assert sg.tensors[sg.inputs[0]].shape == (1, 4, 4, 3)
    names = [sg.tensors[t].name for t in sg.outputs]
    assert names == ["transpose6", "conv_2d4"]
    assert [sg.tensors[t].shape for t in sg.outputs] == [(1, 4, 4, 2), (1, 4, 4, 2)]
    assert not any(op.extra.get("layout") for op in sg.operators)


def test_keep_io_leaves_edges_as_source():
    n, ins, outs, model, _ = _convert("cnn", "keep")
    sg = model.main
    assert sg.tensors[sg.inputs[0]].shape == (2, 3, 9, 9)
    assert sg.tensors[sg.outputs[0]].shape == tuple(n.v(outs[0]).shape)


def test_rejects_unknown_io_layout():
    with pytest.raises(ValueError, match="io_layout"):
        to_nhwc(Net().build([], []), io_layout="NCHW")


def _int8_weight(n, shape, axis):
    w = n.rng.integers(-127, 128, shape).astype(np.int8)
    scales = np.linspace(0.01, 0.05, shape[axis]).astype(np.float32)
    t = n.b.tensor(n._name("w"), shape, np.int8, data=w, scale=scales, zero_point=np.zeros(shape[axis]),
                   quantized_dimension=axis)
    real = w.astype(np.float32) * scales.reshape([-1 if d == axis else 1 for d in range(len(shape))])
    return t, real


@pytest.mark.parametrize("op_type, wshape, axis, new_shape, new_axis", [
    ("CONV_2D", (4, 3, 3, 3), 0, (4, 3, 3, 3), 0),
    ("DEPTHWISE_CONV_2D", (6, 1, 3, 3), 0, (1, 3, 3, 6), 3),
    ("TRANSPOSE_CONV", (3, 5, 2, 2), 1, (5, 2, 2, 3), 0),
])
def test_per_channel_int8_weights_behind_dequantize(op_type, wshape, axis, new_shape, new_axis):
    """A QDQ weight (int8 constant -> DEQUANTIZE) is permuted at the constant, its axis follows."""
    import torch
    import torch.nn.functional as F

    n = Net(seed=3)
    cin = wshape[0] if op_type == "TRANSPOSE_CONV" else (3 if op_type == "CONV_2D" else 6)
    x = n.input((1, cin, 5, 5))
    w, real = _int8_weight(n, wshape, axis)
    wf = n.b.tensor("w_float", wshape)
    n.b.op("DEQUANTIZE", [w], [wf])
    tw = torch.from_numpy(real)
    if op_type == "TRANSPOSE_CONV":
        y = F.conv_transpose2d(n.v(x), tw, None, 2)
        shape = n.const(np.asarray(y.shape, np.int32), np.int32)
        out = n.op(op_type, [shape, wf, x], y, {"padding": 1, "stride_w": 2, "stride_h": 2}, "TransposeConvOptions",
                   layout=True)
    else:
        groups = 6 if op_type == "DEPTHWISE_CONV_2D" else 1
        b = n.const(np.zeros(wshape[0]))
        y = F.conv2d(n.v(x), tw, None, 1, 1, 1, groups)
        opts = {"padding": 0, "stride_w": 1, "stride_h": 1}
        if groups > 1:
            opts["depth_multiplier"] = 1
        out = n.op(op_type, [x, wf, b], y, opts, "Conv2DOptions" if groups == 1 else "DepthwiseConv2DOptions",
                   layout=True)
    model = n.build([x], [out])
    to_nhwc(model)
    sg = model.main
    weights = [t for t in sg.tensors if t.type == "INT8"]
    assert len(weights) == 1 and weights[0].shape == new_shape
    assert weights[0].quantization.quantized_dimension == new_axis
    assert [op.op_type for op in sg.operators] == ["DEQUANTIZE", op_type]
    got = run_eightbit(model.to_bytes(), [n.v(x).numpy().transpose(NHWC)])[0]
    np.testing.assert_allclose(got, y.numpy().transpose(NHWC), atol=1e-4)


def test_graph_without_channel_first_ops_is_unchanged():
    n = Net()
    x = n.input((2, 5))
    y = n.reduce("SUM", n.unary("RELU", n.fc(x, 4)), [1], keep=True)
    model = n.build([x], [y])
    before = [(op.op_type, list(op.inputs), list(op.outputs)) for op in model.main.operators]
    assert to_nhwc(model) == 0
    assert [(op.op_type, list(op.inputs), list(op.outputs)) for op in model.main.operators] == before


def test_before_expected_flatten():
    """Before: NCHW conv -> flatten -> FC. Expected: NHWC conv with an OHWI filter, the flatten of
    the NHWC data, and the FC's weight columns reordered to match (no TRANSPOSE)."""
    from eightbit.ir.builder import ModelBuilder
    from tests.passes.helpers import assert_same_graph

    w = np.arange(2 * 3 * 1 * 1, dtype=np.float32).reshape(2, 3, 1, 1)
    fc_w = np.arange(4 * 2 * 2 * 2, dtype=np.float32).reshape(4, 8)
    conv_opts = {"padding": 1, "stride_w": 1, "stride_h": 1}

    def graph(x_shape, w_value, fc_value, nhwc):
        b = ModelBuilder()
        x = b.tensor("x", x_shape)
        c = b.tensor("conv", (1, 2, 2, 2))
        b.op("CONV_2D", [x, b.const("w", w_value), b.const("b", np.zeros(2, np.float32))], [c], conv_opts,
             "Conv2DOptions", extra={} if nhwc else {"layout": "NCHW"})
        f = b.tensor("flat", (1, 8))
        b.op("RESHAPE", [c, b.const("shape", np.asarray([1, 8], np.int32))], [f], {"new_shape": [1, 8]},
             "ReshapeOptions")
        y = b.tensor("y", (1, 4))
        b.op("FULLY_CONNECTED", [f, b.const("fc_w", fc_value), b.const("fc_b", np.zeros(4, np.float32))], [y])
        return b.inputs(x).outputs(y).build()

    before = graph((1, 3, 2, 2), w, fc_w, nhwc=False)
    assert to_nhwc(before) == 0
    fc_nhwc = fc_w.reshape(4, 2, 2, 2).transpose(0, 2, 3, 1).reshape(4, 8)  # columns in H, W, C order
    assert_same_graph(before, graph((1, 2, 2, 3), w.transpose(0, 2, 3, 1), fc_nhwc, nhwc=True))


def test_before_expected_axes_remapped():
    """Before: NCHW conv -> CONCATENATION(axis=1) with the input -> MEAN(axes=[2, 3], keep) -> TRANSPOSE
    (0, 2, 3, 1) as a graph output. Expected: concat on axis 3, MEAN over [1, 2], the TRANSPOSE absorbed
    (the output is already in the order it asks for), the input NHWC."""
    from eightbit.ir.builder import ModelBuilder
    from tests.passes.helpers import assert_same_graph

    w = np.arange(2 * 2, dtype=np.float32).reshape(2, 2, 1, 1)
    conv_opts = {"padding": 1, "stride_w": 1, "stride_h": 1}

    def graph(nhwc):
        b = ModelBuilder()
        x = b.tensor("x", (1, 3, 3, 2) if nhwc else (1, 2, 3, 3))
        c = b.tensor("conv", (1, 3, 3, 2) if nhwc else (1, 2, 3, 3))
        b.op("CONV_2D", [x, b.const("w", w.transpose(0, 2, 3, 1) if nhwc else w),
                         b.const("b", np.zeros(2, np.float32))], [c], conv_opts, "Conv2DOptions",
             extra={} if nhwc else {"layout": "NCHW"})
        cat = b.tensor("cat", (1, 3, 3, 4) if nhwc else (1, 4, 3, 3))
        b.op("CONCATENATION", [c, x], [cat], {"axis": 3 if nhwc else 1}, "ConcatenationOptions")
        m = b.tensor("mean", (1, 1, 1, 4) if nhwc else (1, 4, 1, 1))
        b.op("MEAN", [cat, b.const("axes", np.asarray([1, 2] if nhwc else [2, 3], np.int32))], [m],
             {"keep_dims": True}, "ReducerOptions")
        if nhwc:
            return b.inputs(x).outputs(m).build()
        y = b.tensor("mean_nhwc", (1, 1, 1, 4))
        b.op("TRANSPOSE", [m, b.const("perm", np.asarray([0, 2, 3, 1], np.int32))], [y])
        return b.inputs(x).outputs(y).build()

    before = graph(nhwc=False)
    assert to_nhwc(before) == 0
    expected = graph(nhwc=True)
    expected.main.tensors[expected.main.outputs[0]].name = "mean_nhwc"  # the output keeps the source's name
    assert_same_graph(before, expected)
