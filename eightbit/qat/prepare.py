"""`prepare`: a float nn.Module -> a QAT training graph that simulates what TFLite will compute.

The module is traced (torch.fx); then
- conv / linear followed by BatchNorm and/or ReLU / ReLU6 become one FusedLayer (TFLite's
  CONV_2D / FULLY_CONNECTED with folded BatchNorm and fused activation), weights fake-quantized
  per channel, symmetric, narrow range;
- an activation quantizer (EMA range) follows every op whose output TFLite quantizes with its own
  parameters: inputs, fused layers, ADD / SUB / MUL, CONCATENATION, HARD_SWISH, ...; an op followed
  only by ReLU / ReLU6 is quantized after the activation (TFLite fuses it);
- SIGMOID / TANH / SOFTMAX outputs get TFLite's fixed ranges (1/256, 1/128 and 1/32768 scales);
- max pooling, reshapes, transposes, dropout add nothing (they keep their input's parameters);
  average pooling / mean round onto their input's grid (TFLite keeps the input's parameters).
"""

from __future__ import annotations

import copy
import math
import operator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import fx
from torch.fx.passes.shape_prop import ShapeProp

from eightbit.qat.modules import ActQuant, FusedLayer, InputStatsQuant, SharedQuant

SCHEMES = ("tflite_int8", "tf1_uint8")


@dataclass
class QATConfig:
    """What `prepare` simulates. `layers` maps a module name (as in named_modules) to overrides:
    {"weight_bits": 2..8, "activation_bits": 8 | 16}; `keep_float` names conv / linear modules
    left in float (float weights, quantized input and output).

    scheme "tflite_int8": TFLite's int8 scheme (per-channel symmetric int8 weights, int8 or int16
    activations). "tf1_uint8": TF1 contrib quantize + TOCO's legacy uint8 model (per-tensor
    asymmetric weights on 1..255 as create_training_graph's narrow_range, uint8 activations).
    `quantized_input_stats` {input name: (mean, std)} fixes an input's quantization to
    real = (q - mean) / std (TF1's converter attribute); other inputs learn their range."""

    weight_bits: int = 8
    activation_bits: int = 8
    ema_decay: float = 0.999
    quant_delay: int = 0
    freeze_bn_delay: int | None = None
    scheme: str = "tflite_int8"
    layers: dict = field(default_factory=dict)
    keep_float: tuple = ()
    quantized_input_stats: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {self.scheme!r}")
        if self.activation_bits not in (8, 16):
            raise ValueError(f"activation_bits must be 8 or 16 (TFLite int8 / int16x8), got {self.activation_bits}")
        if self.scheme == "tf1_uint8" and (self.activation_bits != 8 or any(
                over.get("activation_bits", 8) != 8 for over in self.layers.values())):
            raise ValueError("scheme 'tf1_uint8' has 8-bit (uint8) activations only")
        for name, stats in (self.quantized_input_stats or {}).items():
            if not (isinstance(stats, (tuple, list)) and len(stats) == 2 and float(stats[1]) > 0):
                raise ValueError(f"quantized_input_stats[{name!r}] must be (mean, std) with std > 0, got {stats!r}")
            if self.activation_bits != 8:
                raise ValueError("quantized_input_stats describe 8-bit inputs; activation_bits is "
                                 f"{self.activation_bits}")
        self.keep_float = tuple(self.keep_float)
        for name, over in self.layers.items():
            unknown = set(over) - {"weight_bits", "activation_bits"}
            if unknown:
                raise ValueError(f"layer {name!r}: unknown option(s) {sorted(unknown)}; "
                                 "use weight_bits / activation_bits")

    def for_layer(self, name: str, key: str):
        return self.layers.get(name, {}).get(key, getattr(self, key))


_RELU_MODULES = (torch.nn.ReLU, torch.nn.ReLU6)
_RELU_FUNCS = {F.relu: "relu", torch.relu: "relu", F.relu6: "relu6"}
_SAME_MODULES = (torch.nn.MaxPool1d, torch.nn.MaxPool2d, torch.nn.AdaptiveMaxPool2d, torch.nn.Flatten,
                 torch.nn.Dropout, torch.nn.Identity, torch.nn.Unflatten)
_SAME_FUNCS = {F.max_pool2d, F.max_pool1d, torch.flatten, torch.reshape, F.dropout, torch.squeeze, torch.unsqueeze,
               torch.transpose, torch.permute, operator.getitem, torch.chunk, torch.split, F.adaptive_max_pool2d}
_SAME_METHODS = {"view", "reshape", "flatten", "permute", "transpose", "squeeze", "unsqueeze", "contiguous",
                 "chunk", "split", "size", "dim"}
_AVG_MODULES = (torch.nn.AvgPool2d, torch.nn.AdaptiveAvgPool2d, torch.nn.AvgPool1d)
_AVG_FUNCS = {F.avg_pool2d, F.adaptive_avg_pool2d, torch.mean}
_FIXED = {"sigmoid": (0.0, 255 / 256), "softmax": (0.0, 255 / 256), "tanh": (-1.0, 127 / 128)}
_FIXED16 = {"sigmoid": (-1.0, 32767 / 32768), "softmax": (-1.0, 32767 / 32768), "tanh": (-1.0, 32767 / 32768)}


def _module(gm, node):
    return gm.get_submodule(node.target) if node.op == "call_module" else None


def _relu_kind(gm, node) -> str | None:
    m = _module(gm, node)
    if isinstance(m, torch.nn.ReLU6):
        return "relu6"
    if isinstance(m, torch.nn.ReLU):
        return "relu"
    if node.op == "call_function" and node.target in _RELU_FUNCS:
        return _RELU_FUNCS[node.target]
    if node.op == "call_function" and node.target is F.hardtanh and tuple(node.args[1:3]) == (0.0, 6.0):
        return "relu6"
    if node.op == "call_method" and node.target == "relu":
        return "relu"
    return None


def _fixed_kind(gm, node) -> str | None:
    m = _module(gm, node)
    for kind, cls in (("sigmoid", torch.nn.Sigmoid), ("tanh", torch.nn.Tanh), ("softmax", torch.nn.Softmax)):
        if isinstance(m, cls):
            return kind
    funcs = {torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", torch.tanh: "tanh", F.tanh: "tanh",
             F.softmax: "softmax", torch.softmax: "softmax"}
    if node.op == "call_function" and node.target in funcs:
        return funcs[node.target]
    if node.op == "call_method" and node.target in ("sigmoid", "tanh", "softmax"):
        return node.target
    return None


def _sole_user(node):
    users = list(node.users)
    return users[0] if len(users) == 1 else None


def _is_float_tensor(node) -> bool:
    meta = node.meta.get("tensor_meta")
    return meta is not None and hasattr(meta, "dtype") and meta.dtype.is_floating_point


class _Builder:
    def __init__(self, gm: fx.GraphModule, config: QATConfig):
        self.gm, self.cfg, self.count = gm, config, 0
        self.signed = config.scheme != "tf1_uint8"
        self.range_of: dict = {}  # node -> the ActQuant whose grid its value lies on

    def add(self, module, prefix: str) -> str:
        self.count += 1
        name = f"{prefix}_{self.count}"
        self.gm.add_submodule(name, module)
        return name

    def act_quant(self, bits: int, fixed=None) -> ActQuant:
        cfg = self.cfg
        if fixed is not None:
            return ActQuant(num_bits=bits, signed=self.signed, mode="fixed", init_range=fixed, quant_delay=cfg.quant_delay)
        return ActQuant(num_bits=bits, signed=self.signed, ema_decay=cfg.ema_decay, quant_delay=cfg.quant_delay)

    def insert_after(self, node, module, prefix: str):
        name = self.add(module, prefix)
        with self.gm.graph.inserting_after(node):
            q = self.gm.graph.call_module(name, (node,))
        q.meta = {k: v for k, v in node.meta.items() if k == "tensor_meta"}
        node.replace_all_uses_with(q, delete_user_cb=lambda u: u is not q)
        return q


def _fuse(b: _Builder) -> None:
    """conv/linear [+ BatchNorm] [+ ReLU/ReLU6] -> one FusedLayer call."""
    gm, cfg = b.gm, b.cfg
    for node in list(gm.graph.nodes):
        layer = _module(gm, node)
        if not isinstance(layer, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Linear)):
            continue
        chain, bn, act = [node], None, None
        nxt = _sole_user(node)
        if nxt is not None and isinstance(_module(gm, nxt), (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            bn = _module(gm, nxt)
            chain.append(nxt)
            nxt = _sole_user(nxt)
        if nxt is not None and _relu_kind(gm, nxt):
            act = _relu_kind(gm, nxt)
            chain.append(nxt)
        fused = FusedLayer(layer, bn, act, weight_bits=cfg.for_layer(node.target, "weight_bits"),
                           quant_delay=cfg.quant_delay, freeze_bn_delay=cfg.freeze_bn_delay,
                           weight_quant=node.target not in cfg.keep_float, per_channel=b.signed, signed=b.signed)
        name = b.add(fused, "fused_" + node.target.replace(".", "_"))
        with gm.graph.inserting_before(node):
            new = gm.graph.call_module(name, node.args, node.kwargs)
        new.meta = dict(chain[-1].meta)
        new.meta["qat_layer"] = node.target
        chain[-1].replace_all_uses_with(new)
        for n in reversed(chain):
            gm.graph.erase_node(n)


def _passes_range(gm, node) -> bool:
    m = _module(gm, node)
    if m is not None:
        return isinstance(m, _SAME_MODULES)
    if node.op == "call_function":
        return node.target in _SAME_FUNCS
    return node.op == "call_method" and node.target in _SAME_METHODS


def _averages(gm, node) -> bool:
    m = _module(gm, node)
    return (isinstance(m, _AVG_MODULES) or (node.op == "call_function" and node.target in _AVG_FUNCS)
            or (node.op == "call_method" and node.target == "mean"))


def _averaged_count(src, node) -> int:
    """Input elements per output element of an average (from the traced shapes)."""
    a, b = src.meta.get("tensor_meta"), node.meta.get("tensor_meta")
    if a is None or b is None:
        return 1
    n_in, n_out = math.prod(a.shape), math.prod(b.shape)
    return max(1, n_in // n_out) if n_out else 1


def _average_rounding(gm, node) -> str:
    """'centered' where TFLite computes MEAN (global / 1x1 adaptive pooling, torch.mean),
    'raw' where it computes AVERAGE_POOL_2D."""
    m = _module(gm, node)
    if isinstance(m, torch.nn.AdaptiveAvgPool2d):
        size = m.output_size if isinstance(m.output_size, tuple) else (m.output_size,) * 2
        return "centered" if tuple(size) == (1, 1) else "raw"
    if node.op == "call_function" and node.target is F.adaptive_avg_pool2d:
        return "centered" if tuple(node.args[1]) in ((1, 1), (1,)) or node.args[1] == 1 else "raw"
    return "centered" if node.target in (torch.mean, "mean") else "raw"


def _quantize_activations(b: _Builder) -> None:
    gm, cfg = b.gm, b.cfg
    for node in list(gm.graph.nodes):
        if node.op in ("output", "get_attr") or not _is_float_tensor(node):
            continue
        layer = node.meta.get("qat_layer", node.target if node.op == "call_module" else None)
        if layer in cfg.keep_float:
            bits = cfg.activation_bits
        else:
            bits = cfg.for_layer(layer, "activation_bits") if isinstance(layer, str) else cfg.activation_bits
        src = node.args[0] if node.args and isinstance(node.args[0], fx.Node) else None
        if node.op != "placeholder" and _passes_range(gm, node):
            if src in b.range_of:
                b.range_of[node] = b.range_of[src]
                continue
        elif node.op != "placeholder" and _averages(gm, node) and src in b.range_of:
            shared = SharedQuant(b.range_of[src], _average_rounding(gm, node), _averaged_count(src, node))
            q = b.insert_after(node, shared, "shared_quant")
            b.range_of[node] = b.range_of[q] = b.range_of[src]
            continue
        user = _sole_user(node)
        if user is not None and _relu_kind(gm, user) and node.op != "placeholder":
            continue  # quantized after the (fused) activation
        kind = _fixed_kind(gm, node)
        fixed = (_FIXED16 if bits == 16 else _FIXED)[kind] if kind else None
        stats = cfg.quantized_input_stats.get(node.name) if node.op == "placeholder" else None
        if stats is not None:
            aq = InputStatsQuant(float(stats[0]), float(stats[1]), b.signed, cfg.quant_delay)
        else:
            aq = b.act_quant(bits, fixed)
        q = b.insert_after(node, aq, "act_quant")
        b.range_of[node] = b.range_of[q] = aq
        _link_fused(b, node, aq)


def _link_fused(b: _Builder, node, out_quant) -> None:
    """Give a FusedLayer its input and output quantizers (int16 requantization is simulated)."""
    if node.op != "call_module" or not isinstance(b.gm.get_submodule(node.target), FusedLayer):
        return
    src = node.args[0] if node.args and isinstance(node.args[0], fx.Node) else None
    if src in b.range_of:
        b.gm.get_submodule(node.target).io_quant = [b.range_of[src], out_quant]


def prepare(model: torch.nn.Module, example_inputs, config: QATConfig | None = None) -> fx.GraphModule:
    """A copy of `model` rewritten for quantization-aware training (see the module docstring).
    `model.train()` is the training graph, `model.eval()` the exact integer model's simulation."""
    config = config or QATConfig()
    if not isinstance(config, QATConfig):
        raise TypeError(f"config must be an eightbit.qat.QATConfig, got {type(config).__name__}")
    names = {n for n, _ in model.named_modules()}
    missing = sorted(({*config.layers} | {*config.keep_float}) - names)
    if missing:
        raise ValueError(f"config names module(s) the model does not have: {missing}")
    modules = dict(model.named_modules())
    not_layers = [n for n in config.keep_float if not isinstance(modules[n], (torch.nn.Conv1d, torch.nn.Conv2d,
                                                                              torch.nn.Linear))]
    if not_layers:
        raise ValueError(f"keep_float names conv / linear modules; {not_layers} are not")
    was_training = model.training
    model = copy.deepcopy(model).eval()
    try:
        gm = fx.symbolic_trace(model)
    except Exception as e:  # noqa: BLE001 - tracing errors are many types; say what failed
        raise ValueError(f"prepare could not trace the model with torch.fx ({type(e).__name__}: {e}); "
                         "data-dependent control flow must be removed from forward") from None
    example_inputs = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    with torch.no_grad():
        ShapeProp(gm).propagate(*example_inputs)
    inputs = [n.name for n in gm.graph.nodes if n.op == "placeholder"]
    unknown = sorted(set(config.quantized_input_stats) - set(inputs))
    if unknown:
        raise ValueError(f"quantized_input_stats names {unknown}, which are not inputs; the inputs are {inputs}")
    b = _Builder(gm, config)
    _fuse(b)
    _quantize_activations(b)
    gm.graph.lint()
    gm.delete_all_unused_submodules()  # the fused conv / BN / ReLU live on inside their FusedLayer
    gm.recompile()
    gm.qat_config = config
    gm.train(was_training)
    return gm
