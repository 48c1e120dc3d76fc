"""One small rule per core-ATen op: each restates the op in the shared lowering vocabulary
(`low.onnx(op_type, inputs, outputs, **attributes)`, the ONNX importer's rules), so the TFLite
builtins, their NCHW forms and every variant (groups, padding, ceil mode, resize modes...) are
lowered by one implementation for both importers.

A rule gets the `TorchLowering` (importer.py) and the FX node; `low.name(arg)` is an argument's
value name (numbers and lists become constants), `low.value(arg)` its constant value or None.
The output value is named after the node and its shape and type are already declared (from
torch.export's metadata); tuple outputs are `name.0`, `name.1`...
"""

from __future__ import annotations

import numpy as np

INT64_MAX = (1 << 63) - 1

# Ops never folded at import time (their quantization must stay visible; random ops).
NO_FOLD = frozenset({"aten.fake_quantize_per_tensor_affine", "aten.fake_quantize_per_channel_affine",
                     "aten.fake_quantize_per_tensor_affine_cachemask",
                     "aten.fake_quantize_per_channel_affine_cachemask",
                     "aten._fake_quantize_per_tensor_affine_cachemask_tensor_qparams", "aten.rand", "aten.randn",
                     "aten.bernoulli", "aten.native_dropout"})

RULES: dict = {}


def packet(target) -> str:
    """'aten.convolution' for aten.convolution.default (the overload packet's name)."""
    name = getattr(target, "__name__", str(target))
    ns = getattr(target, "namespace", "aten")
    base = name.split(".")[0]
    return f"{ns}.{base}"


def aten(*names):
    def register(fn):
        for n in names:
            RULES[f"aten.{n}"] = fn
        return fn

    return register


def _arg(node, i, name, default=None):
    if i < len(node.args):
        return node.args[i]
    return node.kwargs.get(name, default)


def _ints(v, n=None):
    v = [int(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
    return v * n if n and len(v) == 1 else v


# ---- elementwise --------------------------------------------------------------------------
_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log", "abs": "Abs",
          "neg": "Neg", "sqrt": "Sqrt", "reciprocal": "Reciprocal", "floor": "Floor", "ceil": "Ceil",
          "round": "Round", "sign": "Sign", "sin": "Sin", "cos": "Cos", "erf": "Erf", "logical_not": "Not",
          "hardswish": "HardSwish", "mish": "Mish", "bitwise_not": "Not"}


@aten(*_UNARY)
def unary(low, node):
    low.onnx(_UNARY[packet(node.target).split(".")[1]], [low.name(node.args[0])], [node.name])


@aten("rsqrt")
def rsqrt(low, node):
    t = low.temp(node.name, low.shape(node.args[0]))
    low.onnx("Sqrt", [low.name(node.args[0])], [t])
    low.onnx("Reciprocal", [t], [node.name])


@aten("silu")
def silu(low, node):
    x = low.name(node.args[0])
    s = low.temp(node.name, low.shape(node.args[0]))
    low.onnx("Sigmoid", [x], [s])
    low.onnx("Mul", [x, s], [node.name])


_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "maximum": "Max",
           "minimum": "Min", "eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater",
           "ge": "GreaterOrEqual", "logical_and": "And", "logical_or": "Or", "bitwise_and": "And",
           "bitwise_or": "Or", "fmod": "Mod", "remainder": "Mod"}


def _operand(low, node, arg):
    """A scalar operand takes the tensor operand's type (torch's type promotion for scalars)."""
    if isinstance(arg, (int, float, bool)):
        other = node.args[0] if node.args[0] is not arg else node.args[1]
        dtype = low.ctx.dtypes.get(low.name(other), np.float32)
        return low.const(np.asarray(arg, dtype), "s")
    return low.name(arg)


@aten(*_BINARY)
def binary(low, node):
    op = packet(node.target).split(".")[1]
    a, b = _operand(low, node, node.args[0]), _operand(low, node, node.args[1])
    alpha = node.kwargs.get("alpha", 1)
    if op in ("add", "sub") and alpha != 1:
        scaled = low.temp(node.name, low.ctx.shapes[b], low.ctx.dtypes[b])
        low.onnx("Mul", [b, low.const(np.asarray(alpha, low.ctx.dtypes[b]), "alpha")], [scaled])
        b = scaled
    mode = node.kwargs.get("rounding_mode")
    if op == "div" and mode is not None:
        q = low.temp(node.name, low.ctx.shapes[node.name], low.ctx.dtypes[node.name])
        low.onnx("Div", [a, b], [q])
        low.onnx("Floor" if mode == "floor" else "Trunc", [q], [node.name])
        return
    attrs = {"fmod": 1} if op == "fmod" else {}
    low.onnx(_BINARY[op], [a, b], [node.name], **attrs)


@aten("ne")
def not_equal(low, node):
    eq = low.temp(node.name, low.ctx.shapes[node.name], np.bool_)
    low.onnx("Equal", [_operand(low, node, node.args[0]), _operand(low, node, node.args[1])], [eq])
    low.onnx("Not", [eq], [node.name])


@aten("where")
def where(low, node):
    c, a, b = node.args[:3]
    low.onnx("Where", [low.name(c), _operand(low, node, a) if not isinstance(a, (int, float)) else
                       low.const(np.asarray(a, low.ctx.dtypes[node.name])),
                       low.name(b) if not isinstance(b, (int, float)) else
                       low.const(np.asarray(b, low.ctx.dtypes[node.name]))], [node.name])


@aten("clamp", "hardtanh", "clamp_min", "clamp_max")
def clamp(low, node):
    op = packet(node.target).split(".")[1]
    dtype = low.ctx.dtypes[node.name]
    lo = _arg(node, 1, "min") if op != "clamp_max" else None
    hi = _arg(node, 2, "max") if op in ("clamp", "hardtanh") else (_arg(node, 1, "max") if op == "clamp_max" else None)
    if op == "hardtanh":
        lo, hi = _arg(node, 1, "min_val", -1.0), _arg(node, 2, "max_val", 1.0)
    bound = lambda v: "" if v is None else (low.name(v) if not isinstance(v, (int, float)) else  # noqa: E731
                                            low.const(np.asarray(v, dtype), "bound"))
    low.onnx("Clip", [low.name(node.args[0]), bound(lo), bound(hi)], [node.name])


@aten("leaky_relu")
def leaky_relu(low, node):
    low.onnx("LeakyRelu", [low.name(node.args[0])], [node.name], alpha=float(_arg(node, 1, "negative_slope", 0.01)))


@aten("elu")
def elu(low, node):
    alpha, scale, in_scale = (float(_arg(node, i, n, 1.0)) for i, n in ((1, "alpha"), (2, "scale"), (3, "input_scale")))
    if in_scale != 1.0:
        raise _unsupported("elu with input_scale other than 1")
    if scale == 1.0:
        low.onnx("Elu", [low.name(node.args[0])], [node.name], alpha=alpha)
        return
    e = low.temp(node.name, low.ctx.shapes[node.name])  # selu: scale * elu(x, alpha)
    low.onnx("Elu", [low.name(node.args[0])], [e], alpha=alpha)
    low.onnx("Mul", [e, low.const(np.float32(scale), "scale")], [node.name])


@aten("gelu")
def gelu(low, node):
    low.onnx("Gelu", [low.name(node.args[0])], [node.name], approximate=node.kwargs.get("approximate", "none"))


@aten("hardsigmoid")
def hardsigmoid(low, node):
    low.onnx("HardSigmoid", [low.name(node.args[0])], [node.name], alpha=1.0 / 6, beta=0.5)


@aten("softplus")
def softplus(low, node):
    beta = float(_arg(node, 1, "beta", 1.0))
    if beta != 1.0:
        from eightbit.importers.torch.importer import Unsupported

        raise Unsupported("softplus with beta other than 1")
    low.onnx("Softplus", [low.name(node.args[0])], [node.name])


@aten("prelu", "_prelu_kernel")
def prelu(low, node):
    x, w = node.args[:2]
    slope = low.value(w)
    rank = len(low.shape(x))
    if slope is not None and slope.ndim == 1 and rank > 2:
        slope_name = low.const(slope.reshape((-1,) + (1,) * (rank - 2)), "slope")
    else:
        slope_name = low.name(w)
    low.onnx("PRelu", [low.name(x), slope_name], [node.name])


def _unsupported(reason):
    from eightbit.importers.torch.importer import Unsupported

    return Unsupported(reason)


# ---- convolution and matrix products ---------------------------------------------------------
@aten("convolution")
def convolution(low, node):
    x, w, b, stride, padding, dilation, transposed, output_padding, groups = node.args[:9]
    n = len(low.shape(w)) - 2
    pads = _ints(padding, n)
    attrs = {"strides": _ints(stride, n), "dilations": _ints(dilation, n), "pads": pads + pads, "group": int(groups)}
    inputs = [low.name(x), low.name(w), low.name(b) if b is not None else ""]
    if transposed:
        attrs["output_padding"] = _ints(output_padding, n)
        low.onnx("ConvTranspose", inputs, [node.name], **attrs)
    else:
        low.onnx("Conv", inputs, [node.name], **attrs)


@aten("addmm")
def addmm(low, node):
    bias, a, b = node.args[:3]
    beta, alpha = float(node.kwargs.get("beta", 1.0)), float(node.kwargs.get("alpha", 1.0))
    low.onnx("Gemm", [low.name(a), low.name(b), low.name(bias)], [node.name], alpha=alpha, beta=beta)


@aten("mm", "bmm", "matmul")
def matmul(low, node):
    low.onnx("MatMul", [low.name(node.args[0]), low.name(node.args[1])], [node.name])


@aten("linear")
def linear(low, node):
    x, w = node.args[:2]
    b = _arg(node, 2, "bias")
    wt = low.value(w)
    if wt is None:
        raise _unsupported("linear with weights computed at run time")
    w_t = low.const(np.ascontiguousarray(wt.T), "wT")
    if len(low.shape(x)) == 2:
        low.onnx("Gemm", [low.name(x), w_t] + ([low.name(b)] if b is not None else []), [node.name])
        return
    if b is None:
        low.onnx("MatMul", [low.name(x), w_t], [node.name])
        return
    mm = low.temp(node.name, low.ctx.shapes[node.name])
    low.onnx("MatMul", [low.name(x), w_t], [mm])
    low.onnx("Add", [mm, low.name(b)], [node.name])


# ---- normalization --------------------------------------------------------------------------
@aten("_native_batch_norm_legit_no_training", "_native_batch_norm_legit_functional", "native_batch_norm",
      "batch_norm")
def batch_norm(low, node):
    x, w, b, mean, var = node.args[:5]
    eps = float(node.args[-1]) if isinstance(node.args[-1], float) else 1e-5
    c = low.shape(x)[1]
    scale = low.name(w) if w is not None else low.const(np.ones(c, np.float32), "gamma")
    bias = low.name(b) if b is not None else low.const(np.zeros(c, np.float32), "beta")
    out = f"{node.name}.0"
    low.declare(out, low.shape(x), np.float32)
    low.onnx("BatchNormalization", [low.name(x), scale, bias, low.name(mean), low.name(var)], [out], epsilon=eps)


@aten("native_layer_norm")
def layer_norm(low, node):
    x, shape, w, b, eps = node.args[:5]
    n = len(shape)
    d = int(np.prod(shape))
    scale = low.name(w) if w is not None else low.const(np.ones(shape, np.float32), "gamma")
    bias = low.name(b) if b is not None else low.const(np.zeros(shape, np.float32), "beta")
    low.onnx("LayerNormalization", [low.name(x), scale, bias], [f"{node.name}.0"], axis=-n, epsilon=float(eps))
    del d


@aten("native_group_norm")
def group_norm(low, node):
    x, w, b, _n, c, _hw, groups, eps = node.args[:8]
    scale = low.name(w) if w is not None else low.const(np.ones(int(c), np.float32), "gamma")
    bias = low.name(b) if b is not None else low.const(np.zeros(int(c), np.float32), "beta")
    low.onnx("GroupNormalization", [low.name(x), scale, bias], [f"{node.name}.0"], num_groups=int(groups),
             epsilon=float(eps))


# ---- pooling and reductions -----------------------------------------------------------------
@aten("max_pool2d_with_indices", "max_pool2d", "max_pool1d", "max_pool1d_with_indices")
def max_pool(low, node):
    x, kernel = node.args[:2]
    n = len(low.shape(x)) - 2
    k = _ints(kernel, n)
    stride = _ints(_arg(node, 2, "stride", []) or k, n)
    pad = _ints(_arg(node, 3, "padding", 0), n)
    dil = _ints(_arg(node, 4, "dilation", 1), n)
    ceil = bool(_arg(node, 5, "ceil_mode", False))
    out = node.name if packet(node.target) in ("aten.max_pool2d", "aten.max_pool1d") else f"{node.name}.0"
    low.onnx("MaxPool", [low.name(x)], [out], kernel_shape=k, strides=stride, pads=pad + pad, dilations=dil,
             ceil_mode=int(ceil))


@aten("avg_pool2d", "avg_pool1d")
def avg_pool(low, node):
    x, kernel = node.args[:2]
    n = len(low.shape(x)) - 2
    k = _ints(kernel, n)
    stride = _ints(_arg(node, 2, "stride", []) or k, n)
    pad = _ints(_arg(node, 3, "padding", 0), n)
    ceil = bool(_arg(node, 4, "ceil_mode", False))
    include = bool(_arg(node, 5, "count_include_pad", True))
    if _arg(node, 6, "divisor_override") is not None:
        raise _unsupported("avg_pool with divisor_override")
    low.onnx("AveragePool", [low.name(x)], [node.name], kernel_shape=k, strides=stride, pads=pad + pad,
             ceil_mode=int(ceil), count_include_pad=int(include))


@aten("_adaptive_avg_pool2d", "adaptive_avg_pool2d", "_adaptive_avg_pool1d", "adaptive_avg_pool1d")
def adaptive_avg_pool(low, node):
    x, size = node.args[:2]
    in_sizes = low.shape(x)[2:]
    size = _ints(size, len(in_sizes))
    if all(s == 1 for s in size):
        low.onnx("GlobalAveragePool", [low.name(x)], [node.name])
        return
    if any(i % s for i, s in zip(in_sizes, size)):
        raise _unsupported(f"adaptive average pooling from {list(in_sizes)} to {size} (not a whole divisor)")
    k = [i // s for i, s in zip(in_sizes, size)]
    low.onnx("AveragePool", [low.name(x)], [node.name], kernel_shape=k, strides=k)


_REDUCE = {"mean": "ReduceMean", "sum": "ReduceSum", "amax": "ReduceMax", "amin": "ReduceMin", "prod": "ReduceProd"}


@aten(*_REDUCE)
def reduce(low, node):
    op = packet(node.target).split(".")[1]
    x = node.args[0]
    rank = len(low.shape(x))
    dims = _arg(node, 1, "dim")
    if dims is None or (isinstance(dims, (list, tuple)) and len(dims) == 0):
        dims = list(range(rank))
    keep = bool(_arg(node, 2, "keepdim", False))
    low.onnx(_REDUCE[op], [low.name(x), low.const(np.array(_ints(dims), np.int64), "axes")], [node.name],
             keepdims=int(keep))


@aten("argmax", "argmin")
def argmax(low, node):
    x = node.args[0]
    dim = _arg(node, 1, "dim")
    keep = bool(_arg(node, 2, "keepdim", False))
    if dim is None:
        raise _unsupported("argmax/argmin over the flattened tensor")
    low.onnx("ArgMax" if packet(node.target).endswith("argmax") else "ArgMin", [low.name(x)], [node.name],
             axis=int(dim), keepdims=int(keep))


@aten("_softmax", "softmax", "_log_softmax", "log_softmax")
def softmax(low, node):
    op = "LogSoftmax" if "log" in packet(node.target) else "Softmax"
    low.onnx(op, [low.name(node.args[0])], [node.name], axis=int(node.args[1]))


# ---- shapes and data movement ---------------------------------------------------------------
def _shape_const(low, node, sizes) -> str:
    """A target shape; a dimension torch.export made symbolic (dynamic batch) becomes -1."""
    out = []
    for d in sizes:
        try:
            out.append(int(d))
        except (TypeError, ValueError):
            out.append(-1)
    return low.const(np.array(out, np.int64), "shape")


@aten("view", "_unsafe_view", "reshape", "view_copy")
def view(low, node):
    low.onnx("Reshape", [low.name(node.args[0]), _shape_const(low, node, node.args[1])], [node.name])


@aten("permute", "permute_copy")
def permute(low, node):
    low.onnx("Transpose", [low.name(node.args[0])], [node.name], perm=_ints(node.args[1]))


@aten("t")
def transpose_2d(low, node):
    low.onnx("Transpose", [low.name(node.args[0])], [node.name], perm=[1, 0])


@aten("transpose")
def transpose(low, node):
    x, a, b = node.args[:3]
    perm = list(range(len(low.shape(x))))
    perm[int(a)], perm[int(b)] = perm[int(b)], perm[int(a)]
    low.onnx("Transpose", [low.name(x)], [node.name], perm=perm)


@aten("squeeze")
def squeeze(low, node):
    x = node.args[0]
    dims = _arg(node, 1, "dim")
    shape = low.shape(x)
    if dims is None:
        dims = [i for i, d in enumerate(shape) if d == 1]
    dims = [d for d in _ints(dims) if shape[d] == 1]  # torch ignores dims that are not 1
    if not dims:
        low.onnx("Identity", [low.name(x)], [node.name])
        return
    low.onnx("Squeeze", [low.name(x), low.const(np.array(dims, np.int64), "axes")], [node.name])


@aten("unsqueeze")
def unsqueeze(low, node):
    low.onnx("Unsqueeze", [low.name(node.args[0]), low.const(np.array([int(node.args[1])], np.int64), "axes")],
             [node.name])


@aten("expand", "expand_copy")
def expand(low, node):
    x, sizes = node.args[:2]
    shape = low.shape(x)
    target = list(low.ctx.shapes[node.name])
    del sizes, shape
    low.onnx("Expand", [low.name(x), low.const(np.array(target, np.int64), "shape")], [node.name])


@aten("repeat")
def repeat(low, node):
    x, reps = node.args[:2]
    reps = _ints(reps)
    rank = len(low.shape(x))
    src = low.name(x)
    if len(reps) > rank:
        src2 = low.temp(node.name, (1,) * (len(reps) - rank) + low.shape(x))
        low.onnx("Reshape", [src, low.const(np.array(low.ctx.shapes[src2], np.int64), "shape")], [src2])
        src = src2
    low.onnx("Tile", [src, low.const(np.array(reps, np.int64), "repeats")], [node.name])


@aten("cat", "concat")
def cat(low, node):
    tensors = [t for t in node.args[0] if 0 not in low.shape(t)]
    low.onnx("Concat", [low.name(t) for t in tensors], [node.name], axis=int(_arg(node, 1, "dim", 0)))


@aten("stack")
def stack(low, node):
    dim = int(_arg(node, 1, "dim", 0))
    parts = []
    for t in node.args[0]:
        shape = list(low.shape(t))
        d = dim if dim >= 0 else dim + len(shape) + 1
        u = low.temp(node.name, shape[:d] + [1] + shape[d:], low.ctx.dtypes[low.name(t)])
        low.onnx("Unsqueeze", [low.name(t), low.const(np.array([d], np.int64), "axes")], [u])
        parts.append(u)
    low.onnx("Concat", parts, [node.name], axis=dim)


@aten("split_with_sizes", "split", "split_copy", "split_with_sizes_copy")
def split(low, node):
    x, sizes = node.args[:2]
    dim = int(_arg(node, 2, "dim", 0))
    total = low.shape(x)[dim]
    if isinstance(sizes, int):
        sizes = [sizes] * (total // sizes) + ([total % sizes] if total % sizes else [])
    sizes = _ints(sizes)
    outs = [f"{node.name}.{k}" for k in range(len(sizes))]
    low.onnx("Split", [low.name(x), low.const(np.array(sizes, np.int64), "split")], outs, axis=dim)


@aten("unbind")
def unbind(low, node):
    x = node.args[0]
    dim = int(_arg(node, 1, "dim", 0))
    shape = list(low.shape(x))
    n = shape[dim]
    parts = [low.temp(node.name, shape[:dim] + [1] + shape[dim + 1:], low.ctx.dtypes[low.name(x)]) for _ in range(n)]
    low.onnx("Split", [low.name(x), low.const(np.ones(n, np.int64), "split")], parts, axis=dim)
    for k, p in enumerate(parts):
        low.onnx("Squeeze", [p, low.const(np.array([dim], np.int64), "axes")], [f"{node.name}.{k}"])


@aten("slice", "slice_copy")
def slice_(low, node):
    x = node.args[0]
    dim = int(_arg(node, 1, "dim", 0))
    start = _arg(node, 2, "start", 0)
    end = _arg(node, 3, "end", INT64_MAX)
    step = int(_arg(node, 4, "step", 1))
    start = 0 if start is None else int(start)
    end = INT64_MAX if end is None else min(int(end), INT64_MAX)
    low.onnx("Slice", [low.name(x), low.const(np.array([start], np.int64), "starts"),
                       low.const(np.array([end], np.int64), "ends"), low.const(np.array([dim], np.int64), "axes"),
                       low.const(np.array([step], np.int64), "steps")], [node.name])


@aten("select", "select_copy")
def select(low, node):
    x, dim, index = node.args[:3]
    low.onnx("Gather", [low.name(x), low.const(np.array(int(index), np.int64), "index")], [node.name], axis=int(dim))


@aten("index_select")
def index_select(low, node):
    x, dim, idx = node.args[:3]
    low.onnx("Gather", [low.name(x), low.name(idx)], [node.name], axis=int(dim))


@aten("embedding")
def embedding(low, node):
    w, idx = node.args[:2]
    low.onnx("Gather", [low.name(w), low.name(idx)], [node.name], axis=0)


@aten("constant_pad_nd")
def constant_pad(low, node):
    x, pad = node.args[:2]
    value = float(_arg(node, 2, "value", 0.0))
    _pad(low, node, x, _ints(pad), "constant", value)


@aten("reflection_pad1d", "reflection_pad2d", "reflection_pad3d")
def reflect_pad(low, node):
    _pad(low, node, node.args[0], _ints(node.args[1]), "reflect")


@aten("replication_pad1d", "replication_pad2d", "replication_pad3d")
def edge_pad(low, node):
    _pad(low, node, node.args[0], _ints(node.args[1]), "edge")


def _pad(low, node, x, pad, mode, value=0.0):
    """torch's pad list runs from the last dimension backwards: (last_begin, last_end, ...)."""
    rank = len(low.shape(x))
    begins, ends = [0] * rank, [0] * rank
    for k in range(len(pad) // 2):
        begins[rank - 1 - k], ends[rank - 1 - k] = pad[2 * k], pad[2 * k + 1]
    inputs = [low.name(x), low.const(np.array(begins + ends, np.int64), "pads")]
    if mode == "constant":
        inputs.append(low.const(np.array(value, low.ctx.dtypes[low.name(x)]), "value"))
    low.onnx("Pad", inputs, [node.name], mode=mode)


@aten("upsample_nearest2d", "upsample_nearest1d", "_upsample_nearest_exact2d")
def upsample_nearest(low, node):
    sizes = low.ctx.shapes[node.name]
    exact = "exact" in packet(node.target)
    low.onnx("Resize", [low.name(node.args[0]), "", "", low.const(np.array(sizes, np.int64), "sizes")], [node.name],
             mode="nearest", coordinate_transformation_mode="half_pixel" if exact else "asymmetric",
             nearest_mode="round_prefer_ceil" if exact else "floor")


@aten("upsample_bilinear2d", "upsample_linear1d")
def upsample_bilinear(low, node):
    sizes = low.ctx.shapes[node.name]
    align = bool(_arg(node, 2, "align_corners", False))
    low.onnx("Resize", [low.name(node.args[0]), "", "", low.const(np.array(sizes, np.int64), "sizes")], [node.name],
             mode="linear", coordinate_transformation_mode="align_corners" if align else "pytorch_half_pixel")


@aten("clone", "alias", "detach", "lift_fresh_copy", "contiguous", "dropout", "native_dropout")
def identity(low, node):
    if packet(node.target) == "aten.native_dropout":
        low.alias[f"{node.name}.0"] = low.name(node.args[0])
        return
    low.alias[node.name] = low.name(node.args[0])


@aten("_to_copy", "to", "type_as")
def to_copy(low, node):
    src = low.name(node.args[0])
    want = low.ctx.dtypes[node.name]
    if np.dtype(low.ctx.dtypes.get(src, np.float32)) == np.dtype(want):
        low.alias[node.name] = src
        return
    from eightbit.ir.types import TYPE_OF_NUMPY  # noqa: F401 - the Cast rule checks the type

    low.onnx("Cast", [src], [node.name], to=_onnx_type(want))


def _onnx_type(dtype) -> int:
    codes = {"float32": 1, "uint8": 2, "int8": 3, "int16": 5, "int32": 6, "int64": 7, "bool": 9, "float16": 10}
    return codes[np.dtype(dtype).name]


# ---- fake quantization (QAT export): QuantizeLinear / DequantizeLinear with the given parameters --------
@aten("fake_quantize_per_tensor_affine", "fake_quantize_per_tensor_affine_cachemask",
      "fake_quantize_per_channel_affine", "fake_quantize_per_channel_affine_cachemask",
      "_fake_quantize_per_tensor_affine_cachemask_tensor_qparams")
def fake_quantize(low, node):
    per_channel = "per_channel" in packet(node.target)
    if per_channel:
        x, scale, zp, axis, qmin, qmax = node.args[:6]
    elif "tensor_qparams" in packet(node.target):  # scale / zero point as tensors, plus an enable flag
        (x, scale, zp, enabled, qmin, qmax), axis = node.args[:6], None
        if not np.all(np.asarray(low.value(enabled) if not isinstance(enabled, (int, float)) else enabled)):
            raise _unsupported("fake quantization switched off by its fake_quant_enabled tensor")
    else:
        (x, scale, zp, qmin, qmax), axis = node.args[:5], None
    qmin, qmax = int(qmin), int(qmax)
    if qmax > 255 or qmin < -128:
        dtype = np.int16
    else:
        dtype = np.int8 if qmin < 0 else np.uint8
    s = np.asarray(low.value(scale) if not isinstance(scale, (int, float)) else scale, np.float32)
    z = np.asarray(low.value(zp) if not isinstance(zp, (int, float)) else zp).astype(dtype)
    if s is None or z is None:
        raise _unsupported("fake quantization with parameters computed at run time")
    attrs = {"axis": int(axis)} if per_channel else {}
    s_name, z_name = low.const(s, "scale"), low.const(z, "zero_point")
    out = f"{node.name}.0" if "cachemask" in packet(node.target) else node.name
    value = low.value(x)
    if value is not None:  # constant weights: stored quantized, as a QDQ model stores them
        q = _quantize_like_torch(np.asarray(value, np.float32), s, z.astype(np.int64), axis, qmin, qmax)
        low.onnx("DequantizeLinear", [low.const(q.astype(dtype), "weights_q"), s_name, z_name], [out], **attrs)
        return
    q = low.temp(node.name, low.shape(x), dtype)
    low.onnx("QuantizeLinear", [low.name(x), s_name, z_name], [q], **attrs)
    low.onnx("DequantizeLinear", [q, s_name, z_name], [out], **attrs)


def _quantize_like_torch(x, scale, zp, axis, qmin, qmax):
    """torch's fake_quantize: nearbyint(x / scale) + zero_point (half to even), clamped."""
    if axis is not None:
        shape = [1] * x.ndim
        shape[int(axis)] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return np.clip(np.rint(x / scale) + zp, qmin, qmax)


# ---- the rest of what exported models contain --------------------------------------------------
@aten("_assert_tensor_metadata", "_assert_scalar", "sym_constrain_range_for_size", "_assert_async", "sym_size",
      "sym_numel", "sym_stride", "sym_storage_offset")
def no_value(low, node):
    """Export-time checks and symbolic sizes (a dynamic dimension's size, used only in shapes
    that become -1): no tensor value, nothing to run."""


@aten("full_like", "zeros_like", "ones_like", "empty_like")
def full_like(low, node):
    op = packet(node.target).split(".")[1]
    fill = {"zeros_like": 0, "ones_like": 1, "empty_like": 0}.get(op, _arg(node, 1, "fill_value", 0))
    value = np.full(low.ctx.shapes[node.name], fill, low.ctx.dtypes[node.name])
    low.ctx.consts[node.name] = value


@aten("any", "all")
def any_all(low, node):
    x = node.args[0]
    op = packet(node.target).split(".")[1]
    rank = len(low.shape(x))
    dims = _arg(node, 1, "dim")
    dims = list(range(rank)) if dims is None else _ints(dims)
    keep = bool(_arg(node, 2, "keepdim", False))
    f = low.temp(node.name, low.shape(x), np.float32)
    low.onnx("Cast", [low.name(x)], [f], to=1)
    r = low.temp(node.name, low.ctx.shapes[node.name], np.float32)
    low.onnx("ReduceMax" if op == "any" else "ReduceMin", [f, low.const(np.array(dims, np.int64), "axes")], [r],
             keepdims=int(keep))
    low.onnx("Cast", [r], [node.name], to=9)


@aten("var")
def var(low, node):
    """mean((x - mean(x))^2) * n / (n - correction) over the dims."""
    x = node.args[0]
    shape = low.shape(x)
    dims = _arg(node, 1, "dim")
    dims = list(range(len(shape))) if dims is None else [d % len(shape) for d in _ints(dims)]
    correction = node.kwargs.get("correction", 1)
    correction = 1 if correction is None else float(correction)
    keep = bool(node.kwargs.get("keepdim", False))
    n = int(np.prod([shape[d] for d in dims]))
    axes = low.const(np.array(dims, np.int64), "axes")
    mean = low.temp(node.name, [1 if i in dims else s for i, s in enumerate(shape)])
    low.onnx("ReduceMean", [low.name(x), axes], [mean], keepdims=1)
    diff = low.temp(node.name, shape)
    low.onnx("Sub", [low.name(x), mean], [diff])
    sq = low.temp(node.name, shape)
    low.onnx("Mul", [diff, diff], [sq])
    m2 = low.temp(node.name, low.ctx.shapes[node.name])
    low.onnx("ReduceMean", [sq, axes], [m2], keepdims=int(keep))
    low.onnx("Mul", [m2, low.const(np.float32(n / max(n - correction, 1e-12)), "bessel")], [node.name])


@aten("linalg_vector_norm")
def vector_norm(low, node):
    x = node.args[0]
    order = float(_arg(node, 1, "ord", 2))
    if order != 2:
        raise _unsupported(f"vector norm of order {order}")
    shape = low.shape(x)
    dims = _arg(node, 2, "dim")
    dims = list(range(len(shape))) if dims is None else _ints(dims)
    keep = bool(_arg(node, 3, "keepdim", False))
    sq = low.temp(node.name, shape)
    low.onnx("Mul", [low.name(x), low.name(x)], [sq])
    s = low.temp(node.name, low.ctx.shapes[node.name])
    low.onnx("ReduceSum", [sq, low.const(np.array(dims, np.int64), "axes")], [s], keepdims=int(keep))
    low.onnx("Sqrt", [s], [node.name])


@aten("cumsum")
def cumsum(low, node):
    x, dim = node.args[:2]
    low.onnx("CumSum", [low.name(x), low.const(np.array(int(dim), np.int64), "axis")], [node.name])


@aten("flip")
def flip(low, node):
    x, dims = node.args[:2]
    dims = _ints(dims)
    k = len(dims)
    low.onnx("Slice", [low.name(x), low.const(np.full(k, -1, np.int64), "starts"),
                       low.const(np.full(k, -INT64_MAX, np.int64), "ends"), low.const(np.array(dims, np.int64), "axes"),
                       low.const(np.full(k, -1, np.int64), "steps")], [node.name])


@aten("log1p")
def log1p(low, node):
    x = node.args[0]
    t = low.temp(node.name, low.shape(x))
    low.onnx("Add", [low.name(x), low.const(np.float32(1.0), "one")], [t])
    low.onnx("Log", [t], [node.name])


@aten("adaptive_max_pool2d", "adaptive_max_pool1d")
def adaptive_max_pool(low, node):
    x, size = node.args[:2]
    in_sizes = low.shape(x)[2:]
    size = _ints(size, len(in_sizes))
    out = f"{node.name}.0"
    if all(s == 1 for s in size):
        low.onnx("GlobalMaxPool", [low.name(x)], [out])
        return
    if any(i % s for i, s in zip(in_sizes, size)):
        raise _unsupported(f"adaptive max pooling from {list(in_sizes)} to {size} (not a whole divisor)")
    k = [i // s for i, s in zip(in_sizes, size)]
    low.onnx("MaxPool", [low.name(x)], [out], kernel_shape=k, strides=k)


@aten("_native_batch_norm_legit")
def batch_norm_batch_stats(low, node):
    """Batch norm over the batch's own statistics (InstanceNorm exports it on [1, N*C, ...]): per
    channel over every other axis; affine when weight / bias are given."""
    from eightbit.importers.onnx.rules.normalization import normalize

    x, w, b = node.args[:3]
    eps = float(node.args[-1])
    shape = low.shape(x)
    axes = [0] + list(range(2, len(shape)))
    y = normalize(low.ctx, low.ctx.value_tensor(low.name(x)), axes, eps)
    out = f"{node.name}.0"
    cur = low.temp(node.name, shape)
    low.ctx.values[cur] = y
    for arg, op in ((w, "Mul"), (b, "Add")):
        if arg is None:
            continue
        v = low.value(arg)
        param = low.const(v.reshape((1, -1) + (1,) * (len(shape) - 2)), "affine") if v is not None else low.name(arg)
        nxt = low.temp(node.name, shape)
        low.onnx(op, [cur, param], [nxt])
        cur = nxt
    low.alias[out] = cur


@aten("index")
def index(low, node):
    x, indices = node.args[:2]
    present = [(d, i) for d, i in enumerate(indices) if i is not None]
    if len(present) != 1:
        raise _unsupported("indexing with several index tensors")
    d, i = present[0]
    low.onnx("Gather", [low.name(x), low.name(i)], [node.name], axis=d)
