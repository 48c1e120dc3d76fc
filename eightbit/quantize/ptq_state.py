"""What the stages of full-integer PTQ (quantize/ptq.py) pass each other."""

from __future__ import annotations

from dataclasses import dataclass, field

from eightbit.ir import QuantParams, Subgraph, Tensor
from eightbit.quantize import params as P


class QuantizationError(ValueError):
    """The model cannot be quantized as asked; the message says which operators and why."""


@dataclass
class Report:
    """What a conversion did, for the CLI summary and for tests."""

    mode: str = ""
    quantized_ops: dict = field(default_factory=dict)  # op type -> count
    float_ops: list = field(default_factory=list)  # (op index, op type, reason)
    warnings: list = field(default_factory=list)
    widened_bias: list = field(default_factory=list)  # (op index, op type, channels)
    requantize_ops: int = 0
    quantized_weights: list = field(default_factory=list)  # tensor names (dynamic range / float16)
    passes: dict = field(default_factory=dict)  # graph pass name -> rewrites

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)


@dataclass
class OpPlan:
    """How one operator is quantized (input / output positions by role), from its op table entry."""

    k: int
    spec: object
    act_in: list  # input positions that are activations (float, quantized as activations)
    weights: list  # input positions quantized as int8 weights
    bias: int | None  # input position of the bias
    act_out: list  # output positions (float)
    linked_in: list  # input positions sharing the op's parameters
    main_in: int | None  # the activation input the bias scale comes from

    @property
    def same_scale(self) -> bool:
        return bool(self.linked_in)


@dataclass
class PtqState:
    """The subgraph being quantized and what the stages decided so far."""

    sg: Subgraph
    act: str  # activation type: "INT8" or "INT16"
    ranges: dict  # tensor index -> (min, max) from calibration
    n_tensors: int  # tensors before any was added (the original float graph)
    plans: dict = field(default_factory=dict)  # op index -> OpPlan
    params: dict = field(default_factory=dict)  # tensor index -> P.Params
    op_ref: dict = field(default_factory=dict)  # same-scale op index -> the parameters it shares
    act_tensors: set = field(default_factory=set)  # activation tensors of quantized operators
    new_inputs: dict = field(default_factory=dict)  # (op index, position) -> quantized constant
    quantized_tensor: dict = field(default_factory=dict)  # float tensor -> its activation-type version
    before: dict = field(default_factory=dict)  # op index -> operators to insert before it
    after: dict = field(default_factory=dict)  # op index -> operators to insert after it
    start: list = field(default_factory=list)  # operators to run first
    end: list = field(default_factory=list)  # operators to run last

    @property
    def bias_type(self) -> str:
        return "INT64" if self.act == "INT16" else "INT32"

    def float_operands(self, k: int) -> int:
        op = self.sg.operators[k]
        return sum(1 for t in op.inputs if t >= 0 and self.sg.tensors[t].type == "FLOAT32")

    def linked(self, k: int) -> tuple[list, list]:
        """(input tensors, output tensors) of operator k that share its parameters."""
        op, pl = self.sg.operators[k], self.plans[k]
        if not pl.same_scale:
            return [], []
        return [op.inputs[p] for p in pl.linked_in], [op.outputs[p] for p in pl.act_out]


def qparams(p: P.Params) -> QuantParams:
    return QuantParams(p.scale, p.zero_point, 0)


def params_of(t: Tensor) -> P.Params | None:
    if not t.quantized or t.type not in ("INT8", "INT16", "UINT8"):
        return None
    return P.Params.of(t.quantization.scale, t.quantization.zero_point, t.type)
