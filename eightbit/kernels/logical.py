"""LOGICAL_AND, LOGICAL_OR (TFLite kernels/logical.cc) and LOGICAL_NOT (kernels/elementwise.cc):
bool only. AND / OR broadcast numpy-style (LiteRT 2.3.0 broadcasts any rank)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import require_arity
from eightbit.kernels.unary_plain import PlainUnary


@dataclass(frozen=True)
class LogicalParams:
    function: object


def _prepare_binary(op: OpContext, name: str, function) -> LogicalParams:
    require_arity(op, 2, f"{name} takes 2 inputs and gives 1 output")
    a, b = op.inputs
    for t in (a, b, op.outputs[0]):
        if t.type != "BOOL":
            raise op.unsupported(f"{name} runs BOOL only, not {t.type}")
    check_broadcast(op, a.shape, b.shape)
    return LogicalParams(function)


def check_broadcast(op: OpContext, a_shape, b_shape) -> tuple:
    """The broadcast output shape, or a ModelError naming both shapes."""
    try:
        shape = np.broadcast_shapes(tuple(a_shape), tuple(b_shape))
    except ValueError as e:
        raise ModelError(f"{op.where()}: input shapes {tuple(a_shape)} and {tuple(b_shape)} do not broadcast") from e
    return shape


def _eval_binary(params: LogicalParams, a, b):
    return np.asarray(params.function(a, b), np.bool_)


class LogicalAnd(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        return _prepare_binary(op, "LOGICAL_AND", np.logical_and)

    eval = staticmethod(_eval_binary)


class LogicalOr(Kernel):
    @staticmethod
    def prepare(op: OpContext):
        return _prepare_binary(op, "LOGICAL_OR", np.logical_or)

    eval = staticmethod(_eval_binary)


class LogicalNot(PlainUnary):
    name = "LOGICAL_NOT"
    allowed = ("BOOL",)
    function = staticmethod(np.logical_not)
