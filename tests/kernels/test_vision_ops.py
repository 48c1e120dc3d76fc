"""L2_POOL_2D and NON_MAX_SUPPRESSION_V4 / V5 against LiteRT's reference kernels: SAME / VALID
windows, strides, activations and inf / huge values for L2 pooling; NMS with equal scores (the
priority queue's heap order), boxes given with either corner first, zero-area boxes (selected
again: TFLite re-queues a selected box), thresholds at the edges, soft-NMS score decay,
max_output_size fed at run time, and the types and values both refuse."""

from __future__ import annotations

import numpy as np
import pytest

from tests.kernels.newops_oracle import both_refuse, check, t
from tests.oracle import single_op_model

RNG = np.random.default_rng(404)
F32, I32 = np.float32, np.int32


def pool_model(shape, filt, stride, padding, act=0, out=None):
    from eightbit.kernels.padding import compute_padding_height_width

    g = compute_padding_height_width(stride[0], stride[1], 1, 1, shape[1], shape[2], filt[0], filt[1], padding)
    out = out or (shape[0], g.out_height, g.out_width, shape[3])
    return single_op_model("L2_POOL_2D", [t(shape)], [t(out)],
                           {"padding": padding, "stride_w": stride[1], "stride_h": stride[0], "filter_width": filt[1],
                            "filter_height": filt[0], "fused_activation_function": act})


@pytest.mark.parametrize("shape,filt,stride,padding", [
    ((1, 4, 4, 1), (2, 2), (2, 2), 1), ((2, 5, 7, 3), (3, 3), (1, 1), 0), ((1, 6, 5, 2), (3, 2), (2, 3), 0),
    ((1, 3, 3, 4), (3, 3), (1, 1), 1), ((1, 8, 8, 2), (8, 8), (1, 1), 1), ((1, 7, 6, 1), (1, 1), (2, 2), 0),
])
@pytest.mark.parametrize("act", [0, 1, 3])
def test_l2_pool(shape, filt, stride, padding, act):
    x = (RNG.normal(size=shape) * RNG.choice([0.01, 1, 100])).astype(F32)
    check(pool_model(shape, filt, stride, padding, act), [x], exact=True)


def test_l2_pool_specials():
    x = RNG.normal(size=(1, 4, 4, 2)).astype(F32)
    x[0, 0, 0, 0], x[0, 1, 2, 1], x[0, 3, 3, 0] = np.inf, 3e38, np.nan
    check(pool_model((1, 4, 4, 2), (2, 2), (1, 1), 0), [x], exact=True)


def test_l2_pool_refuses_int8():
    m = single_op_model("L2_POOL_2D", [t((1, 2, 2, 1), np.int8, scale=0.1)], [t((1, 1, 1, 1), np.int8, scale=0.1)],
                        {"padding": 1, "stride_w": 1, "stride_h": 1, "filter_width": 2, "filter_height": 2})
    both_refuse(m, [np.ones((1, 2, 2, 1), np.int8)], "", "float32 only")


def nms_model(n, max_out, iou, score, sigma=None, const_size=True):
    size = t((), I32, data=np.array(max_out, I32)) if const_size else t((), I32)
    ins = [t((n, 4)), t((n,)), size, t((), F32, data=np.array(iou, F32)), t((), F32, data=np.array(score, F32))]
    if sigma is None:
        return single_op_model("NON_MAX_SUPPRESSION_V4", ins, [t((max_out,), I32), t((), I32)], {})
    ins.append(t((), F32, data=np.array(sigma, F32)))
    return single_op_model("NON_MAX_SUPPRESSION_V5", ins, [t((max_out,), I32), t((max_out,)), t((), I32)], {})


def boxes_and_scores(n, levels=None, flip=True):
    centre = RNG.uniform(0, 1, (n, 2))
    half = RNG.uniform(0.02, 0.3, (n, 2))
    boxes = np.concatenate([centre - half, centre + half], 1).astype(F32)
    if flip:  # either corner first
        swap = RNG.random(n) < 0.3
        boxes[swap] = boxes[swap][:, [2, 3, 0, 1]]
    scores = RNG.uniform(0, 1, n).astype(F32)
    if levels:
        scores = (np.round(scores * levels) / levels).astype(F32)
    return boxes, scores


@pytest.mark.parametrize("sigma", [None, 0.0, 0.5, 2.0])
@pytest.mark.parametrize("n,max_out,iou,score,levels", [
    (20, 5, 0.5, 0.0, None), (50, 20, 0.3, 0.2, 4), (50, 50, 0.7, 0.0, 2), (30, 10, 1.0, 0.5, 3),
    (8, 3, 0.0, 0.0, None), (40, 0, 0.5, 0.0, None), (1, 4, 0.5, 0.9, None),
])
def test_nms(sigma, n, max_out, iou, score, levels):
    """Bit for bit, soft-NMS scores included (each decay is glibc's expf, emulated)."""
    for _ in range(3):
        boxes, scores = boxes_and_scores(n, levels)
        check(nms_model(n, max_out, iou, score, sigma), [boxes, scores], exact=True)


def test_glibc_expf_matches_the_c_library():
    """The soft-NMS decay's expf against the host's (glibc) expf, where double-rounded exp is not."""
    import ctypes

    from eightbit.kernels.non_max_suppression import glibc_expf

    try:
        libm = ctypes.CDLL("libm.so.6")
    except OSError:
        pytest.skip("no glibc libm")
    libm.expf.restype, libm.expf.argtypes = ctypes.c_float, [ctypes.c_float]
    x = np.concatenate([-RNG.uniform(0, 110, 4000), -RNG.uniform(0, 1, 4000), [0.0, -87.0, -103.9, -104.0]]).astype(F32)
    want = np.array([libm.expf(float(v)) for v in x], F32)
    np.testing.assert_array_equal(glibc_expf(x).view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("sigma", [None, 0.5])
def test_nms_zero_area_boxes_are_selected_again(sigma):
    boxes, scores = boxes_and_scores(6)
    boxes[1, 2] = boxes[1, 0]  # zero height: IoU 0 with everything, itself included
    scores[1] = 0.99
    got = check(nms_model(6, 6, 0.5, 0.0, sigma), [boxes, scores], exact=True)
    assert list(got[0][:2]) == [1, 1]


def test_nms_max_output_size_at_run_time():
    boxes, scores = boxes_and_scores(12)
    m = nms_model(12, 1, 0.5, 0.1, 0.3, const_size=False)
    check(m, [boxes, scores, np.array(7, I32)], exact=True)
    check(m, [boxes, scores, np.array(30, I32)], exact=True)  # more than the boxes: zero-padded


def test_nms_refuses_negative_sigma_and_int8():
    boxes, scores = boxes_and_scores(4)
    both_refuse(nms_model(4, 2, 0.5, 0.0, -1.0), [boxes, scores], "", "sigma")
    ins = [t((4, 4), np.int8, scale=0.01), t((4,), np.int8, scale=0.01), t((), I32, data=np.array(2, I32)),
           t((), np.int8, data=np.array(50, np.int8), scale=0.01), t((), np.int8, data=np.array(0, np.int8), scale=0.01)]
    m = single_op_model("NON_MAX_SUPPRESSION_V4", ins, [t((2,), I32), t((), I32)], {})
    both_refuse(m, [np.zeros((4, 4), np.int8), np.zeros(4, np.int8)], "", "INT8")
