"""LOGICAL_AND and LOGICAL_OR against LiteRT's reference kernels: equal shapes, broadcasting
(scalars, size-1 dimensions, ranks up to 6), batch resize, empty tensors, constant inputs, and
the refusal of non-bool inputs."""

from __future__ import annotations

import numpy as np
import pytest

from eightbit.errors import ModelError
from tests.kernels.newops_oracle import check, t
from tests.oracle import run_eightbit, single_op_model

RNG = np.random.default_rng(73)
B = np.bool_
SHAPES = [((2, 3), (2, 3)), ((4, 1), (1, 5)), ((), (3, 2)), ((2, 1, 3), (3,)),
          ((1, 2, 1, 3, 1, 2), (2, 1, 4, 1, 2, 1)), ((0, 3), (1, 3))]


def logical_model(op, a, b):
    return single_op_model(op, [t(a, B), t(b, B)], [t(np.broadcast_shapes(a, b), B)], {})


@pytest.mark.parametrize("op", ["LOGICAL_AND", "LOGICAL_OR"])
@pytest.mark.parametrize("a,b", SHAPES, ids=[f"{a}x{b}" for a, b in SHAPES])
def test_logical(op, a, b):
    check(logical_model(op, a, b), [RNG.random(a) < 0.5, RNG.random(b) < 0.5])


@pytest.mark.parametrize("op", ["LOGICAL_AND", "LOGICAL_OR"])
def test_constant_operand_and_batch_resize(op):
    const = np.array([True, False, True])
    m = single_op_model(op, [t((1, 3), B), t((3,), B, data=const)], [t((1, 3), B)], {})
    check(m, [RNG.random((5, 3)) < 0.5])


def test_non_bool_is_refused():
    m = single_op_model("LOGICAL_AND", [t((2,), np.int32), t((2,), np.int32)], [t((2,), np.int32)], {})
    with pytest.raises(ModelError, match="LOGICAL_AND runs BOOL only"):
        run_eightbit(m, [np.ones(2, np.int32), np.ones(2, np.int32)])
