"""RESHAPE against LiteRT's reference kernels: shape from the input or the options, -1 inference
(zero-sized tensors included), scalars, run-time shapes (every element type: test_records.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import (  # noqa: F401 - re-exported for tests that still import them from here
    ALL_DTYPES,
    BOOL,
    F16,
    F32,
    I8,
    I16,
    I32,
    I64,
    RNG,
    U8,
    U32,
    c,
    check,
    check_both_fail,
    data,
    t,
)
from tests.oracle import assert_same_as_litert, single_op_model

# ---- RESHAPE -------------------------------------------------------------------------------
X = (2, 3, 4)
CASES = [
    ("const_shape", [t(X), c([4, 6])], t((4, 6)), {}),
    ("minus_one_first", [t(X), c([-1, 4])], t((6, 4)), {}),
    ("minus_one_last", [t(X), c([2, 2, -1])], t((2, 2, 6)), {}),
    ("batch_minus_one", [t((5, 8)), c([-1, 2, 4])], t((5, 2, 4)), {}),
    ("to_rank6", [t((2, 3, 4)), c([1, 2, 1, 3, 4, 1])], t((1, 2, 1, 3, 4, 1)), {}),
    ("options_only", [t(X)], t((6, 4)), {"new_shape": [6, -1]}),
    ("options_ignored_when_tensor", [t(X), c([3, 8])], t((3, 8)), {"new_shape": [24]}),
    ("scalar_shape_input_uses_options", [t(X), c(24)], t((24,)), {"new_shape": [24]}),
    ("int64_shape_uses_options", [t(X), c([4, 6], I64)], t((2, 12)), {"new_shape": [2, 12]}),
    ("legacy_zero_is_scalar", [t((1, 1, 1))], t(()), {"new_shape": [0]}),
    ("scalar_to_vector", [t(()), c([1])], t((1,)), {}),
    ("zero_size_minus_one", [t((0, 3)), c([-1, 3])], t((0, 3)), {}),
    ("zero_size_zero_dim_minus_one", [t((0, 3)), c([0, -1])], t((0, 3)), {}),
    ("zero_size_other_zero", [t((2, 0, 3)), c([3, -1, 0])], t((3, 2, 0)), {}),
]


@pytest.mark.parametrize("ins,out,options", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
def test_reshape(ins, out, options):
    check("RESHAPE", ins, [out], None, options)


def test_shape_computed_at_run_time():
    ins = [t(X), t((2,), I32)]
    check("RESHAPE", ins, [t((4, 6))], [data(X, F32), np.array([3, -1], np.int32)])
    check("RESHAPE", ins, [t((4, 6))], [data(X, F32), np.array([-1, 12], np.int32)])


def test_empty_shape_input_is_scalar():
    # A zero-element shape tensor fed at run time (a constant one has no buffer to read).
    check("RESHAPE", [t((1, 1)), t((0,), I32)], [t(())], [data((1, 1), F32), np.zeros(0, np.int32)])


def test_batch_resized_with_minus_one():
    # The file says batch 1; the input is resized to batch 3 and [-1, 12] follows it.
    model = single_op_model("RESHAPE", [t((1, 3, 4)), c([-1, 12])], [t((1, 12))])
    got = assert_same_as_litert(model, [data((3, 3, 4), F32)])
    assert got[0].shape == (3, 12)


@pytest.mark.parametrize("ins,feeds", [
    ("fixed_batch_after_resize", [data((2, 3, 4), F32)]),  # constant [1, 12] cannot hold batch 2
    ("two_minus_ones", [data((2, 3, 4), F32)]),
    ("element_count", [data((2, 3, 4), F32)]),
])
def test_reshape_errors(ins, feeds):
    shape = {"fixed_batch_after_resize": [1, 12], "two_minus_ones": [-1, -1], "element_count": [5, 5]}[ins]
    check_both_fail("RESHAPE", [t((1, 3, 4)), c(shape)], [t((1, 12))], feeds)


def test_dynamic_batch_flatten_graph():
    # The converter's flatten for a dynamic batch: SHAPE -> STRIDED_SLICE (shrink) -> PACK -> RESHAPE.
    from eightbit.ir.builder import ModelBuilder
    from eightbit.kernels.registry import get_spec

    b = ModelBuilder()
    x = b.tensor("x", (1, 3, 4), I8, scale=0.5, zero_point=-1)
    shp = b.tensor("shape", (3,), I32)
    begin, end, stride = (b.const(n, np.array([v], np.int32)) for n, v in (("b", 0), ("e", 1), ("s", 1)))
    batch = b.tensor("batch", (), I32)
    minus1 = b.const("minus1", np.array(-1, np.int32))
    new_shape = b.tensor("new_shape", (2,), I32)
    y = b.tensor("y", (1, 12), I8, scale=0.5, zero_point=-1)

    def op(name, ins, outs, options=None):
        b.op(name, ins, outs, options or {}, options_type=get_spec(name).options)

    op("SHAPE", [x], [shp], {"out_type": 2})
    op("STRIDED_SLICE", [shp, begin, end, stride], [batch], {"shrink_axis_mask": 1})
    op("PACK", [batch, minus1], [new_shape], {"values_count": 2, "axis": 0})
    op("RESHAPE", [x, new_shape], [y])
    model = b.inputs(x).outputs(y).build().to_bytes()
    got = assert_same_as_litert(model, [data((5, 3, 4), I8)])
    assert got[0].shape == (5, 12)
