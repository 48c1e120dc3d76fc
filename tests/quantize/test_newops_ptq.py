"""Full-integer PTQ of the ops added for real models (issue 7), as operator_property.cc says:
MIRROR_PAD, REVERSE_V2, GATHER_ND, SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND keep their input's scale
and zero point (int8; MIRROR_PAD and the block ops not int16), REDUCE_PROD gets its own output
parameters, and the ops TF's quantizer does not list (POW, FLOOR, ...) stay float between
DEQUANTIZE / QUANTIZE. Each converted file runs in LiteRT's reference kernels with outputs equal
to eightbit's, and its operator versions are the ones op_version.cc gives."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.ir.builder import ModelBuilder
from eightbit.quantize.converter import OpsSet, Optimize, TFLiteConverter
from tests.oracle import run_eightbit, run_litert

RNG = np.random.default_rng(80)
F32, I32 = np.float32, np.int32


def _model() -> bytes:
    """x[1, 6, 6, 4] -> MIRROR_PAD -> REVERSE_V2 -> SPACE_TO_BATCH_ND -> BATCH_TO_SPACE_ND -> GATHER_ND
    -> REDUCE_PROD -> FLOOR -> output; a second output POW(x, 2) keeps a float-only op in the graph."""
    b = ModelBuilder()
    x = b.tensor(name="x", shape=(1, 6, 6, 4), dtype=F32)

    def const(name, value, dtype=I32):
        return b.tensor(name=name, shape=np.shape(value), dtype=dtype, data=np.asarray(value, dtype))

    def act(name, shape):
        return b.tensor(name=name, shape=shape, dtype=F32)

    pad = act("pad", (1, 8, 8, 4))
    b.op("MIRROR_PAD", [x, const("pads", [[0, 0], [1, 1], [1, 1], [0, 0]])], [pad], {"mode": 0},
         options_type="MirrorPadOptions")
    rev = act("rev", (1, 8, 8, 4))
    b.op("REVERSE_V2", [pad, const("axis", [2])], [rev], {}, options_type="ReverseV2Options")
    s2b = act("s2b", (4, 4, 4, 4))
    b.op("SPACE_TO_BATCH_ND", [rev, const("block", [2, 2]), const("spad", [[0, 0], [0, 0]])], [s2b], {},
         options_type="SpaceToBatchNDOptions")
    b2s = act("b2s", (1, 8, 8, 4))
    b.op("BATCH_TO_SPACE_ND", [s2b, const("block2", [2, 2]), const("crops", [[0, 0], [0, 0]])], [b2s], {},
         options_type="BatchToSpaceNDOptions")
    gnd = act("gnd", (1, 3, 4))
    b.op("GATHER_ND", [b2s, const("idx", [[[0, 1, 2], [0, 5, 5], [0, 7, 0]]])], [gnd], {},
         options_type="GatherNdOptions")
    prod = act("prod", (1, 3))
    b.op("REDUCE_PROD", [gnd, const("paxis", [2])], [prod], {"keep_dims": False}, options_type="ReducerOptions")
    flo = act("floor", (1, 3))
    b.op("FLOOR", [prod], [flo], {})
    sq = act("pow", (1, 6, 6, 4))
    b.op("POW", [x, const("two", 2.0, F32)], [sq], {}, options_type="PowOptions")
    b.inputs(x).outputs(flo, sq)
    return b.build().to_bytes()


def _calibration():
    return ([RNG.uniform(0.5, 1.5, (1, 6, 6, 4)).astype(F32)] for _ in range(20))


def _convert(mode: str) -> bytes:
    conv = TFLiteConverter.from_tflite(_model())
    conv.optimizations = [Optimize.DEFAULT]
    conv.representative_dataset = _calibration
    if mode == "int16x8":
        conv.target_spec.supported_ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                                          OpsSet.TFLITE_BUILTINS]
    return conv.convert()


def _ops(model_bytes: bytes) -> dict:
    m = eightbit.load(model_bytes)
    sg = m.subgraphs[0]
    return {op.op_type: (op, [sg.tensors[i] for i in op.inputs if i >= 0], [sg.tensors[i] for i in op.outputs])
            for op in sg.operators}


def test_int8_same_scale_ops_keep_their_parameters_and_float_ops_stay_float():
    q = _convert("int8")
    ops = _ops(q)
    for name in ("MIRROR_PAD", "REVERSE_V2", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "GATHER_ND"):
        op, ins, outs = ops[name]
        assert ins[0].type == "INT8" and outs[0].type == "INT8", name
        assert ins[0].quantization.scale[0] == outs[0].quantization.scale[0], name
        assert ins[0].quantization.zero_point[0] == outs[0].quantization.zero_point[0], name
    assert ops["REDUCE_PROD"][1][0].type == "INT8" and ops["REDUCE_PROD"][2][0].type == "INT8"
    for name in ("FLOOR", "POW"):
        assert ops[name][1][0].type == "FLOAT32" and ops[name][2][0].type == "FLOAT32", name
    assert ops["MIRROR_PAD"][0].version == 2 and ops["REVERSE_V2"][0].version == 3
    assert ops["GATHER_ND"][0].version == 1 and ops["REDUCE_PROD"][0].version == 2
    assert ops["SPACE_TO_BATCH_ND"][0].version == 2


@pytest.mark.parametrize("mode", ["int8", "int16x8"])
def test_quantized_model_runs_in_litert_as_in_eightbit(mode):
    q = _convert(mode)
    x = RNG.uniform(0.5, 1.5, (1, 6, 6, 4)).astype(F32)
    want, got = run_litert(q, [x]), run_eightbit(q, [x])
    for w, g in zip(want, got):
        assert w.dtype == g.dtype and w.shape == g.shape
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_int16x8_keeps_int8_only_ops_float():
    """operator_property.cc: MIRROR_PAD and the block ops are not quantizable to int16."""
    ops = _ops(_convert("int16x8"))
    for name in ("MIRROR_PAD", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"):
        assert ops[name][1][0].type == "FLOAT32", name
    for name in ("REVERSE_V2", "GATHER_ND", "REDUCE_PROD"):
        assert ops[name][1][0].type == "INT16", name
