"""Build a channel-first (NCHW) IR graph op by op, with torch computing each op's NCHW value.

Each `Net` method adds one TFLite builtin in source layout (as an importer emits it) and the torch
expression it stands for, so the final outputs have an oracle computed without eightbit.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from eightbit.ir.builder import ModelBuilder

NCHW = {"layout": "NCHW"}
PAD = {"SAME": 0, "VALID": 1}


class Net:
    def __init__(self, seed: int = 0):
        self.b = ModelBuilder()
        self.values: dict = {}
        self.rng = np.random.default_rng(seed)
        self.count = 0

    def _name(self, base):
        self.count += 1
        return f"{base}{self.count}"

    def input(self, shape, name=None) -> int:
        x = self.rng.standard_normal(shape).astype(np.float32)
        t = self.b.tensor(name or self._name("x"), shape)
        self.values[t] = torch.from_numpy(x)
        return t

    def const(self, value, dtype=np.float32) -> int:
        value = np.asarray(value, dtype)
        t = self.b.const(self._name("c"), value)
        self.values[t] = torch.from_numpy(value.copy())
        return t

    def weight(self, shape, scale=0.5) -> int:
        return self.const(self.rng.standard_normal(shape) * scale)

    def op(self, op_type, inputs, value, options=None, options_type=None, layout=False, dtype=np.float32) -> int:
        values = value if isinstance(value, tuple) else (value,)
        outs = [self.b.tensor(self._name(op_type.lower()), tuple(v.shape), dtype) for v in values]
        for t, v in zip(outs, values):
            self.values[t] = v
        self.b.op(op_type, inputs, outs, options or {}, options_type, extra=dict(NCHW) if layout else {})
        return outs if isinstance(value, tuple) else outs[0]

    def v(self, t):
        return self.values[t]

    # ---- layout-sensitive builtins, NCHW --------------------------------------------------------
    def conv(self, x, cout, k=3, stride=1, padding="SAME", groups=1, dilation=1, act=0):
        cin = self.v(x).shape[1]
        w = self.weight((cout, cin // groups, k, k))
        b = self.const(self.rng.standard_normal(cout) * 0.1)
        pad = (dilation * (k - 1)) // 2 if padding == "SAME" else 0
        y = F.conv2d(self.v(x), self.v(w), self.v(b), stride, pad, dilation, groups)
        y = F.relu(y) if act == 1 else y
        return self.op("CONV_2D", [x, w, b], y, {"padding": PAD[padding], "stride_w": stride, "stride_h": stride,
                       "dilation_w_factor": dilation, "dilation_h_factor": dilation, "fused_activation_function": act},
                       "Conv2DOptions", layout=True)

    def depthwise(self, x, k=3, mult=1, stride=1, padding="SAME"):
        c = self.v(x).shape[1]
        w = self.weight((c * mult, 1, k, k))
        b = self.const(self.rng.standard_normal(c * mult) * 0.1)
        pad = (k - 1) // 2 if padding == "SAME" else 0
        y = F.conv2d(self.v(x), self.v(w), self.v(b), stride, pad, 1, c)
        return self.op("DEPTHWISE_CONV_2D", [x, w, b], y, {"padding": PAD[padding], "stride_w": stride,
                       "stride_h": stride, "depth_multiplier": mult}, "DepthwiseConv2DOptions", layout=True)

    def transpose_conv(self, x, cout, k=2, stride=2):
        cin = self.v(x).shape[1]
        w = self.weight((cin, cout, k, k))
        y = F.conv_transpose2d(self.v(x), self.v(w), None, stride)
        shape = self.const(np.asarray(y.shape, np.int32), np.int32)
        return self.op("TRANSPOSE_CONV", [shape, w, x], y, {"padding": PAD["VALID"], "stride_w": stride,
                       "stride_h": stride}, "TransposeConvOptions", layout=True)

    def pool(self, x, kind="MAX", k=2, stride=2):
        f = F.max_pool2d if kind == "MAX" else F.avg_pool2d
        return self.op(f"{kind}_POOL_2D", [x], f(self.v(x), k, stride), {"padding": PAD["VALID"], "stride_w": stride,
                       "stride_h": stride, "filter_width": k, "filter_height": k}, "Pool2DOptions", layout=True)

    def resize(self, x, scale=2, mode="nearest"):
        h, w = self.v(x).shape[2:]
        size = self.const(np.asarray([h * scale, w * scale], np.int32), np.int32)
        if mode == "nearest":
            y = F.interpolate(self.v(x), scale_factor=scale, mode="nearest")
            return self.op("RESIZE_NEAREST_NEIGHBOR", [x, size], y, {}, "ResizeNearestNeighborOptions", layout=True)
        y = F.interpolate(self.v(x), scale_factor=scale, mode="bilinear", align_corners=False)
        return self.op("RESIZE_BILINEAR", [x, size], y, {"half_pixel_centers": True}, "ResizeBilinearOptions",
                       layout=True)

    def depth_to_space(self, x, block=2):
        # TFLite's DEPTH_TO_SPACE channel order is DCR: torch's pixel_shuffle is CRD, so build DCR by hand
        n, c, h, w = self.v(x).shape
        y = self.v(x).reshape(n, block, block, c // block**2, h, w).permute(0, 3, 4, 1, 5, 2)
        y = y.reshape(n, c // block**2, h * block, w * block)
        return self.op("DEPTH_TO_SPACE", [x], y, {"block_size": block}, "DepthToSpaceOptions", layout=True)

    # ---- layout-agnostic builtins --------------------------------------------------------------
    def unary(self, op_type, x):
        fns = {"RELU": F.relu, "LOGISTIC": torch.sigmoid, "TANH": torch.tanh, "HARD_SWISH": F.hardswish}
        return self.op(op_type, [x], fns[op_type](self.v(x)))

    def binary(self, op_type, a, b):
        fns = {"ADD": torch.add, "MUL": torch.mul, "SUB": torch.sub, "MAXIMUM": torch.maximum}
        return self.op(op_type, [a, b], fns[op_type](self.v(a), self.v(b)))

    def concat(self, xs, axis=1):
        return self.op("CONCATENATION", xs, torch.cat([self.v(x) for x in xs], axis), {"axis": axis},
                       "ConcatenationOptions")

    def reduce(self, op_type, x, axes, keep=False):
        fns = {"MEAN": torch.mean, "SUM": torch.sum, "REDUCE_MAX": torch.amax}
        ax = self.const(np.asarray(axes, np.int32), np.int32)
        return self.op(op_type, [x, ax], fns[op_type](self.v(x), tuple(axes), keepdim=keep), {"keep_dims": keep},
                       "ReducerOptions")

    def reshape(self, x, shape):
        s = self.const(np.asarray(shape, np.int32), np.int32)
        return self.op("RESHAPE", [x, s], self.v(x).reshape(shape), {"new_shape": list(shape)}, "ReshapeOptions")

    def transpose(self, x, perm):
        p = self.const(np.asarray(perm, np.int32), np.int32)
        return self.op("TRANSPOSE", [x, p], self.v(x).permute(*perm).contiguous())

    def softmax(self, x):
        return self.op("SOFTMAX", [x], torch.softmax(self.v(x), -1), {"beta": 1.0}, "SoftmaxOptions")

    def fc(self, x, units):
        w = self.weight((units, self.v(x).shape[-1]))
        b = self.const(self.rng.standard_normal(units) * 0.1)
        y = F.linear(self.v(x), self.v(w), self.v(b))
        return self.op("FULLY_CONNECTED", [x, w, b], y, {"keep_num_dims": y.dim() > 2}, "FullyConnectedOptions")

    def pad(self, x, pads):
        p = self.const(np.asarray(pads, np.int32), np.int32)
        flat = [v for pair in reversed(pads) for v in pair]
        return self.op("PAD", [x, p], F.pad(self.v(x), flat))

    def conv_hw(self, x, cout, kh, kw):
        """CONV_2D with a kh x kw kernel, SAME padding (odd kernels), as a conv1d lowers to."""
        w = self.weight((cout, self.v(x).shape[1], kh, kw))
        b = self.const(self.rng.standard_normal(cout) * 0.1)
        y = F.conv2d(self.v(x), self.v(w), self.v(b), 1, ((kh - 1) // 2, (kw - 1) // 2))
        return self.op("CONV_2D", [x, w, b], y, {"padding": PAD["SAME"], "stride_w": 1, "stride_h": 1},
                       "Conv2DOptions", layout=True)

    def strided_slice(self, x, begin, end, strides, shrink=0, begin_mask=0, end_mask=0):
        v = self.v(x)
        idx = []
        for a in range(v.dim()):
            lo = None if begin_mask >> a & 1 else begin[a]
            hi = None if end_mask >> a & 1 else end[a]
            idx.append(begin[a] if shrink >> a & 1 else slice(lo, hi, strides[a]))
        consts = [self.const(np.asarray(c, np.int32), np.int32) for c in (begin, end, strides)]
        return self.op("STRIDED_SLICE", [x, *consts], v[tuple(idx)].contiguous(),
                       {"begin_mask": begin_mask, "end_mask": end_mask, "shrink_axis_mask": shrink},
                       "StridedSliceOptions")

    def slice(self, x, begin, size):
        v = self.v(x)
        idx = tuple(slice(b, b + s) for b, s in zip(begin, size))
        consts = [self.const(np.asarray(c, np.int32), np.int32) for c in (begin, size)]
        return self.op("SLICE", [x, *consts], v[idx].contiguous())

    def split(self, x, num, axis):
        a = self.const(np.asarray(axis, np.int32), np.int32)
        return self.op("SPLIT", [a, x], tuple(torch.chunk(self.v(x), num, axis)), {"num_splits": num}, "SplitOptions")

    def split_v(self, x, sizes, axis):
        s = self.const(np.asarray(sizes, np.int32), np.int32)
        a = self.const(np.asarray(axis, np.int32), np.int32)
        return self.op("SPLIT_V", [x, s, a], tuple(torch.split(self.v(x), sizes, axis)), {"num_splits": len(sizes)},
                       "SplitVOptions")

    def gather(self, x, indices, axis):
        i = self.const(np.asarray(indices, np.int32), np.int32)
        y = torch.index_select(self.v(x), axis, torch.as_tensor(np.atleast_1d(indices), dtype=torch.long))
        if np.ndim(indices) == 0:
            y = y.squeeze(axis)
        return self.op("GATHER", [x, i], y, {"axis": axis}, "GatherOptions")

    def pack(self, xs, axis):
        return self.op("PACK", xs, torch.stack([self.v(x) for x in xs], axis), {"values_count": len(xs), "axis": axis},
                       "PackOptions")

    def unpack(self, x, axis):
        n = self.v(x).shape[axis]
        return self.op("UNPACK", [x], tuple(torch.unbind(self.v(x), axis)), {"num": n, "axis": axis}, "UnpackOptions")

    def squeeze(self, x, dims):
        return self.op("SQUEEZE", [x], self.v(x).squeeze(dims[0]) if len(dims) == 1 else self.v(x).squeeze(),
                       {"squeeze_dims": list(dims)}, "SqueezeOptions")

    def expand_dims(self, x, axis):
        a = self.const(np.asarray([axis], np.int32), np.int32)
        return self.op("EXPAND_DIMS", [x, a], self.v(x).unsqueeze(axis))

    def tile(self, x, multiples):
        m = self.const(np.asarray(multiples, np.int32), np.int32)
        return self.op("TILE", [x, m], self.v(x).repeat(*multiples))

    def arg_max(self, x, axis):
        a = self.const(np.asarray([axis], np.int32), np.int32)
        y = torch.argmax(self.v(x), axis).to(torch.int32)
        return self.op("ARG_MAX", [x, a], y, {"output_type": 2}, "ArgMaxOptions", dtype=np.int32)

    def padv2(self, x, pads, value):
        p = self.const(np.asarray(pads, np.int32), np.int32)
        c = self.const(np.float32(value))
        flat = [v for pair in reversed(pads) for v in pair]
        return self.op("PADV2", [x, p, c], F.pad(self.v(x), flat, value=value))

    def build(self, inputs, outputs):
        self.b.inputs(*inputs).outputs(*outputs)
        return self.b.build()
