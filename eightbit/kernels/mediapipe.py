"""MediaPipe's custom operators (mediapipe/util/tflite/operations/), shipped as custom kernels.

Convolution2DTransposeBias: TFLite's float TRANSPOSE_CONV with a bias, as MediaPipe's
segmentation models use it. Inputs: data [N, H, W, Cin], weights [Cout, KH, KW, Cin] (OHWI),
bias [Cout]. custom_options is TfLiteTransposeConvParams as raw little-endian int32s: padding
(1 SAME, 2 VALID), stride_width, stride_height. The output is
  height = stride_h * (H - 1) + KH - pad_h,  pad_h = max(0, KH - (H - 1) % stride_h - 1) for SAME
(width alike), every output starts at the bias, and input pixel (y, x) adds its product with tap
(fy, fx) at output (y * stride_h - pad_h // 2 + fy, x * stride_w - pad_w // 2 + fx) when inside.
Float only, as MediaPipe's kernel.
"""

from __future__ import annotations

import struct

import numpy as np

from eightbit.kernels.base import Kernel, OpContext

_SAME, _VALID = 1, 2


def _padding(size: int, kernel: int, stride: int, padding: int) -> int:
    return max(0, kernel - (size - 1) % stride - 1) if padding == _SAME else 0


class Convolution2DTransposeBias(Kernel):
    types = ("float32",)

    @staticmethod
    def prepare(op: OpContext):
        raw = op.custom_options or b""
        if len(raw) < 12:
            raise op.unsupported(f"custom_options hold {len(raw)} bytes; TfLiteTransposeConvParams needs 12 "
                                 "(padding, stride_width, stride_height)")
        padding, stride_w, stride_h = struct.unpack_from("<3i", raw)
        if padding not in (_SAME, _VALID) or stride_w < 1 or stride_h < 1:
            raise op.unsupported(f"padding {padding} / strides {stride_w}x{stride_h} are not valid")
        if len(op.inputs) != 3 or any(t is None or t.type != "FLOAT32" for t in op.inputs) \
                or op.outputs[0].type != "FLOAT32":
            raise op.unsupported("runs float32 data, weights and bias only (as MediaPipe's kernel)")
        x, w, b = op.inputs
        if len(x.shape) != 4 or len(w.shape) != 4 or len(b.shape) != 1:
            raise op.unsupported(f"needs 4-D data and weights and a 1-D bias, got {x.shape}, {w.shape}, {b.shape}")
        if w.shape[3] != x.shape[3] or w.shape[0] != b.shape[0]:
            raise op.unsupported(f"weights {w.shape} do not fit data {x.shape} and bias {b.shape}")
        return {"padding": padding, "stride": (stride_h, stride_w)}

    @staticmethod
    def eval(params, x, w, bias):
        n, in_h, in_w, _ = x.shape
        cout, kh, kw, _ = w.shape
        sh, sw = params["stride"]
        pad_h = _padding(in_h, kh, sh, params["padding"])
        pad_w = _padding(in_w, kw, sw, params["padding"])
        out_h, out_w = sh * (in_h - 1) + kh - pad_h, sw * (in_w - 1) + kw - pad_w
        top, left = pad_h // 2, pad_w // 2
        # Scatter every tap's products into a canvas that holds the positions cut off by the
        # padding too, then crop: no per-pixel bounds tests.
        full_h, full_w = sh * (in_h - 1) + kh, sw * (in_w - 1) + kw
        canvas = np.zeros((n, full_h, full_w, cout), np.float32)
        xf = x.astype(np.float32)
        for fy in range(kh):
            for fx in range(kw):
                contrib = xf @ w[:, fy, fx, :].astype(np.float32).T  # [n, in_h, in_w, cout]
                canvas[:, fy:fy + sh * (in_h - 1) + 1:sh, fx:fx + sw * (in_w - 1) + 1:sw, :] += contrib
        out = canvas[:, top:top + out_h, left:left + out_w, :] + bias.astype(np.float32)
        return np.ascontiguousarray(out, dtype=np.float32)
