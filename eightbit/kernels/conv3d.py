"""CONV_3D (TFLite kernels/conv3d.cc, reference/conv3d.h): float32 only. Input [N, D, H, W, Cin],
filter [KD, KH, KW, Cin, Cout], optional bias [Cout]; SAME / VALID padding, strides and dilations
per axis (Conv3DOptions), then the fused activation clamp. Each output sums its products in
float32 in TFLite's order (filter_d, filter_y, filter_x, in_channel), the taps outside the input
skipped, then adds the bias."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.fixedpoint import activation_range_float
from eightbit.kernels.movement import fail
from eightbit.kernels.padding import compute_out_size, compute_padding_with_offset


@dataclass(frozen=True)
class Conv3DParams:
    strides: tuple  # (d, h, w)
    dilations: tuple
    padding: int
    clamp: tuple


def conv3d_options(op: OpContext) -> Conv3DParams:
    o = op.options
    strides = tuple(int(o.get(f"stride_{a}", 1) or 0) for a in "dhw")
    dilations = tuple(int(o.get(f"dilation_{a}_factor", 1) or 0) for a in "dhw")
    if min(strides + dilations) <= 0:
        raise ModelError(f"{op.where()}: {op.op_type}'s strides and dilations must be positive, got {strides}, "
                         f"{dilations}")
    lo, hi = activation_range_float(int(o.get("fused_activation_function", 0)))
    return Conv3DParams(strides, dilations, int(o.get("padding", 0)), (np.float32(lo), np.float32(hi)))


def window(p: Conv3DParams, in_sizes, filter_sizes) -> tuple:
    """((out_d, out_h, out_w), (pad_d, pad_h, pad_w)) of ComputePadding3DValues."""
    outs = tuple(compute_out_size(p.padding, n, k, s, d)
                 for n, k, s, d in zip(in_sizes, filter_sizes, p.strides, p.dilations))
    pads = tuple(compute_padding_with_offset(s, d, n, k, o)[0]
                 for s, d, n, k, o in zip(p.strides, p.dilations, in_sizes, filter_sizes, outs))
    return outs, pads


def check_float(op: OpContext, names: tuple) -> None:
    for t, what in zip(op.inputs, names):
        if t is not None and t.type != "FLOAT32":
            raise op.unsupported(f"{op.op_type} runs float32 only; {what} is {t.type}")
    if op.outputs[0].type != "FLOAT32":
        raise op.unsupported(f"{op.op_type} runs float32 only; the output is {op.outputs[0].type}")


class Conv3D(Kernel):
    types = ("float32",)

    @staticmethod
    def prepare(op: OpContext) -> Conv3DParams:
        if len(op.inputs) not in (2, 3) or op.inputs[0] is None or op.inputs[1] is None or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: CONV_3D takes input, filter and an optional bias")
        check_float(op, ("the input", "the filter", "the bias"))
        x, w = op.inputs[:2]
        if len(x.shape) != 5 or len(w.shape) != 5:
            raise ModelError(f"{op.where()}: CONV_3D needs a 5-D input and filter, got {list(x.shape)}, {list(w.shape)}")
        if x.shape[4] != w.shape[3]:
            raise ModelError(f"{op.where()}: the input's {x.shape[4]} channels do not match the filter's {w.shape[3]}")
        return conv3d_options(op)

    @staticmethod
    def eval(p: Conv3DParams, x, w, bias=None):
        n, in_sizes, cin = x.shape[0], x.shape[1:4], x.shape[4]
        k_sizes, cout = w.shape[:3], w.shape[4]
        if cin != w.shape[3]:
            raise fail(f"CONV_3D: {cin} input channels for a filter of {w.shape[3]}")
        outs, pads = window(p, in_sizes, k_sizes)
        acc = np.zeros((n,) + tuple(max(o, 0) for o in outs) + (cout,), np.float32)
        axes = []
        for o, pad, s, d, size in zip(outs, pads, p.strides, p.dilations, in_sizes):
            axes.append((np.arange(max(o, 0)) * s - pad, d, size))
        with np.errstate(all="ignore"):
            for fd in range(k_sizes[0]):
                for fy in range(k_sizes[1]):
                    for fx in range(k_sizes[2]):
                        idx, ok = [], []
                        for (origin, d, size), f in zip(axes, (fd, fy, fx)):
                            at = origin + d * f
                            idx.append(np.clip(at, 0, max(size - 1, 0)))
                            ok.append((at >= 0) & (at < size))
                        valid = ok[0][:, None, None] & ok[1][None, :, None] & ok[2][None, None, :]
                        if not valid.any():
                            continue
                        taps = x[:, idx[0]][:, :, idx[1]][:, :, :, idx[2]]  # [n, od, oh, ow, cin]
                        for c in range(cin):
                            prod = taps[..., c:c + 1] * w[fd, fy, fx, c]
                            acc += np.where(valid[None, ..., None], prod, np.float32(0)).astype(np.float32)
            if bias is not None:
                acc = (acc + bias.astype(np.float32)).astype(np.float32)
        lo, hi = p.clamp
        return np.minimum(np.maximum(acc, lo), hi).astype(np.float32)
