"""The whole-graph runner (interpreter/graph_runner.py, kernels/fast/graph*.py): small models run as
one compiled call, bit for bit equal to kernels="reference" (whose arithmetic the conformance and
fuzz tests hold to LiteRT's reference kernels), and LiteRT itself on the bundled digits model.
Every case first asserts that the graph runner took the model, so a silent fallback fails."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.kernels.fast import HAVE_NUMBA
from tests.oracle import run_litert, single_op_model

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="the graph runner needs numba")

RNG = np.random.default_rng(12)


def _interp(raw, **kw):
    it = eightbit.Interpreter(model_content=raw, num_threads=1, **kw)
    it.allocate_tensors()
    return it


def _run(it, xs):
    for d, x in zip(it.get_input_details(), xs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def _random_input(d):
    if d["dtype"] == np.float32:
        return RNG.uniform(-2, 2, d["shape"]).astype(np.float32)
    info = np.iinfo(d["dtype"])
    return RNG.integers(info.min, info.max + 1, d["shape"]).astype(d["dtype"])


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


def assert_graph_equals_reference(raw, invokes=3, inputs=None):
    ours, ref = _interp(raw), _interp(raw, kernels="reference")
    assert ours._runner._graph is not None, "the graph runner did not take the model"
    assert ref._runner._graph is None
    for _ in range(invokes):
        xs = inputs or [_random_input(d) for d in ours.get_input_details()]
        for a, b in zip(_run(ours, xs), _run(ref, xs)):
            _same_bits(a, b)
    return ours


@pytest.fixture(scope="module")
def small_models():
    from benchmarks.small_models import digits_float, digits_int8, op_chain

    return {"digits_float": digits_float(), "digits_int8": digits_int8(), "op_chain": op_chain(20)}


@pytest.mark.parametrize("name", ["digits_float", "digits_int8", "op_chain"])
def test_small_models_equal_reference(small_models, name):
    assert_graph_equals_reference(small_models[name], invokes=5)


def test_digits_float_against_litert(small_models):
    it = _interp(small_models["digits_float"])
    x = RNG.uniform(0, 1, (1, 8, 8, 1)).astype(np.float32)
    want = run_litert(small_models["digits_float"], [x])[0]
    np.testing.assert_allclose(_run(it, [x])[0], want, rtol=1e-5, atol=1e-6)


def test_digits_int8_against_litert(small_models):
    it = _interp(small_models["digits_int8"])
    x = RNG.integers(-128, 128, (1, 8, 8, 1)).astype(np.int8)
    np.testing.assert_array_equal(_run(it, [x])[0], run_litert(small_models["digits_int8"], [x])[0])


def test_two_interpreters_and_changing_inputs(small_models):
    raw = small_models["digits_int8"]
    a, b, ref = _interp(raw), _interp(raw), _interp(raw, kernels="reference")
    for _ in range(3):
        xa, xb = (RNG.integers(-128, 128, (1, 8, 8, 1)).astype(np.int8) for _ in range(2))
        ya, yb = _run(a, [xa])[0], _run(b, [xb])[0]
        _same_bits(ya, _run(ref, [xa])[0])
        _same_bits(yb, _run(ref, [xb])[0])


def test_writes_through_tensor_and_input_read_back(small_models):
    it, ref = _interp(small_models["digits_float"]), _interp(small_models["digits_float"], kernels="reference")
    d = it.get_input_details()[0]
    x = RNG.uniform(0, 1, d["shape"]).astype(np.float32)
    it.tensor(d["index"])()[...] = x
    it.invoke()
    _same_bits(it.get_tensor(d["index"]), x)  # the input survives the invoke
    _same_bits(it.get_tensor(it.get_output_details()[0]["index"]), _run(ref, [x])[0])


def test_unset_input_and_intermediates_behave_as_the_plan(small_models):
    it = _interp(small_models["digits_float"])
    with pytest.raises(ValueError, match="was not set"):
        it.invoke()
    _run(it, [np.zeros((1, 8, 8, 1), np.float32)])
    with pytest.raises(ValueError, match="intermediate whose memory was reused"):
        it.get_tensor(it._runner.sg.operators[0].outputs[0])


def test_resize_then_invoke():
    w = RNG.uniform(-1, 1, (4, 6)).astype(np.float32)
    raw = single_op_model("FULLY_CONNECTED", [{"shape": [1, 6], "dtype": np.float32},
                                              {"shape": [4, 6], "dtype": np.float32, "data": w}],
                          [{"shape": [1, 4], "dtype": np.float32}], {"fused_activation_function": 0})
    it, ref = _interp(raw), _interp(raw, kernels="reference")
    _same_bits(_run(it, [np.ones((1, 6), np.float32)])[0], _run(ref, [np.ones((1, 6), np.float32)])[0])
    for r in (it, ref):
        r.resize_tensor_input(0, [3, 6])
        r.allocate_tensors()
    assert it._runner._graph is not None
    x = RNG.uniform(0, 1, (3, 6)).astype(np.float32)
    got = _run(it, [x])[0]
    assert got.shape == (3, 4)
    _same_bits(got, _run(ref, [x])[0])


@pytest.mark.parametrize("kw", [{"experimental_preserve_all_tensors": True}, {"kernels": "reference"}])
def test_kept_off(small_models, kw):
    assert _interp(small_models["digits_float"], **kw)._runner._graph is None


def test_env_switch_and_unsupported_op_fall_back(small_models, monkeypatch):
    monkeypatch.setenv("EIGHTBIT_GRAPH_RUNNER", "0")
    assert _interp(small_models["digits_float"])._runner._graph is None
    monkeypatch.delenv("EIGHTBIT_GRAPH_RUNNER")
    raw = single_op_model("RELU", [{"shape": [1, 4], "dtype": np.float32}], [{"shape": [1, 4], "dtype": np.float32}])
    it = _interp(raw)
    assert it._runner._graph is None
    np.testing.assert_array_equal(_run(it, [np.array([[-1, 2, -3, 4]], np.float32)])[0], [[0, 2, 0, 4]])


# ---- single operators, against the reference kernels -------------------------------------------

def _q(shape, dtype=np.int8, scale=0.05, zp=0, **kw):
    return {"shape": list(shape), "dtype": dtype, "scale": scale, "zero_point": zp, **kw}


def _conv_case(kind, op, stride, padding, act, dilation, hw=(7, 6), c=3, oc=4, k=(3, 2)):
    opts = {"padding": padding, "stride_h": stride[0], "stride_w": stride[1], "fused_activation_function": act,
            "dilation_h_factor": dilation[0], "dilation_w_factor": dilation[1]}
    n, (h, w) = 2, hw
    from eightbit.kernels.padding import compute_padding_height_width

    g = compute_padding_height_width(stride[0], stride[1], dilation[0], dilation[1], h, w, k[0], k[1], padding)
    if op == "DEPTHWISE_CONV_2D":
        oc, opts = c * 2, {**opts, "depth_multiplier": 2}
        wshape = [1, k[0], k[1], oc]
    else:
        wshape = [oc, k[0], k[1], c]
    out_shape = [n, g.out_height, g.out_width, oc]
    if kind == "float":
        wt = RNG.uniform(-1, 1, wshape).astype(np.float32)
        ins = [{"shape": [n, h, w, c], "dtype": np.float32}, {"shape": wshape, "dtype": np.float32, "data": wt},
               {"shape": [oc], "dtype": np.float32, "data": RNG.uniform(-1, 1, oc).astype(np.float32)}]
        return single_op_model(op, ins, [{"shape": out_shape, "dtype": np.float32}], opts)
    dt = np.int8 if kind == "int8" else np.uint8
    zp_in, zp_out = (3, -5) if kind == "int8" else (130, 120)
    wt = RNG.integers(-127, 128, wshape).astype(np.int8) if kind == "int8" else \
        RNG.integers(0, 256, wshape).astype(np.uint8)
    axis = 0 if op == "CONV_2D" else 3
    wq = {"scale": RNG.uniform(0.002, 0.01, oc).astype(np.float32), "zero_point": np.zeros(oc, np.int64),
          "quantized_dimension": axis} if kind == "int8" else {"scale": 0.004, "zero_point": 128}
    bias_scale = 0.05 * (0.004 if kind == "uint8" else 1.0)
    ins = [_q([n, h, w, c], dt, 0.05, zp_in), {"shape": wshape, "dtype": dt, "data": wt, **wq},
           {"shape": [oc], "dtype": np.int32, "data": RNG.integers(-3000, 3000, oc).astype(np.int32),
            "scale": bias_scale, "zero_point": 0}]
    return single_op_model(op, ins, [_q(out_shape, dt, 0.08, zp_out)], opts)


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("kind", ["float", "int8", "uint8"])
@pytest.mark.parametrize("stride,padding,act,dilation", [((1, 1), 0, 0, (1, 1)), ((2, 1), 1, 1, (1, 1)),
                                                         ((1, 2), 0, 3, (2, 1)), ((2, 2), 0, 2, (1, 1))])
def test_conv_family(op, kind, stride, padding, act, dilation):
    if kind == "uint8" and op == "CONV_2D":
        pass  # per-tensor uint8 filter with its zero point: the legacy multiplier
    assert_graph_equals_reference(_conv_case(kind, op, stride, padding, act, dilation))


@pytest.mark.parametrize("kind", ["float", "int8", "uint8"])
@pytest.mark.parametrize("act", [0, 1, 3])
def test_fully_connected(kind, act):
    units, depth = 5, 12
    opts = {"fused_activation_function": act}
    if kind == "float":
        ins = [{"shape": [3, depth], "dtype": np.float32},
               {"shape": [units, depth], "dtype": np.float32, "data": RNG.uniform(-1, 1, (units, depth)).astype(np.float32)},
               {"shape": [units], "dtype": np.float32, "data": RNG.uniform(-1, 1, units).astype(np.float32)}]
        raw = single_op_model("FULLY_CONNECTED", ins, [{"shape": [3, units], "dtype": np.float32}], opts)
    else:
        dt = np.int8 if kind == "int8" else np.uint8
        zp = (2, -7, 0) if kind == "int8" else (127, 140, 131)
        w = RNG.integers(-127, 128, (units, depth)).astype(np.int8) if kind == "int8" else \
            RNG.integers(0, 256, (units, depth)).astype(np.uint8)
        ins = [_q([3, depth], dt, 0.05, zp[0]), {"shape": [units, depth], "dtype": dt, "data": w, "scale": 0.01,
                                                "zero_point": zp[2]},
               {"shape": [units], "dtype": np.int32, "data": RNG.integers(-500, 500, units).astype(np.int32),
                "scale": 0.0005, "zero_point": 0}]
        raw = single_op_model("FULLY_CONNECTED", ins, [_q([3, units], dt, 0.1, zp[1])], opts)
    assert_graph_equals_reference(raw)


@pytest.mark.parametrize("op", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.uint8])
@pytest.mark.parametrize("padding,stride,filt,act", [(0, (2, 2), (3, 3), 0), (1, (1, 2), (2, 3), 1),
                                                     (0, (3, 1), (2, 2), 3)])
def test_pools(op, dtype, padding, stride, filt, act):
    from eightbit.kernels.padding import compute_padding_height_width

    g = compute_padding_height_width(stride[0], stride[1], 1, 1, 7, 5, filt[0], filt[1], padding)
    opts = {"padding": padding, "stride_h": stride[0], "stride_w": stride[1], "filter_height": filt[0],
            "filter_width": filt[1], "fused_activation_function": act}
    shape, out = [2, 7, 5, 3], [2, g.out_height, g.out_width, 3]
    if dtype == np.float32:
        raw = single_op_model(op, [{"shape": shape, "dtype": dtype}], [{"shape": out, "dtype": dtype}], opts)
    else:
        zp = 4 if dtype == np.int8 else 128
        raw = single_op_model(op, [_q(shape, dtype, 0.05, zp)], [_q(out, dtype, 0.05, zp)], opts)
    assert_graph_equals_reference(raw)


@pytest.mark.parametrize("shape", [[1, 10], [4, 7], [2, 3, 130], [1, 1]])
@pytest.mark.parametrize("beta", [1.0, 0.37])
def test_softmax_float(shape, beta):
    raw = single_op_model("SOFTMAX", [{"shape": shape, "dtype": np.float32}], [{"shape": shape, "dtype": np.float32}],
                          {"beta": beta})
    x = (RNG.standard_normal(shape) * 30).astype(np.float32)
    assert_graph_equals_reference(raw, inputs=[x])
    special = x.copy().reshape(-1, shape[-1])
    special[0, 0] = np.inf if shape[-1] > 1 else np.nan
    special[-1, -1] = np.nan
    assert_graph_equals_reference(raw, invokes=1, inputs=[special.reshape(shape)])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("in_scale", [0.05, 0.5])
def test_softmax_8bit(dtype, in_scale):
    zp_out = -128 if dtype == np.int8 else 0
    raw = single_op_model("SOFTMAX", [_q([3, 11], dtype, in_scale, 0 if dtype == np.int8 else 128)],
                          [_q([3, 11], dtype, 1 / 256, zp_out)], {"beta": 1.0})
    assert_graph_equals_reference(raw)


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.uint8])
@pytest.mark.parametrize("act", [0, 1, 3])
def test_add(dtype, act):
    shape = [2, 3, 4]
    opts = {"fused_activation_function": act}
    if dtype == np.float32:
        raw = single_op_model("ADD", [{"shape": shape, "dtype": dtype}] * 2, [{"shape": shape, "dtype": dtype}], opts)
    else:
        zp = (3, -9, 1) if dtype == np.int8 else (120, 135, 128)
        raw = single_op_model("ADD", [_q(shape, dtype, 0.03, zp[0]), _q(shape, dtype, 0.07, zp[1])],
                              [_q(shape, dtype, 0.1, zp[2])], opts)
    assert_graph_equals_reference(raw)


def test_add_broadcast_falls_back():
    raw = single_op_model("ADD", [{"shape": [2, 3], "dtype": np.float32}, {"shape": [1, 3], "dtype": np.float32}],
                          [{"shape": [2, 3], "dtype": np.float32}], {"fused_activation_function": 0})
    assert _interp(raw)._runner._graph is None


@pytest.mark.parametrize("op", ["RELU", "RELU6", "LOGISTIC", "TANH", "HARD_SWISH", "QUANTIZE", "DEQUANTIZE"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("shape", [[1, 5], [2, 9, 17]])
def test_8bit_elementwise_tables(op, dtype, shape):
    zp = 5 if dtype == np.int8 else 133
    x = _q(shape, dtype, 0.07, zp)
    if op == "DEQUANTIZE":
        y = {"shape": shape, "dtype": np.float32}
    elif op in ("LOGISTIC", "TANH"):
        y = _q(shape, dtype, 1 / 256 if op == "LOGISTIC" else 1 / 128,
               (-128 if op == "LOGISTIC" else 0) if dtype == np.int8 else (0 if op == "LOGISTIC" else 128))
    else:
        y = _q(shape, dtype, 0.05, zp - 3)
    assert_graph_equals_reference(single_op_model(op, [x], [y]))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_quantize_float_input(dtype):
    shape = [3, 40]
    raw = single_op_model("QUANTIZE", [{"shape": shape, "dtype": np.float32}], [_q(shape, dtype, 0.02, 7)])
    x = (RNG.standard_normal(shape) * 3).astype(np.float32)
    x[0, :6] = [np.nan, np.inf, -np.inf, 0.01, -0.01, 3e9]  # NaN, overflow, halves
    x[1, :4] = np.float32(0.02) * np.array([0.5, -0.5, 1.5, -2.5], np.float32)
    assert_graph_equals_reference(raw, invokes=1, inputs=[x])
    assert_graph_equals_reference(raw)


def test_per_channel_dequantize_keeps_the_plan():
    x = {"shape": [1, 3], "dtype": np.int8, "scale": np.array([0.1, 0.2, 0.3], np.float32),
         "zero_point": np.zeros(3, np.int64), "quantized_dimension": 1}
    raw = single_op_model("DEQUANTIZE", [x], [{"shape": [1, 3], "dtype": np.float32}])
    it = _interp(raw)
    assert it._runner._graph is None
    np.testing.assert_allclose(_run(it, [np.array([[10, 10, 10]], np.int8)])[0], [[1.0, 2.0, 3.0]], rtol=1e-6)


@pytest.mark.parametrize("axes,keep", [([1, 2], True), ([1, 2], False), ([-1], False), ([0], True), ([2, 1], False)])
@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.uint8])
def test_mean(axes, keep, dtype):
    shape = [2, 5, 3, 4]
    kept = [d if i not in {a % 4 for a in axes} else 1 for i, d in enumerate(shape)]
    out = kept if keep else [d for i, d in enumerate(shape) if i not in {a % 4 for a in axes}]
    ax = {"shape": [len(axes)], "dtype": np.int32, "data": np.array(axes, np.int32)}
    opts = {"keep_dims": keep}
    if dtype == np.float32:
        raw = single_op_model("MEAN", [{"shape": shape, "dtype": dtype}, ax], [{"shape": out, "dtype": dtype}], opts)
    else:
        zp = (-3, 4) if dtype == np.int8 else (128, 120)
        raw = single_op_model("MEAN", [_q(shape, dtype, 0.05, zp[0]), ax], [_q(out, dtype, 0.03, zp[1])], opts)
    assert_graph_equals_reference(raw)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.int8])
def test_concatenation_with_a_constant(axis, dtype):
    a_shape, b_shape = [2, 3, 4], [2, 3, 4]
    out = list(a_shape)
    out[axis] += b_shape[axis]
    q = {} if dtype == np.float32 else {"scale": 0.05, "zero_point": 2}
    data = (RNG.integers(-50, 50, b_shape)).astype(dtype)
    raw = single_op_model("CONCATENATION", [{"shape": a_shape, "dtype": dtype, **q},
                                            {"shape": b_shape, "dtype": dtype, "data": data, **q}],
                          [{"shape": out, "dtype": dtype, **q}], {"axis": axis, "fused_activation_function": 0})
    assert_graph_equals_reference(raw)


def test_float16_weights_are_folded():
    from eightbit.ir.builder import ModelBuilder

    b = ModelBuilder()
    x = b.tensor("x", [2, 6], np.float32)
    w16 = b.tensor("w16", [4, 6], np.float16, data=RNG.uniform(-1, 1, (4, 6)).astype(np.float16))
    w = b.tensor("w", [4, 6], np.float32)
    y = b.tensor("y", [2, 4], np.float32)
    b.op("DEQUANTIZE", [w16], [w])
    b.op("FULLY_CONNECTED", [x, w], [y], {"fused_activation_function": 0}, options_type="FullyConnectedOptions")
    raw = b.inputs(x).outputs(y).build().to_bytes()
    assert_graph_equals_reference(raw)
    x0 = RNG.uniform(-1, 1, (2, 6)).astype(np.float32)
    np.testing.assert_allclose(_run(_interp(raw), [x0])[0], run_litert(raw, [x0])[0], rtol=1e-5, atol=1e-6)


def _conv_model(st):
    """A random small int8 / uint8 / float CONV_2D or DEPTHWISE_CONV_2D (hypothesis draws)."""
    from hypothesis import strategies as hs

    op = st.draw(hs.sampled_from(["CONV_2D", "DEPTHWISE_CONV_2D"]))
    kind = st.draw(hs.sampled_from(["float", "int8", "uint8"]))
    stride = (st.draw(hs.integers(1, 3)), st.draw(hs.integers(1, 3)))
    dilation = (st.draw(hs.integers(1, 2)), st.draw(hs.integers(1, 2)))
    k = (st.draw(hs.integers(1, 3)), st.draw(hs.integers(1, 3)))
    hw = (st.draw(hs.integers(k[0] * dilation[0], 9)), st.draw(hs.integers(k[1] * dilation[1], 9)))
    c, oc = st.draw(hs.integers(1, 9)), st.draw(hs.integers(1, 19))
    padding, act = st.draw(hs.sampled_from([0, 1])), st.draw(hs.sampled_from([0, 1, 2, 3]))
    return _conv_case(kind, op, stride, padding, act, dilation, hw=hw, c=c, oc=oc, k=k)


def test_random_convolutions_equal_reference():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as hs

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(hs.data())
    def check(data):
        assert_graph_equals_reference(_conv_model(data), invokes=2)

    check()


def test_float_exp_equals_numpys_on_a_dense_sweep():
    # The runner's float SOFTMAX uses graph_softmax's exp only where it equals np.exp (what the
    # reference kernel takes); each process checks a sparse sweep, this one every 97th float32.
    from eightbit.kernels.fast import graph_api

    assert graph_api.exp_sweep_matches(97, 997)
