"""The table of ONNX lowering rules: one small function per ONNX op type.

How to add a rule
-----------------
Write a function in one of the modules listed in RULE_MODULES (or add a module there) and
decorate it::

    from eightbit.importers.onnx.rules import rule

    @rule("Relu")                                 # default domain ("" == "ai.onnx")
    def relu(ctx, node):
        ctx.emit("RELU", [ctx.tensor(node, 0)], [ctx.output(node, 0)])

    @rule("QLinearAdd", domain="com.microsoft")   # other domains by name
    def qlinear_add(ctx, node): ...

`node` is an `OnnxNode` (op_type, domain, name, inputs, outputs, attrs decoded to Python
values); `ctx` is the `LoweringContext` (eightbit/importers/onnx/context.py), which gives:

- `ctx.opset` (default-domain opset), `ctx.attr(node, "axis", default)`,
  `ctx.has_input(node, i)`;
- `ctx.const(node, i)`: the input's constant value (initializer, Constant, or folded) or None;
- `ctx.tensor(node, i)`: the input's IR tensor index (constants are materialized once);
- `ctx.shape(node, i)`, `ctx.dtype(node, i)`: static shape (tuple of ints) and numpy dtype;
- `ctx.output(node, j, shape=None, dtype=None)`: the IR tensor for output j (shape and dtype
  from ONNX shape inference unless given); `ctx.fold(node, j, value)`: output j is a constant
  (no op emitted); `ctx.alias(node, j, tensor)`: output j is an existing tensor (Identity);
- `ctx.temp(shape, dtype, hint)`, `ctx.add_const(value, hint)`: intermediate / constant tensors;
- `ctx.emit(op_type, inputs, outputs, options, layout=None)`: append a TFLite builtin through
  the ModelBuilder (`ctx.builder`); `options_type` comes from the op's spec. Pass
  `layout="NCHW"` for the layout-sensitive builtins of docs/design/importers.md (CONV_2D,
  DEPTHWISE_CONV_2D, TRANSPOSE_CONV, the 2-D pools, RESIZE_*, DEPTH_TO_SPACE, SPACE_TO_DEPTH):
  it sets `op.extra["layout"] = "NCHW"`. Nothing else about layout: rules never insert a
  TRANSPOSE to reach NHWC, the pass `passes/layout.py` does that;
- `ctx.producer(name)`, `ctx.consumers(name)`: neighbouring ONNX nodes (pattern rules);
- `ctx.note(text)`: a line for converter.report.

A rule that cannot lower one variant raises `ctx.unsupported(node, "why")`; the importer
collects every such node and raises one UnsupportedOpError for all of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

# Every module that registers rules, in import order. rules_quantized holds the QDQ / QOperator ops.
RULE_MODULES = (
    "eightbit.importers.onnx.rules.elementwise",
    "eightbit.importers.onnx.rules.activations",
    "eightbit.importers.onnx.rules.conv",
    "eightbit.importers.onnx.rules.pool",
    "eightbit.importers.onnx.rules.matmul",
    "eightbit.importers.onnx.rules.normalization",
    "eightbit.importers.onnx.rules.reduce",
    "eightbit.importers.onnx.rules.shape",
    "eightbit.importers.onnx.rules.movement",
    "eightbit.importers.onnx.rules.resize",
    "eightbit.importers.onnx.rules_quantized",
)


@dataclass(frozen=True)
class Rule:
    op_type: str
    domain: str
    fn: Callable
    module: str


RULES: dict = {}  # (domain, op_type) -> Rule


def normalize_domain(domain: str) -> str:
    return "" if domain in ("", "ai.onnx") else domain


def rule(*op_types: str, domain: str = ""):
    """Register the decorated function as the lowering of each ONNX op type in `domain`."""
    domain = normalize_domain(domain)

    def register(fn):
        for op_type in op_types:
            key = (domain, op_type)
            if key in RULES and RULES[key].fn is not fn:
                raise ValueError(f"two ONNX rules for {domain or 'ai.onnx'}::{op_type}")
            RULES[key] = Rule(op_type, domain, fn, fn.__module__)
        return fn

    return register


_loaded = False


def load_rules() -> dict:
    """Import every rule module once; returns the table."""
    global _loaded
    if not _loaded:
        for name in RULE_MODULES:
            importlib.import_module(name)
        _loaded = True
    return RULES


def find_rule(op_type: str, domain: str = "") -> Rule | None:
    return load_rules().get((normalize_domain(domain), op_type))
