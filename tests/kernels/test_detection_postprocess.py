"""TFLite_Detection_PostProcess (the custom op ending SSD models; LiteRT registers it in
BUILTIN_REF) against LiteRT: float and uint8 box encodings / class predictions, fast and regular
NMS, with and without a background class, several classes per detection, scores with many ties
(quantized scores: the fast path's partial_sort tie order, the regular path's stable order),
empty results, repeated invokes, and the bad files both refuse."""

from __future__ import annotations

import numpy as np
import pytest
from flatbuffers import flexbuffers

from eightbit.ir.builder import ModelBuilder
from tests.kernels.newops_oracle import both_refuse, check

OPTIONS = dict(max_detections=10, max_classes_per_detection=1, detections_per_class=5, use_regular_nms=False,
               nms_score_threshold=0.3, nms_iou_threshold=0.5, num_classes=3, y_scale=10.0, x_scale=10.0,
               h_scale=5.0, w_scale=5.0)


def detection_model(num_boxes, with_background, options, quantized=False, anchors=None, encoding=4) -> bytes:
    b = ModelBuilder()
    n_scores = options["num_classes"] + with_background
    if quantized:
        x = b.tensor("boxes", (1, num_boxes, encoding), np.uint8, scale=0.05, zero_point=128)
        s = b.tensor("scores", (1, num_boxes, n_scores), np.uint8, scale=1 / 255, zero_point=0)
        a = b.tensor("anchors", (num_boxes, 4), np.uint8, data=anchors, scale=0.01, zero_point=3)
    else:
        x = b.tensor("boxes", (1, num_boxes, encoding))
        s = b.tensor("scores", (1, num_boxes, n_scores))
        a = b.tensor("anchors", (num_boxes, 4), np.float32, data=anchors)
    n = options["max_detections"] * options["max_classes_per_detection"]
    outs = [b.tensor("boxes_out", (1, n, 4)), b.tensor("classes", (1, n)), b.tensor("scores_out", (1, n)),
            b.tensor("count", (1,))]
    b.op("CUSTOM", [x, s, a], outs, custom_code="TFLite_Detection_PostProcess",
         custom_options=bytes(flexbuffers.Dumps(options)))
    return b.inputs(x, s).outputs(*outs).build().to_bytes()


def case(seed, num_boxes=40, with_background=1, quantized=False, levels=None, encoding=4, **options):
    rng = np.random.default_rng(seed)
    opts = {**OPTIONS, **options}
    n_scores = opts["num_classes"] + with_background
    if quantized:
        anchors = rng.integers(10, 90, (num_boxes, 4)).astype(np.uint8)
        boxes = rng.integers(0, 256, (1, num_boxes, encoding)).astype(np.uint8)
        scores = rng.integers(0, 256, (1, num_boxes, n_scores)).astype(np.uint8)
    else:
        anchors = np.concatenate([rng.uniform(0.1, 0.9, (num_boxes, 2)), rng.uniform(0.05, 0.5, (num_boxes, 2))],
                                 1).astype(np.float32)
        boxes = rng.normal(0, 1, (1, num_boxes, encoding)).astype(np.float32)
        scores = rng.uniform(0, 1, (1, num_boxes, n_scores)).astype(np.float32)
        if levels:
            scores = (np.round(scores * levels) / levels).astype(np.float32)
    return detection_model(num_boxes, with_background, opts, quantized, anchors, encoding), [boxes, scores]


@pytest.mark.parametrize("regular", [False, True])
@pytest.mark.parametrize("quantized", [False, True])
@pytest.mark.parametrize("with_background", [0, 1])
@pytest.mark.parametrize("seed", range(3))
def test_detection_postprocess(regular, quantized, with_background, seed):
    model, inputs = case(seed, quantized=quantized, with_background=with_background, use_regular_nms=regular,
                         levels=4, num_classes=4)
    check(model, inputs, exact=True)


@pytest.mark.parametrize("classes_per_detection,num_classes,levels", [(3, 5, 2), (4, 8, 3), (6, 12, 2), (20, 20, 1)])
def test_fast_nms_several_classes_per_detection_with_ties(classes_per_detection, num_classes, levels):
    """The per-anchor class ranking is std::partial_sort: ties fall in libstdc++'s heap order."""
    for seed in range(4):
        model, inputs = case(seed, num_boxes=60, max_classes_per_detection=classes_per_detection,
                             num_classes=num_classes, levels=levels)
        check(model, inputs, exact=True)


def test_regular_nms_many_classes_and_detections():
    model, inputs = case(5, num_boxes=300, quantized=True, use_regular_nms=True, num_classes=12,
                         max_detections=25, detections_per_class=8, nms_score_threshold=0.1)
    check(model, inputs, exact=True)


def test_nothing_above_the_threshold_and_longer_encodings():
    model, inputs = case(2, encoding=6, use_regular_nms=True, nms_score_threshold=2.0)
    got = check(model, inputs, exact=True)
    assert got[3][0] == 0 and not got[0].any()


def test_fast_nms_unwritten_slots():
    """The fast path writes only the detections: LiteRT's other slots hold whatever its arena held
    (here not zeros), eightbit's zeros. The count and the detections agree."""
    from tests.oracle import run_eightbit, run_litert

    model, inputs = case(2, encoding=6, nms_score_threshold=0.95)
    want, got = run_litert(model, inputs), run_eightbit(model, inputs)
    n = int(want[3][0])
    assert got[3][0] == n < 10
    for g, w in zip(got[:3], want[:3]):
        np.testing.assert_array_equal(g[0, :n], w[0, :n])
        assert not g[0, n:].any()


def test_repeated_invokes_of_one_interpreter():
    import eightbit
    from tests.oracle import run_litert

    model, inputs = case(8, use_regular_nms=True)
    it = eightbit.Interpreter(model_content=model)
    it.allocate_tensors()
    for seed in range(3):
        _, feeds = case(seed, use_regular_nms=True)
        for det, x in zip(it.get_input_details(), feeds):
            it.set_tensor(det["index"], x)
        it.invoke()
        want = run_litert(model, feeds)
        for d, w in zip(it.get_output_details(), want):
            np.testing.assert_array_equal(it.get_tensor(d["index"]), w)


def test_inverted_anchor_boxes_are_refused():
    """A negative anchor height decodes to ymin > ymax: TFLite's ValidateBoxes fails the invoke."""
    model, inputs = case(1, num_boxes=6)
    rng = np.random.default_rng(0)
    anchors = np.abs(rng.normal(0.5, 0.1, (6, 4))).astype(np.float32)
    anchors[2, 2] = -0.3
    bad = detection_model(6, 1, OPTIONS, anchors=anchors)
    inputs[1][:] = 0.9
    both_refuse(bad, inputs, "", "ymin > ymax")


def test_iou_threshold_out_of_range_is_refused():
    model, inputs = case(1, nms_iou_threshold=0.0)
    both_refuse(model, inputs, "", "nms_iou_threshold")


@pytest.mark.slow
@pytest.mark.parametrize("regular,quantized", [(False, True), (True, True), (True, False)])
def test_ssd_mobilenet_sizes(regular, quantized):
    """1917 anchors, 90 classes + background, TF's export options (score threshold 1e-8)."""
    model, inputs = case(11, num_boxes=1917, quantized=quantized, use_regular_nms=regular, num_classes=90,
                         max_detections=100 if regular else 10, detections_per_class=100, nms_score_threshold=1e-8,
                         nms_iou_threshold=0.6)
    check(model, inputs, exact=True)
