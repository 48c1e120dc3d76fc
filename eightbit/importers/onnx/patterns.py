"""Node patterns fused before lowering, where exporters decompose an op TFLite has as a builtin.

GELU: torch exports x * 0.5 * (1 + erf(x / sqrt 2)) as Div/Mul, Erf, Add, Mul, Mul, and the tanh
form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GELU(approximate="tanh"), GPT-2's gelu_new)
as Pow or Mul, Mul, Add, Mul, Tanh, Add, Mul, Mul; the fused node is ONNX's own Gelu (opset 20),
lowered to TFLite's GELU (approximate for the tanh form), which is also far better to quantize
than the pieces.
"""

from __future__ import annotations

import numpy as np

from eightbit.importers.onnx.context import OnnxNode

SQRT2 = float(np.sqrt(2.0))
SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
CUBIC = 0.044715


def fuse_patterns(nodes: list, consts: dict, graph_outputs: set) -> tuple[list, list]:
    """The node list with the patterns fused, and notes saying what was fused."""
    const_values = dict(consts)
    for n in nodes:
        if n.op_type == "Constant" and "value" in n.attrs and n.outputs:
            const_values[n.outputs[0]] = np.asarray(n.attrs["value"])
    consumers: dict = {}
    for n in nodes:
        for i in n.inputs:
            if i:
                consumers.setdefault(i, []).append(n)
    producers = {o: n for n in nodes for o in n.outputs if o}
    finder = _Finder(const_values, consumers, producers, graph_outputs)
    removed, replacement = set(), {}
    for n in nodes:
        if n.op_type in ("Erf", "Tanh") and n.domain in ("", "ai.onnx") and id(n) not in removed:
            found = finder.gelu(n)
            if found is not None:
                gelu, parts = found
                removed.update(id(p) for p in parts)
                replacement[id(parts[-1])] = gelu
    if not replacement:
        return nodes, []
    out = []
    for n in nodes:
        if id(n) in replacement:
            out.append(replacement[id(n)])
        elif id(n) not in removed:
            out.append(n)
    # a fused node takes the place of the pattern's last node, after every producer of x
    return out, [f"fused {len(replacement)} GELU pattern(s) (erf or tanh form) into GELU"]


class _Finder:
    def __init__(self, consts, consumers, producers, graph_outputs):
        self.consts, self.consumers, self.producers, self.graph_outputs = consts, consumers, producers, graph_outputs

    def scalar(self, name):
        v = self.consts.get(name)
        return float(v.reshape(-1)[0]) if v is not None and v.size == 1 else None

    def only_consumer(self, name):
        users = self.consumers.get(name, [])
        return users[0] if len(users) == 1 and name not in self.graph_outputs else None

    def other(self, node, name):
        """The other input of a binary node, given one."""
        a, b = node.inputs[:2]
        return b if a == name else a if b == name else None

    def binary_with_constant(self, node, op_type, value):
        """x when node is op_type(x, value) or op_type(value, x) for commutative ops."""
        if node is None or node.op_type != op_type or len(node.inputs) != 2:
            return None
        for k in (1, 0) if op_type in ("Mul", "Add") else (1,):
            c = self.scalar(node.inputs[k])
            if c is not None and abs(c - value) <= 1e-3 * abs(value):
                return node.inputs[1 - k]
        return None

    def erf_head(self, erf: OnnxNode):
        """(x, nodes) for erf(x / sqrt 2)."""
        pre = self.producers.get(erf.inputs[0])
        x = self.binary_with_constant(pre, "Div", SQRT2) or self.binary_with_constant(pre, "Mul", 1 / SQRT2)
        if x is None or self.only_consumer(pre.outputs[0]) is not erf:
            return None, []
        return x, [pre]

    def tanh_head(self, tanh: OnnxNode):
        """(x, nodes) for tanh(sqrt(2/pi) * (x + 0.044715 * x^3))."""
        pre = self.producers.get(tanh.inputs[0])
        s = self.binary_with_constant(pre, "Mul", SQRT_2_OVER_PI)
        add = self.producers.get(s) if s else None
        if add is None or add.op_type != "Add" or self.only_consumer(s) is not pre:
            return None, []
        for x, cubic in (add.inputs[:2], add.inputs[1::-1]):
            cube_node = self.producers.get(cubic)
            cube = self.binary_with_constant(cube_node, "Mul", CUBIC)
            nodes = self.cube_of(x, cube)
            if nodes is not None and self.only_consumer(cubic) is add and self.only_consumer(cube) is cube_node:
                return x, nodes + [cube_node, add, pre]
        return None, []

    def cube_of(self, x, name):
        """The nodes computing x^3 as Pow(x, 3), x * (x * x) or (x * x) * x; None otherwise."""
        node = self.producers.get(name) if name else None
        if node is None:
            return None
        if node.op_type == "Pow" and node.inputs[0] == x and self.scalar(node.inputs[1]) == 3.0:
            return [node]
        if node.op_type == "Mul" and x in node.inputs[:2]:
            sq = self.producers.get(self.other(node, x))
            if (sq is not None and sq.op_type == "Mul" and sq.inputs[:2] == [x, x]
                    and self.only_consumer(sq.outputs[0]) is node):
                return [sq, node]
        return None

    def gelu(self, core: OnnxNode):
        x, parts = self.erf_head(core) if core.op_type == "Erf" else self.tanh_head(core)
        if x is None:
            return None
        erf = core
        add = self.only_consumer(erf.outputs[0])
        if self.binary_with_constant(add, "Add", 1.0) != erf.outputs[0]:
            return None
        mul1 = self.only_consumer(add.outputs[0])
        if mul1 is None or mul1.op_type != "Mul":
            return None
        other = self.other(mul1, add.outputs[0])
        half_x = self.producers.get(other)
        parts = parts + [erf, add]
        if other == x:  # (x * (1 + erf)) * 0.5
            mul2 = self.only_consumer(mul1.outputs[0])
            if self.binary_with_constant(mul2, "Mul", 0.5) != mul1.outputs[0]:
                return None
            parts += [mul1, mul2]
        elif self.binary_with_constant(half_x, "Mul", 0.5) == x and self.only_consumer(other) is mul1:
            parts = [half_x] + parts + [mul1]  # (x * 0.5) * (1 + erf)
        elif self.scalar(other) is not None and abs(self.scalar(other) - 0.5) < 1e-6:
            mul2 = self.only_consumer(mul1.outputs[0])  # ((1 + erf) * 0.5) * x
            if mul2 is None or mul2.op_type != "Mul" or self.other(mul2, mul1.outputs[0]) != x:
                return None
            parts += [mul1, mul2]
        else:
            return None
        last = parts[-1]
        approximate = "none" if core.op_type == "Erf" else "tanh"
        gelu = OnnxNode("Gelu", "", f"{last.name}/gelu", [x], [last.outputs[0]], {"approximate": approximate})
        return gelu, parts
