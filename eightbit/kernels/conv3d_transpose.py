"""CONV_3D_TRANSPOSE (TFLite kernels/conv3d_transpose.cc, reference/conv3d_transpose.h): float32
only. Inputs: output shape (int32 [5]), filter [KD, KH, KW, Cout, Cin], input [N, D, H, W, Cin],
optional bias [Cout]. The padding is the forward CONV_3D's from the output shape (whose output
size must be the input's). Every input element scatters its products into the outputs it reaches;
each output sums them in float32 in TFLite's order: input positions in raster order (for one
output, that is the filter taps in reverse raster order), then input channels. Then bias and the
fused activation clamp."""

from __future__ import annotations

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.conv3d import Conv3DParams, conv3d_options, window
from eightbit.kernels.movement import as_ints, fail, require_type


class Conv3DTranspose(Kernel):
    types = ("float32",)

    @staticmethod
    def prepare(op: OpContext) -> Conv3DParams:
        if len(op.inputs) not in (3, 4) or any(t is None for t in op.inputs[:3]) or len(op.outputs) != 1:
            raise ModelError(f"{op.where()}: CONV_3D_TRANSPOSE takes output shape, filter, input and an optional bias")
        require_type(op, op.inputs[0], ("INT32",), "output shape")
        for t, what in zip(op.inputs[1:], ("filter", "input", "bias")):
            if t is not None and t.type != "FLOAT32":
                raise op.unsupported(f"CONV_3D_TRANSPOSE runs float32 only; the {what} is {t.type}")
        w, x = op.inputs[1], op.inputs[2]
        if len(x.shape) != 5 or len(w.shape) != 5:
            raise ModelError(f"{op.where()}: CONV_3D_TRANSPOSE needs a 5-D input and filter")
        if x.shape[4] != w.shape[4]:
            raise ModelError(f"{op.where()}: the input's {x.shape[4]} channels do not match the filter's {w.shape[4]}")
        return conv3d_options(op)

    @staticmethod
    def eval(p: Conv3DParams, output_shape, w, x, bias=None):
        shape = tuple(int(v) for v in as_ints(output_shape))
        if len(shape) != 5 or shape[0] != x.shape[0] or shape[4] != w.shape[3]:
            raise fail(f"CONV_3D_TRANSPOSE: output shape {list(shape)} does not fit input {x.shape} / filter {w.shape}")
        k_sizes = w.shape[:3]
        computed, pads = window(p, shape[1:4], k_sizes)
        if tuple(computed) != tuple(x.shape[1:4]):
            raise fail(f"CONV_3D_TRANSPOSE: output shape {list(shape)} gives a forward size {list(computed)}, not the "
                       f"input's {list(x.shape[1:4])}")
        # A canvas holding every position an input can reach (padding included), cropped at the end.
        extent = [max((n - 1) * s + d * (k - 1) + 1, pad + o)
                  for n, s, d, k, pad, o in zip(x.shape[1:4], p.strides, p.dilations, k_sizes, pads, shape[1:4])]
        canvas = np.zeros((shape[0], *extent, shape[4]), np.float32)
        n_d, n_h, n_w = x.shape[1:4]
        sd, sh, sw = p.strides
        dd, dh, dw = p.dilations
        with np.errstate(all="ignore"):
            for fd in reversed(range(k_sizes[0])):
                for fy in reversed(range(k_sizes[1])):
                    for fx in reversed(range(k_sizes[2])):
                        at = (slice(None), slice(dd * fd, dd * fd + sd * (n_d - 1) + 1, sd),
                              slice(dh * fy, dh * fy + sh * (n_h - 1) + 1, sh),
                              slice(dw * fx, dw * fx + sw * (n_w - 1) + 1, sw))
                        for c in range(x.shape[4]):
                            canvas[at] += x[..., c:c + 1] * w[fd, fy, fx, :, c]
            out = canvas[:, pads[0]:pads[0] + shape[1], pads[1]:pads[1] + shape[2], pads[2]:pads[2] + shape[3]]
            if bias is not None:
                out = out + bias.astype(np.float32)
        lo, hi = p.clamp
        return np.ascontiguousarray(np.minimum(np.maximum(out, lo), hi), np.float32)
