"""SVDF (TFLite kernels/svdf.cc, reference/svdf.h): a fully connected layer factored in time, as
keyword-spotting models (TFLite Micro's micro_speech) use it.

Inputs: 0 input [batch, input_size], 1 weights_feature [num_filters, input_size], 2 weights_time
[num_filters, memory_size], 3 bias [num_units] (optional), 4 state [batch, memory_size *
num_filters] (a variable). SVDFOptions: rank (num_filters = num_units * rank),
fused_activation_function, asymmetric_quantize_inputs (hybrid).

Each invoke: the state (per batch and filter, memory_size values) shifts left by one and its last
column receives the new activation, weights_feature @ input; then per filter the dot product of
the state row with its weights_time row, summed over each unit's `rank` filters, plus the bias.
- float32: float sums in the reference order (products added one by one), then the activation.
- hybrid (int8 weights, float input, state and output): the input rows are quantized on the fly
  (kernels/hybrid.py; all-zero input: the activation is 0), the feature product is the int32 dot
  product (minus offset * row sum when asymmetric) times the float32 product of the row's scaling
  factor and the weight scale; weights_time are dequantized (int8 * scale in float32).
- int8 (int8 input / output, int16 weights_time and state, int32 bias): the activation is
  sat16(MBQM(sum (x - input_zp) * w, in_scale * wf_scale / state_scale)); the output is
  sat8(MBQM(bias + sum over rank of sum_m wt * state, state_scale * wt_scale / out_scale) + out_zp).
  The state's zero point is taken as 0, as TFLite does. The fused activation must be RELU (LiteRT
  refuses others at invoke) but is not applied: outputs below the zero point stay.
The state keeps the newest activation in its last column after the invoke (TFLite's current
order: shift first, then compute).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels import fixedpoint as fp
from eightbit.kernels import neon_float
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.hybrid import quantize_rows
from eightbit.kernels.movement import fail

F32 = np.float32
INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME, BIAS, STATE = 0, 1, 2, 3, 4
ACT_RELU = 1


@dataclass(frozen=True)
class SvdfFloat:
    rank: int
    activation: int


@dataclass(frozen=True)
class SvdfHybrid:
    rank: int
    activation: int
    feature_scale: np.float32
    weights_time: np.ndarray  # dequantized, float32
    row_sums: np.ndarray
    asymmetric: bool


@dataclass(frozen=True)
class SvdfInteger:
    rank: int
    input_zp: int
    output_zp: int
    scale_1: tuple
    scale_2: tuple
    state_dtype: type
    activation: int


def _check_shapes(op: OpContext) -> tuple:
    x, wf, wt, state = op.inputs[INPUT], op.inputs[WEIGHTS_FEATURE], op.inputs[WEIGHTS_TIME], op.inputs[STATE]
    rank = int(op.options.get("rank", 0))
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2:
        raise ModelError(f"{op.where()}: SVDF input, weights_feature and weights_time must be 2-D")
    num_filters, memory = wf.shape[0], wt.shape[1]
    if rank <= 0 or num_filters % rank:
        raise ModelError(f"{op.where()}: rank {rank} must be positive and divide num_filters ({num_filters})")
    if x.shape[1] != wf.shape[1] or wt.shape[0] != num_filters:
        raise ModelError(f"{op.where()}: SVDF weight shapes {tuple(wf.shape)}, {tuple(wt.shape)} do not match "
                         f"the input {tuple(x.shape)}")
    b = op.inputs[BIAS] if len(op.inputs) > BIAS else None
    if b is not None and tuple(b.shape) != (num_filters // rank,):
        raise ModelError(f"{op.where()}: SVDF bias shape {tuple(b.shape)}, expected ({num_filters // rank},)")
    if len(state.shape) != 2 or state.shape[1] != memory * num_filters:
        raise ModelError(f"{op.where()}: SVDF state shape {tuple(state.shape)}, expected "
                         f"(batch, {memory * num_filters})")
    return rank, num_filters, memory


def _prepare_integer(op: OpContext, rank: int, activation: int) -> SvdfInteger:
    x, wf, wt, state, out = (op.inputs[INPUT], op.inputs[WEIGHTS_FEATURE], op.inputs[WEIGHTS_TIME],
                             op.inputs[STATE], op.outputs[0])
    if wf.type != "INT8" or wt.type != "INT16" or state.type != "INT16" or out.type != "INT8":
        raise op.unsupported(f"int8 SVDF needs int8 weights_feature, int16 weights_time and state, int8 output; "
                             f"got {wf.type}, {wt.type}, {state.type}, {out.type}")
    b = op.inputs[BIAS]
    if b is not None and b.type != "INT32":
        raise op.unsupported(f"int8 SVDF bias must be int32, not {b.type}")
    if not all(t.quantized for t in (x, wf, wt, state, out)):
        raise op.unsupported("int8 SVDF needs quantized input, weights, state and output")
    if activation != ACT_RELU:  # TFLite checks for RELU, and then does not apply it
        raise op.unsupported(f"int8 SVDF needs fused activation RELU (LiteRT refuses {activation})")
    s1 = F32(F32(F32(x.scale) * F32(wf.scale)) / F32(state.scale))
    s2 = F32(F32(F32(state.scale) * F32(wt.scale)) / F32(out.scale))
    return SvdfInteger(rank, int(x.zero_point), int(out.zero_point), fp.quantize_multiplier(float(s1)),
                       fp.quantize_multiplier(float(s2)), np.int16, activation)


class Svdf(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        if len(op.inputs) != 5 or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: SVDF takes 5 inputs and gives 1 output")
        for k in (INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME, STATE):
            if op.inputs[k] is None:
                raise ModelError(f"{op.where()}: SVDF input {k} is required")
        rank, _, _ = _check_shapes(op)
        activation = int(op.options.get("fused_activation_function", 0))
        x, wf = op.inputs[INPUT], op.inputs[WEIGHTS_FEATURE]
        if x.type == "INT8":
            return _prepare_integer(op, rank, activation)
        if x.type != "FLOAT32" or op.outputs[0].type != "FLOAT32":
            raise op.unsupported(f"SVDF runs float32, hybrid and int8, not {x.type} -> {op.outputs[0].type}")
        others = [op.inputs[k] for k in (BIAS, STATE) if op.inputs[k] is not None]
        if any(t.type != "FLOAT32" for t in others):
            raise op.unsupported("float / hybrid SVDF needs float32 bias and state")
        if wf.type == "FLOAT32":
            if op.inputs[WEIGHTS_TIME].type != "FLOAT32":
                raise op.unsupported("float SVDF needs float32 weights_time")
            return SvdfFloat(rank, activation)
        wt = op.inputs[WEIGHTS_TIME]
        if wf.type != "INT8" or wt.type != "INT8" or wf.data is None or wt.data is None:
            raise op.unsupported(f"hybrid SVDF needs constant int8 weights, got {wf.type} and {wt.type}")
        time = (wt.data.astype(F32) * F32(wt.scale)).astype(F32)
        return SvdfHybrid(rank, activation, F32(wf.scale), time, wf.data.astype(np.int64).sum(axis=1),
                          bool(op.options.get("asymmetric_quantize_inputs", False)))

    @staticmethod
    def eval(p, x, weights_feature, weights_time, bias, state):
        n_batch, num_filters = x.shape[0], weights_feature.shape[0]
        memory = weights_time.shape[1]
        if state.shape[0] != n_batch:
            raise fail(f"SVDF: a batch of {n_batch} does not match the state's shape {state.shape}")
        s = np.array(state).reshape(n_batch, num_filters, memory)
        s[:, :, :-1] = s[:, :, 1:].copy()  # shift left: the oldest activation leaves
        if isinstance(p, SvdfInteger):
            s[:, :, -1] = _integer_activation(p, x, weights_feature)
            out = _integer_output(p, weights_time, bias, s)
        else:
            if isinstance(p, SvdfHybrid):
                s[:, :, -1] = _hybrid_activation(p, x, weights_feature)
                weights_time = p.weights_time
            else:
                s[:, :, -1] = neon_float.matvec(weights_feature, x)
            out = _float_output(p, weights_time, bias, s)
        np.copyto(state, s.reshape(state.shape))  # the state is a variable: it keeps this invoke's result
        return out


def _hybrid_activation(p: SvdfHybrid, x, weights_feature):
    if not np.any(x):
        return np.zeros((x.shape[0], weights_feature.shape[0]), F32)
    q, sf, offset = quantize_rows(x.astype(F32), p.asymmetric)
    scale = (sf * p.feature_scale).astype(F32)
    dot = q.astype(np.int64) @ weights_feature.astype(np.int64).T
    if p.asymmetric:
        dot = dot - offset.astype(np.int64)[:, None] * p.row_sums[None, :]
    return (fp.wrap_int32(dot).astype(F32) * scale[:, None]).astype(F32)


def _float_output(p, weights_time, bias, s):
    """ApplyTimeWeightsBiasAndActivation: dot products over memory, sums over rank, activation."""
    n_batch, num_filters, memory = s.shape
    scratch = np.zeros((n_batch, num_filters), F32)
    w = weights_time.astype(F32)
    for m in range(memory):  # the products added one by one, in memory order
        scratch = (scratch + (w[None, :, m] * s[:, :, m]).astype(F32)).astype(F32)
    num_units = num_filters // p.rank
    out = np.broadcast_to(bias.astype(F32), (n_batch, num_units)).copy() if bias is not None else \
        np.zeros((n_batch, num_units), F32)
    out = (out + neon_float.reduction_sum(scratch.reshape(n_batch, num_units, p.rank))).astype(F32)
    return neon_float.apply_activation(out, p.activation)


def _integer_activation(p: SvdfInteger, x, weights_feature):
    dot = fp.wrap_int32((x.astype(np.int64) - p.input_zp) @ weights_feature.astype(np.int64).T)
    return np.clip(fp.multiply_by_quantized_multiplier(dot, *p.scale_1), -32768, 32767)


def _integer_output(p: SvdfInteger, weights_time, bias, s):
    n_batch, num_filters, _ = s.shape
    scratch = fp.wrap_int32(np.einsum("fm,bfm->bf", weights_time.astype(np.int64), s.astype(np.int64)))
    num_units = num_filters // p.rank
    total = scratch.reshape(n_batch, num_units, p.rank).sum(axis=2)
    if bias is not None:
        total = total + bias.astype(np.int64)[None, :]
    out = fp.multiply_by_quantized_multiplier(fp.wrap_int32(total), *p.scale_2) + p.output_zp
    return np.clip(out, -128, 127).astype(np.int8)
