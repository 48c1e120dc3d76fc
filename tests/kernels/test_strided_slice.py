"""STRIDED_SLICE against LiteRT's reference kernels: begin/end masks, negative indices and
strides, clamping, shrink_axis (negative index too), ellipsis, new axes (with the ellipsis on the
same bit too), partial specs, offset=True, empty results, 5-D and more (6-D
and 8-D inputs, new axes past 5-D), run-time indices, every type, and
random specs. Shrinking an axis that is out of range, or with a negative stride, makes TFLite
return memory it never wrote, so we refuse it (checked without the oracle)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.helpers import ALL_DTYPES, F32, I8, I32, U8, c, check, data, t
from tests.oracle import run_eightbit, single_op_model

S = (4, 5, 6)


def ss(shape, b, e, s, dtype=F32, q=(None, 0), **opt):
    ins = [t(shape, dtype, *q), c(b), c(e), c(s)]
    # The output shape in the file is a placeholder: LiteRT and we both compute it.
    return ins, [t((1,), dtype, *q)], opt


CASES = [
    ("identity", [0, 0, 0], [4, 5, 6], [1, 1, 1], {}),
    ("inner_block", [1, 1, 2], [3, 4, 5], [1, 1, 1], {}),
    ("strides", [0, 1, 0], [4, 5, 6], [2, 3, 4], {}),
    ("negative_indices", [-3, -4, -1], [-1, -1, 6], [1, 1, 1], {}),
    ("negative_strides", [3, 4, 5], [0, 0, 0], [-1, -2, -3], {}),
    ("negative_stride_to_front", [3, -1, -2], [-5, -6, -7], [-1, -1, -2], {}),
    ("clamped", [-10, 2, 0], [10, 100, 3], [1, 1, 1], {}),
    ("clamped_negative_stride", [10, 100, 3], [-10, -100, -20], [-1, -2, -1], {}),
    ("begin_mask", [3, 3, 3], [4, 5, 6], [1, 1, 1], {"begin_mask": 0b101}),
    ("end_mask", [1, 1, 1], [0, 0, 0], [1, 1, 1], {"end_mask": 0b111}),
    ("masks_negative_stride", [0, 0, 0], [0, 0, 0], [-1, -2, 1], {"begin_mask": 0b111, "end_mask": 0b111}),
    ("empty_result", [3, 0, 0], [1, 5, 6], [1, 1, 1], {}),
    ("empty_negative_stride", [1, 0, 0], [3, 5, 6], [-1, 1, 1], {}),
    ("shrink_first", [2, 0, 0], [3, 5, 6], [1, 1, 1], {"shrink_axis_mask": 0b001}),
    ("shrink_negative_index", [0, -1, 0], [4, 0, 6], [1, 1, 1], {"shrink_axis_mask": 0b010}),
    ("shrink_all", [1, 2, 3], [2, 3, 4], [1, 1, 1], {"shrink_axis_mask": 0b111}),
    ("shrink_end_ignored", [0, 3, 0], [4, 1, 6], [1, 1, 2], {"shrink_axis_mask": 0b010}),
    ("partial_spec", [1], [3], [1], {}),
    ("partial_spec_shrink", [1, 2], [2, 4], [1, 1], {"shrink_axis_mask": 0b01}),
    ("ellipsis_first", [0, 1], [0, 4], [1, 2], {"ellipsis_mask": 0b01}),
    ("ellipsis_last", [1, 0], [3, 0], [1, 1], {"ellipsis_mask": 0b10}),
    ("ellipsis_middle", [1, 0, 2], [3, 0, 5], [1, 1, 1], {"ellipsis_mask": 0b010}),
    ("ellipsis_covers_nothing", [0, 0, 0, 1], [4, 0, 5, 3], [1, 1, 1, 1], {"ellipsis_mask": 0b0010}),
    ("ellipsis_shrink_last", [0, 2], [0, 3], [1, 1], {"ellipsis_mask": 0b01, "shrink_axis_mask": 0b10}),
    ("new_axis_front", [0, 1], [1, 3], [1, 1], {"new_axis_mask": 0b01}),
    ("new_axis_middle", [1, 0, 2], [3, 1, 4], [1, 1, 1], {"new_axis_mask": 0b010}),
    ("two_new_axes", [0, 0, 0], [1, 1, 2], [1, 1, 1], {"new_axis_mask": 0b011}),
    ("new_axis_and_ellipsis", [0, 0, 1], [1, 0, 3], [1, 1, 1], {"new_axis_mask": 0b001, "ellipsis_mask": 0b010}),
    ("new_axis_on_ellipsis_bit", [0, 1], [0, 2], [1, 1], {"new_axis_mask": 0b01, "ellipsis_mask": 0b01}),
    ("new_axis_shrink_mix", [0, 2, 0, 1], [1, 3, 1, 4], [1, 1, 1, 1],
     {"new_axis_mask": 0b0100, "shrink_axis_mask": 0b0010}),
    ("offset", [1, 0, 2], [2, 5, 3], [1, 1, 1], {"offset": True}),
    ("offset_strided", [0, 1, 5], [4, 4, 3], [2, 2, -2], {"offset": True}),
    ("offset_shrink", [1, 2, 0], [1, 2, 6], [1, 1, 1], {"offset": True, "shrink_axis_mask": 0b001}),
]


@pytest.mark.parametrize("b,e,s,opt", [pytest.param(*c_[1:], id=c_[0]) for c_ in CASES])
def test_strided_slice(b, e, s, opt):
    check("STRIDED_SLICE", *ss(S, b, e, s)[:2], None, ss(S, b, e, s, **opt)[2])


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_type(dtype):
    ins, outs, _ = ss(S, [1, -1, 0], [3, 0, 6], [1, -2, 2], dtype)
    check("STRIDED_SLICE", ins, outs, None)


def test_quantized_5d_and_1d():
    ins, outs, _ = ss((2, 3, 4, 5, 6), [0, 1, -1, 0, 1], [2, 3, 0, 5, 6], [1, 1, -2, 3, 2], I8, (0.1, -7))
    check("STRIDED_SLICE", ins, outs, None, {"shrink_axis_mask": 0b00001})
    ins, outs, _ = ss((9,), [7], [0], [-3], U8, (0.5, 128))
    check("STRIDED_SLICE", ins, outs, None)


def test_run_time_indices():
    ins = [t((3, 5, 6), U8, 0.2, 100), t((3,), I32), t((3,), I32), t((3,), I32)]
    feeds = [data((3, 5, 6), U8), np.array([0, 1, -1], np.int32), np.array([0, 5, 0], np.int32),
             np.array([1, 2, -1], np.int32)]
    check("STRIDED_SLICE", ins, [t((1,), U8, 0.2, 100)], feeds, {"begin_mask": 1, "end_mask": 1})


def test_batch_resized():
    ins, outs, _ = ss((1, 5, 6), [0, 1, -1], [0, 5, 0], [1, 2, -1], I8, (0.2, 100))
    check("STRIDED_SLICE", ins, outs, [data((3, 5, 6), I8)], {"begin_mask": 1, "end_mask": 1})


def test_random_specs():
    rng = np.random.default_rng(11)
    x_shape = (3, 4, 5)
    for _ in range(40):
        n = int(rng.integers(1, 4))
        b, e, s = [], [], []
        shrink = ellipsis = new_axis = 0
        if rng.random() < 0.3:
            ellipsis = 1 << int(rng.integers(0, n))
        for i in range(n):
            stride = int(rng.choice([-3, -2, -1, 1, 2, 3]))
            b.append(int(rng.integers(-6, 7)))
            e.append(int(rng.integers(-6, 7)))
            if rng.random() < 0.2 and not (ellipsis >> i) & 1 and bin(new_axis).count("1") < 2:
                new_axis |= 1 << i
            elif rng.random() < 0.2:
                shrink |= 1 << i
                stride, b[-1] = 1, int(rng.integers(-3, 3))  # in range for every dimension
            s.append(stride)
        opt = {"begin_mask": int(rng.integers(0, 1 << n)), "end_mask": int(rng.integers(0, 1 << n)),
               "shrink_axis_mask": shrink, "ellipsis_mask": ellipsis, "new_axis_mask": new_axis}
        ins, outs, _ = ss(x_shape, b, e, s)
        check("STRIDED_SLICE", ins, outs, None, opt)


@pytest.mark.parametrize("b,s", [([9], [1]), ([1], [-1])], ids=["shrink_out_of_range", "shrink_negative_stride"])
def test_refuses_what_tflite_leaves_unwritten(b, s):
    ins, outs, _ = ss((4, 3), b, [b[0] + 1], s)
    model = single_op_model("STRIDED_SLICE", ins, outs, {"shrink_axis_mask": 1})
    with pytest.raises(RuntimeError, match="shrink index"):
        run_eightbit(model, [data((4, 3), F32)])


@pytest.mark.parametrize("shape,b,e,s,opt", [
    ((2, 3, 4, 5, 6), [0, 0], [1, 1], [1, 1], {"new_axis_mask": 1}),  # the fuzzer's case: 6-D output
    ((2, 3, 4, 5, 6), [0, 0, 0], [1, 1, 1], [1, 1, 1], {"new_axis_mask": 5, "ellipsis_mask": 2}),
    ((2, 3, 4, 5, 6), [0] * 4, [1] * 4, [1] * 4, {"new_axis_mask": 15}),
    ((2, 3, 4, 5, 6), [0, 1], [1, 3], [1, 1], {"new_axis_mask": 1, "shrink_axis_mask": 2}),
    ((2, 3, 4, 5), [0, 0, 0], [1, 1, 1], [1, 1, 1], {"new_axis_mask": 3}),
    ((2, 3, 2, 2, 3, 2), [1, 0, -1], [2, 3, 0], [1, 2, -1], {}),  # 6-D input
    ((2,) * 8, [0, 1], [1, 2], [1, 1], {"shrink_axis_mask": 1}),  # 8-D input
])
def test_rank_over_5(shape, b, e, s, opt):
    # LiteRT 2.3.0 puts no limit on the rank (before or after the new axes).
    ins, outs, _ = ss(shape, b, e, s)
    check("STRIDED_SLICE", ins, outs, None, opt)
