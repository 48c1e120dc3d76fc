"""`prepare`: a float nn.Module -> a QAT training graph that simulates what TFLite will compute.

The module is exported with torch.export (the graph `from_torch` imports; Python control flow is
resolved for the example inputs, the batch dimension stays dynamic), and the exported ATen graph
(ExportedProgram.module()) is rewritten; each call is matched to its source module through the
export's nn_module_stack, so `QATConfig` names modules as `named_modules` does. Then
- conv / linear followed by BatchNorm and/or ReLU / ReLU6 become one FusedLayer (TFLite's
  CONV_2D / FULLY_CONNECTED with folded BatchNorm and fused activation), weights fake-quantized
  per channel, symmetric, narrow range;
- an activation quantizer (EMA range) follows every op whose output TFLite quantizes with its own
  parameters: inputs, fused layers, ADD / SUB / MUL, CONCATENATION, HARD_SWISH, ...; an op followed
  only by ReLU / ReLU6 is quantized after the activation (TFLite fuses it);
- SIGMOID / TANH / SOFTMAX outputs get TFLite's fixed ranges (1/256, 1/128 and 1/32768 scales);
- max pooling, reshapes, transposes, dropout add nothing (they keep their input's parameters);
  average pooling / mean round onto their input's grid (TFLite keeps the input's parameters);
- BatchNorm not fused into a layer and dropout call their modules again (export froze them in
  eval form), so `model.train()` trains them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from torch import fx
from torch.fx.passes.shape_prop import ShapeProp

from eightbit.qat.graph import (
    AVERAGES,
    SAME_RANGE,
    aten_name,
    average_rounding,
    averaged_count,
    export_module,
    fixed_kind,
    is_float_tensor,
    module_path,
    relu_kind,
    sole_user,
)
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


_FIXED = {"sigmoid": (0.0, 255 / 256), "softmax": (0.0, 255 / 256), "tanh": (-1.0, 127 / 128)}
_FIXED16 = {"sigmoid": (-1.0, 32767 / 32768), "softmax": (-1.0, 32767 / 32768), "tanh": (-1.0, 32767 / 32768)}
_LAYERS = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Linear)
_BATCH_NORMS = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)


class _Builder:
    def __init__(self, gm: fx.GraphModule, model: torch.nn.Module, config: QATConfig):
        self.gm, self.model, self.cfg, self.count = gm, model, config, 0
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

    def source_module(self, node, kinds):
        """The model's module of type `kinds` that this exported call belongs to (nn_module_stack),
        when its parameters are the ones the call reads; else None."""
        path = module_path(node)
        if path is None:
            return None
        try:
            m = self.model.get_submodule(path)
        except AttributeError:
            return None
        if not isinstance(m, kinds):
            return None
        w = node.args[1] if len(node.args) > 1 else None
        if m.weight is not None and not (isinstance(w, fx.Node) and w.op == "get_attr" and w.target == f"{path}.weight"):
            return None
        return path, m

    def replace(self, chain: list, module, name: str, args: tuple):
        """One call_module `name` for the chain of nodes (its last node's value)."""
        with self.gm.graph.inserting_before(chain[0]):
            new = self.gm.graph.call_module(name, args)
        new.meta = dict(chain[-1].meta)
        chain[-1].replace_all_uses_with(new)
        for n in reversed(chain):
            self.gm.graph.erase_node(n)
        return new


def _fuse(b: _Builder) -> None:
    """conv/linear [+ BatchNorm] [+ ReLU/ReLU6] -> one FusedLayer call."""
    cfg = b.cfg
    for node in list(b.gm.graph.nodes):
        found = b.source_module(node, _LAYERS) if aten_name(node) in ("conv1d", "conv2d", "linear") else None
        if found is None:
            continue
        path, layer = found
        chain, bn, act = [node], None, None
        nxt = sole_user(node)
        if nxt is not None and aten_name(nxt) == "batch_norm" and nxt.args[0] is node:
            hit = b.source_module(nxt, _BATCH_NORMS)
            if hit is not None:
                bn = hit[1]
                chain.append(nxt)
                nxt = sole_user(nxt)
        if nxt is not None and relu_kind(nxt):
            act = relu_kind(nxt)
            chain.append(nxt)
        fused = FusedLayer(layer, bn, act, weight_bits=cfg.for_layer(path, "weight_bits"),
                           quant_delay=cfg.quant_delay, freeze_bn_delay=cfg.freeze_bn_delay,
                           weight_quant=path not in cfg.keep_float, per_channel=b.signed, signed=b.signed)
        new = b.replace(chain, fused, b.add(fused, "fused_" + path.replace(".", "_")), (node.args[0],))
        new.meta["qat_layer"] = path


def _restore_train_modules(b: _Builder) -> None:
    """torch.export froze BatchNorm (not fused into a layer) and dropout in their eval form: call
    the modules again so that model.train() trains them."""
    for node in list(b.gm.graph.nodes):
        kind = aten_name(node)
        if kind == "batch_norm":
            found = b.source_module(node, _BATCH_NORMS)
            if found is not None:
                b.replace([node], found[1], b.add(found[1], "bn_" + found[0].replace(".", "_")), (node.args[0],))
        elif kind == "dropout":
            m = torch.nn.Dropout(float(node.args[1]))
            b.replace([node], m, b.add(m, "dropout"), (node.args[0],))


def _passes_range(gm, node) -> bool:
    if node.op == "call_module":
        return isinstance(gm.get_submodule(node.target), torch.nn.Dropout)
    return aten_name(node) in SAME_RANGE


def _quantize_activations(b: _Builder) -> None:
    gm, cfg = b.gm, b.cfg
    for node in list(gm.graph.nodes):
        if node.op in ("output", "get_attr") or not is_float_tensor(node):
            continue
        layer = node.meta.get("qat_layer") or module_path(node)
        if layer in cfg.keep_float:
            bits = cfg.activation_bits
        else:
            bits = cfg.for_layer(layer, "activation_bits") if isinstance(layer, str) else cfg.activation_bits
        src = node.args[0] if node.args and isinstance(node.args[0], fx.Node) else None
        if node.op != "placeholder" and _passes_range(gm, node):
            if src in b.range_of:
                b.range_of[node] = b.range_of[src]
                continue
        elif node.op != "placeholder" and aten_name(node) in AVERAGES and src in b.range_of:
            shared = SharedQuant(b.range_of[src], average_rounding(node), averaged_count(src, node))
            q = b.insert_after(node, shared, "shared_quant")
            b.range_of[node] = b.range_of[q] = b.range_of[src]
            continue
        user = sole_user(node)
        if user is not None and relu_kind(user) and node.op != "placeholder":
            continue  # quantized after the (fused) activation
        kind = fixed_kind(node)
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
    example_inputs = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    gm = export_module(model, example_inputs)
    with torch.no_grad():
        ShapeProp(gm).propagate(*example_inputs)
    inputs = [n.name for n in gm.graph.nodes if n.op == "placeholder"]
    unknown = sorted(set(config.quantized_input_stats) - set(inputs))
    if unknown:
        raise ValueError(f"quantized_input_stats names {unknown}, which are not inputs; the inputs are {inputs}")
    b = _Builder(gm, model, config)
    _fuse(b)
    _restore_train_modules(b)
    _quantize_activations(b)
    gm.graph.eliminate_dead_code()  # the fused layers' parameter reads
    gm.graph.lint()
    gm.delete_all_unused_submodules()  # the fused conv / BN / ReLU live on inside their FusedLayer
    gm.recompile()
    gm.qat_config = config
    gm.train(was_training)
    return gm
