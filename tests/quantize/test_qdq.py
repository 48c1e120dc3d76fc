"""fold_qdq on hand-built QDQ graphs: Before (float ops between DEQUANTIZE / QUANTIZE, which
LiteRT runs as they are) and Expected (the integer ops, parameters kept or listed).

Oracles: LiteRT's reference kernels run the Before graph (float math on the dequantized values)
and the folded graph; the folded graph must agree with Before within one output step, and
eightbit's interpreter must give exactly LiteRT's integers on the folded graph.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import eightbit
from eightbit.ir.builder import ModelBuilder
from eightbit.quantize.qdq import fold_qdq
from tests.oracle import run_eightbit, run_litert

RNG = np.random.default_rng(7)


class QDQ:
    """A tiny QDQ-graph builder: float activations, quantized by QUANTIZE, read through DEQUANTIZE."""

    def __init__(self):
        self.b = ModelBuilder()

    def input(self, shape, scale, zp, type_=np.int8):
        x = self.b.tensor("x", shape)
        self.b.inputs(x)
        return self.qdq(x, shape, scale, zp, type_, "x")

    def qdq(self, t, shape, scale, zp, type_=np.int8, name="t"):
        q = self.b.tensor(name + "_q", shape, type_, scale=scale, zero_point=zp)
        self.b.op("QUANTIZE", [t], [q])
        return self.dq(q, shape, name)

    def dq(self, q, shape, name="t"):
        f = self.b.tensor(name + "_dq", shape)
        self.b.op("DEQUANTIZE", [q], [f])
        return f

    def const(self, name, data, scale, zp, axis=0):
        data = np.asarray(data)
        q = self.b.tensor(name, data.shape, data.dtype, data=data, scale=scale, zero_point=zp, quantized_dimension=axis)
        return self.dq(q, data.shape, name)

    def op(self, op_type, inputs, shape, options=None, options_type=None, name="y"):
        y = self.b.tensor(name, shape)
        self.b.op(op_type, inputs, [y], options, options_type=options_type)
        return y

    def output(self, y, shape, scale, zp, type_=np.int8):
        out = self.qdq(y, shape, scale, zp, type_, "out")
        self.b.outputs(out)
        return self.b.build()


def fold(model):
    before = copy.deepcopy(model)
    notes = fold_qdq(model)
    return before, model, notes


def op_types(model):
    return [op.op_type for op in model.main.operators]


def runnable(model):
    """The QDQ graph as LiteRT can run it: DEQUANTIZE of an int32 constant (which TFLite's
    DEQUANTIZE does not take) replaced by its real value (q - zp) * scale."""
    m = copy.deepcopy(model)
    sg = m.main
    keep = []
    for op in sg.operators:
        src = sg.tensors[op.inputs[0]]
        if op.op_type == "DEQUANTIZE" and src.is_constant and src.type == "INT32":
            qp = src.quantization
            shape = [-1] + [1] * (src.data.ndim - 1) if qp.scale.size > 1 else []
            real = (src.data.astype(np.float64) - qp.zero_point.reshape(shape or ())) * qp.scale.astype(np.float64).reshape(shape or ())
            sg.tensors[op.outputs[0]].set_data(real.astype(np.float32))
            continue
        keep.append(op)
    sg.operators = keep
    return m


def check_outputs(before, after, x, out_scale, steps=1.0):
    """Folded graph within `steps` output steps of the QDQ graph (both in LiteRT), and eightbit
    gives exactly LiteRT's values on the folded graph; the file passes eightbit.load."""
    data = after.to_bytes()
    eightbit.load(data)
    want = run_litert(runnable(before).to_bytes(), [x])[0]
    got = run_litert(data, [x])[0]
    assert np.max(np.abs(got - want)) <= steps * out_scale * (1 + 1e-5)
    np.testing.assert_array_equal(run_eightbit(data, [x])[0], got)


def conv_graph(w_zp=0, bias="int32", bias_scale_factor=1.0, in_type=np.int8, in_zp=3):
    g = QDQ()
    in_s, w_s = 0.05, np.array([0.01, 0.02, 0.015, 0.03], np.float32)
    x = g.input([1, 5, 5, 3], in_s, in_zp, in_type)
    w = RNG.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
    wz = np.full(4, w_zp)
    wf = g.const("w", w, w_s, wz, axis=0)
    inputs = [x, wf]
    if bias == "int32":
        bs = (np.float64(in_s) * w_s.astype(np.float64) * bias_scale_factor).astype(np.float32)
        inputs.append(g.const("b", RNG.integers(-500, 500, 4).astype(np.int32), bs, np.zeros(4), axis=0))
    elif bias == "float":
        inputs.append(g.b.const("b", RNG.normal(0, 0.3, 4).astype(np.float32)))
    y = g.op("CONV_2D", inputs + ([] if bias else [-1]), [1, 5, 5, 4],
             {"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": 0}, "Conv2DOptions")
    return g.output(y, [1, 5, 5, 4], 0.1, -5, in_type)


def test_conv_per_channel_keeps_every_parameter():
    before, after, notes = fold(conv_graph())
    assert notes == []
    assert op_types(after) == ["QUANTIZE", "CONV_2D", "DEQUANTIZE"]
    sg = after.main
    conv = sg.operators[1]
    x, w, b = (sg.tensors[i] for i in conv.inputs)
    y = sg.tensors[conv.outputs[0]]
    assert (x.type, w.type, b.type, y.type) == ("INT8", "INT8", "INT32", "INT8")
    np.testing.assert_array_equal(w.quantization.scale, np.array([0.01, 0.02, 0.015, 0.03], np.float32))
    assert (float(x.quantization.scale[0]), int(x.quantization.zero_point[0])) == (np.float32(0.05), 3)
    assert (float(y.quantization.scale[0]), int(y.quantization.zero_point[0])) == (np.float32(0.1), -5)
    src_w = before.main.tensors[[t.name for t in before.main.tensors].index("w")]
    np.testing.assert_array_equal(w.data, src_w.data)
    check_outputs(before, after, RNG.uniform(-6, 6, (1, 5, 5, 3)).astype(np.float32), 0.1)


@pytest.mark.parametrize("case, changed", [
    # asymmetric weights: requantized, and the bias follows their new scales
    ({"w_zp": 4}, {"'w'": "zero point != 0: requantized to symmetric int8",
                   "'b'": "bias scale must be input_scale * weight_scale"}),
    ({"bias_scale_factor": 1.5}, {"'b'": "bias scale must be input_scale * weight_scale"}),
])
def test_conv_changes_are_listed(case, changed):
    before, after, notes = fold(conv_graph(**case))
    assert len(notes) == len(changed), notes
    for (name, why), note in zip(changed.items(), notes):
        assert note.startswith(f"changed {name}:") and why in note, note
    assert op_types(after) == ["QUANTIZE", "CONV_2D", "DEQUANTIZE"]
    # requantizing the weights or bias costs at most about one more step
    check_outputs(before, after, RNG.uniform(-6, 6, (1, 5, 5, 3)).astype(np.float32), 0.1, steps=2)


def test_float_bias_is_quantized_by_the_spec_rule():
    before, after, notes = fold(conv_graph(bias="float"))
    assert notes == []
    conv = after.main.operators[1]
    b = after.main.tensors[conv.inputs[2]]
    assert b.type == "INT32"
    np.testing.assert_allclose(b.quantization.scale, np.float32(0.05) * np.array([0.01, 0.02, 0.015, 0.03], np.float32),
                               rtol=1e-6)
    check_outputs(before, after, RNG.uniform(-6, 6, (1, 5, 5, 3)).astype(np.float32), 0.1)


def test_uint8_activations_become_int8_with_the_same_real_values():
    before, after, notes = fold(conv_graph(in_type=np.uint8, in_zp=131))
    assert notes == ["3 uint8/uint16 tensor(s) stored as int8/int16 (zero point shifted, same real values)"] or \
        notes[0].endswith("(zero point shifted, same real values)")
    sg = after.main
    conv = sg.operators[1]
    x = sg.tensors[conv.inputs[0]]
    assert x.type == "INT8" and int(x.quantization.zero_point[0]) == 3
    check_outputs(before, after, RNG.uniform(-6, 6, (1, 5, 5, 3)).astype(np.float32), 0.1)


# ---- parameters TFLite forces, and what stays float -------------------------------------------

def unary_graph(op_type, in_q, out_q, shape=(1, 4, 4, 3), options=None, options_type=None, type_=np.int8):
    g = QDQ()
    x = g.input(list(shape), *in_q, type_)
    y = g.op(op_type, [x], list(shape) if op_type != "MAX_POOL_2D" else [1, 2, 2, 3], options, options_type)
    return g.output(y, list(shape) if op_type != "MAX_POOL_2D" else [1, 2, 2, 3], *out_q, type_)


def test_fixed_output_parameters_are_taken_and_listed():
    before, after, notes = fold(unary_graph("LOGISTIC", (0.05, 0), (1 / 255, -128)))
    assert op_types(after) == ["QUANTIZE", "LOGISTIC", "DEQUANTIZE"]
    y = after.main.tensors[after.main.operators[1].outputs[0]]
    assert (float(y.quantization.scale[0]), int(y.quantization.zero_point[0])) == (1 / 256, -128)
    assert len(notes) == 1 and notes[0].startswith("changed 'out_q'") and "LOGISTIC" in notes[0]
    check_outputs(before, after, RNG.uniform(-6, 6, (1, 4, 4, 3)).astype(np.float32), 1 / 255)


@pytest.mark.parametrize("op_type, options, options_type", [
    ("MAX_POOL_2D", {"padding": 1, "stride_w": 2, "stride_h": 2, "filter_width": 2, "filter_height": 2,
                     "fused_activation_function": 0}, "Pool2DOptions"),
    ("RESHAPE", {"new_shape": [1, 4, 4, 3]}, "ReshapeOptions"),
])
def test_shared_parameters_requantize_the_input(op_type, options, options_type):
    before, after, notes = fold(unary_graph(op_type, (0.05, 3), (0.04, -7), options=options, options_type=options_type))
    assert op_types(after) == ["QUANTIZE", "QUANTIZE", op_type, "DEQUANTIZE"]
    assert len(notes) == 1 and notes[0].startswith("requantized 'x_q'"), notes
    op = after.main.operators[2]
    x, y = (after.main.tensors[op.inputs[0]], after.main.tensors[op.outputs[0]])
    assert x.quantization == y.quantization and float(y.quantization.scale[0]) == np.float32(0.04)
    check_outputs(before, after, RNG.uniform(-5, 5, (1, 4, 4, 3)).astype(np.float32), 0.04)


def test_concatenation_inputs_take_the_output_parameters():
    g = QDQ()
    x = g.input([1, 4, 3], 0.05, 3)
    x2 = g.qdq(g.op("ABS", [x], [1, 4, 3], name="a"), [1, 4, 3], 0.02, -128, name="a")
    y = g.op("CONCATENATION", [x, x2], [1, 4, 6], {"axis": 2, "fused_activation_function": 0}, "ConcatenationOptions")
    before, after, notes = fold(g.output(y, [1, 4, 6], 0.05, 3))
    assert [n.split(":")[0] for n in notes] == ["requantized 'a_q' for CONCATENATION"]
    cat = [op for op in after.main.operators if op.op_type == "CONCATENATION"][0]
    params = {after.main.tensors[t].quantization.scale[0] for t in cat.inputs + cat.outputs}
    assert params == {np.float32(0.05)}
    check_outputs(before, after, RNG.uniform(-6, 6, (1, 4, 3)).astype(np.float32), 0.05)


def test_operators_without_quantized_output_are_listed_as_float():
    g = QDQ()
    x = g.input([1, 8], 0.05, 0)
    y = g.op("ADD", [x, x], [1, 8], {"fused_activation_function": 0}, "AddOptions")
    g.b.outputs(y)
    before, after, notes = fold(g.b.build())
    assert notes == ["left float: 1 x ADD (output 'y' is not quantized): 'y'"]
    assert op_types(after) == ["QUANTIZE", "DEQUANTIZE", "ADD"]
    x_in = RNG.uniform(-3, 3, (1, 8)).astype(np.float32)
    np.testing.assert_array_equal(run_litert(after.to_bytes(), [x_in])[0], run_litert(before.to_bytes(), [x_in])[0])


def test_float_constant_operand_is_quantized_by_its_range_and_listed():
    g = QDQ()
    x = g.input([1, 8], 0.05, 0)
    c = g.b.const("c", RNG.uniform(-1, 2, (1, 8)).astype(np.float32))
    y = g.op("ADD", [x, c], [1, 8], {"fused_activation_function": 0}, "AddOptions")
    before, after, notes = fold(g.output(y, [1, 8], 0.05, 0))
    assert len(notes) == 1 and notes[0].startswith("changed 'c': FLOAT32 (no parameters) -> INT8"), notes
    check_outputs(before, after, RNG.uniform(-3, 3, (1, 8)).astype(np.float32), 0.05, steps=2)


def test_weights_moved_by_a_transpose_keep_their_integers_and_axis():
    """A MatMul weight [K, N], per-channel on N, transposed to FULLY_CONNECTED's [N, K]."""
    g = QDQ()
    x = g.input([2, 6], 0.05, 1)
    w = RNG.integers(-127, 128, (6, 4)).astype(np.int8)
    ws = np.array([0.01, 0.02, 0.03, 0.04], np.float32)
    wf = g.const("w", w, ws, np.zeros(4), axis=1)
    perm = g.b.const("perm", np.array([1, 0], np.int32))
    wt = g.op("TRANSPOSE", [wf, perm], [4, 6], name="wt")
    y = g.op("FULLY_CONNECTED", [x, wt, -1], [2, 4], {"fused_activation_function": 0, "keep_num_dims": False},
             "FullyConnectedOptions")
    before, after, notes = fold(g.output(y, [2, 4], 0.2, 0))
    assert notes == []
    assert op_types(after) == ["QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"]
    weight = after.main.tensors[after.main.operators[1].inputs[1]]
    np.testing.assert_array_equal(weight.data, w.T)
    assert weight.quantization.quantized_dimension == 0
    np.testing.assert_array_equal(weight.quantization.scale, ws)
    check_outputs(before, after, RNG.uniform(-6, 6, (2, 6)).astype(np.float32), 0.2)


def test_quantize_moves_above_a_float_reshape():
    g = QDQ()
    x = g.b.tensor("x", [1, 2, 4])
    g.b.inputs(x)
    flat = g.op("RESHAPE", [x, g.b.const("shape", np.array([1, 8], np.int32))], [1, 8], {"new_shape": [1, 8]},
                "ReshapeOptions", name="flat")
    fq = g.qdq(flat, [1, 8], 0.05, 2, name="flat")
    before, after, notes = fold(g.output(g.op("ABS", [fq], [1, 8]), [1, 8], 0.05, -128))
    assert notes == []
    assert op_types(after) == ["QUANTIZE", "RESHAPE", "ABS", "DEQUANTIZE"]
    check_outputs(before, after, RNG.uniform(-6, 6, (1, 2, 4)).astype(np.float32), 0.05)


def test_int16_with_zero_point_becomes_symmetric_int16x8():
    before, after, notes = fold(conv_graph(in_type=np.int16, in_zp=100))
    changed = [n.split(":")[0] for n in notes]
    assert "changed 'x_q'" in changed and "changed 'out_q'" in changed, notes
    sg = after.main
    conv = sg.operators[1]
    x, w, b, y = (sg.tensors[i] for i in conv.inputs + conv.outputs)
    assert (x.type, w.type, b.type, y.type) == ("INT16", "INT8", "INT64", "INT16")
    assert int(x.quantization.zero_point[0]) == 0 and int(y.quantization.zero_point[0]) == 0
    data = after.to_bytes()
    x_in = RNG.uniform(-6, 6, (1, 5, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(run_eightbit(data, [x_in])[0], run_litert(data, [x_in])[0])
