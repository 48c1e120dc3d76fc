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
