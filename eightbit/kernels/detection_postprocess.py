"""TFLite_Detection_PostProcess (TFLite kernels/detection_postprocess.cc), the custom op that ends
TF Object Detection API SSD models; LiteRT registers it among its builtin custom ops.

Inputs: box encodings [1, num_boxes, >= 4] (float32, or uint8 quantized), class predictions
[1, num_boxes, num_classes (+1 background)] (float32 or uint8), anchors [num_boxes, 4]
(CenterSize y, x, h, w). custom_options: a FlexBuffer map (max_detections,
max_classes_per_detection, detections_per_class = 100, use_regular_nms = false,
nms_score_threshold, nms_iou_threshold, num_classes, y_scale, x_scale, h_scale, w_scale).
Outputs (float32): boxes [1, N, 4] (ymin, xmin, ymax, xmax), classes [1, N], scores [1, N],
num_detections [1], N = max_detections * max_classes_per_detection.

Decoding is done in double and rounded to float per coordinate, as TFLite does:
  ycenter = y / y_scale * anchor.h + anchor.y,  half_h = 0.5 * exp(h / h_scale) * anchor.h
With uint8 box encodings the anchors are read as uint8 too (dequantized with their own
parameters). Scores below nms_score_threshold are dropped; the rest are visited in decreasing
score order (stable: equal scores by anchor index) and a box is dropped when its float32 IoU with
a kept one exceeds nms_iou_threshold.
- Fast NMS (use_regular_nms false): each anchor's best classes (its top
  max_classes_per_detection), NMS on each anchor's best score, max_detections anchors kept.
- Regular NMS: NMS per class (detections_per_class each), the running best max_detections of
  all classes kept after each class, by a stable sort of (running best, then this class's picks)
  (LiteRT 2.3.0 measured: equal scores keep that order).
The fast path's per-anchor class ranking is std::partial_sort (not stable): libstdc++'s heap order
decides ties (measured), and `_partial_argsort` follows it step by step.
Slots past the detections are zeros. TFLite's fast path leaves them unwritten: a fresh LiteRT
interpreter shows zeros there, a later invoke the previous invoke's detections (or whatever the
arena held), which no re-implementation can reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import fail
from eightbit.kernels.stl_heap import adjust_heap


@dataclass(frozen=True)
class DetectionParams:
    max_detections: int
    max_classes_per_detection: int
    detections_per_class: int
    regular_nms: bool
    score_threshold: np.float32
    iou_threshold: np.float32
    num_classes: int
    scales: tuple  # (y, x, h, w) as doubles of the float32 options
    boxes_q: tuple | None  # (scale, zero point) of uint8 box encodings and of the anchors
    anchors_q: tuple | None
    scores_q: tuple | None  # (scale, zero point) of uint8 class predictions


def parse_options(raw: bytes | None) -> dict:
    """The FlexBuffer map of the op's custom_options (missing keys read as TFLite's defaults)."""
    from flatbuffers import flexbuffers

    try:
        m = flexbuffers.Loads(bytes(raw or b""))
    except Exception as e:  # noqa: BLE001 - any decoding failure is a bad file
        raise ModelError(f"TFLite_Detection_PostProcess: custom_options are not a FlexBuffer map ({e})") from e
    if not isinstance(m, dict):
        raise ModelError("TFLite_Detection_PostProcess: custom_options are not a FlexBuffer map")
    # Other keys (TF's converter adds _output_quantized, ...) are ignored, as TFLite does.
    return m


def _q(t) -> tuple:
    return (np.float32(t.scale), np.float32(t.zero_point))


class DetectionPostProcess(Kernel):
    types = ("float32", "uint8")

    @staticmethod
    def prepare(op: OpContext) -> DetectionParams:
        m = parse_options(op.custom_options)
        if len(op.inputs) != 3 or any(t is None for t in op.inputs) or len(op.outputs) != 4:
            raise ModelError(f"{op.where()}: TFLite_Detection_PostProcess takes box encodings, class predictions "
                             "and anchors, and gives 4 outputs")
        boxes, scores, anchors = op.inputs
        if len(boxes.shape) != 3 or len(scores.shape) != 3 or len(anchors.shape) != 2:
            raise ModelError(f"{op.where()}: box encodings and class predictions must be 3-D and anchors 2-D, got "
                             f"{list(boxes.shape)}, {list(scores.shape)}, {list(anchors.shape)}")
        for t, what in ((boxes, "box encodings"), (scores, "class predictions")):
            if t.type not in ("FLOAT32", "UINT8"):
                raise op.unsupported(f"{what} of type {t.type} (TFLite runs FLOAT32 and UINT8)")
        if boxes.type == "FLOAT32" and anchors.type != "FLOAT32":
            raise op.unsupported(f"float box encodings need float32 anchors, not {anchors.type}")
        if any(o.type != "FLOAT32" for o in op.outputs):
            raise ModelError(f"{op.where()}: TFLite_Detection_PostProcess's outputs are float32")
        f32 = np.float32
        return DetectionParams(
            int(m.get("max_detections", 0)), int(m.get("max_classes_per_detection", 0)),
            int(m.get("detections_per_class", 100) if m.get("detections_per_class") is not None else 100),
            bool(m.get("use_regular_nms") or False), f32(m.get("nms_score_threshold", 0.0)),
            f32(m.get("nms_iou_threshold", 0.0)), int(m.get("num_classes", 0)),
            tuple(float(f32(m.get(k, 0.0))) for k in ("y_scale", "x_scale", "h_scale", "w_scale")),
            _q(boxes) if boxes.type == "UINT8" else None, _q(anchors) if boxes.type == "UINT8" else None,
            _q(scores) if scores.type == "UINT8" else None)

    @staticmethod
    def eval(p: DetectionParams, box_encodings, class_predictions, anchors):
        if box_encodings.shape[0] != 1 or class_predictions.shape[0] != 1:
            raise fail("TFLite_Detection_PostProcess: batch size must be 1")
        num_boxes = box_encodings.shape[1]
        if box_encodings.shape[2] < 4:
            raise fail("TFLite_Detection_PostProcess: box encodings need at least 4 values per box")
        if class_predictions.shape[1] != num_boxes:
            raise fail(f"TFLite_Detection_PostProcess: {class_predictions.shape[1]} class predictions for "
                       f"{num_boxes} boxes")
        with_background = class_predictions.shape[2]
        if not 0 <= with_background - p.num_classes <= 1:
            raise fail(f"TFLite_Detection_PostProcess: {with_background} class predictions per box for "
                       f"num_classes {p.num_classes}")
        boxes = decode_boxes(p, box_encodings, anchors)
        scores = class_predictions.reshape(num_boxes, with_background)
        if p.scores_q is not None:
            scores = (scores.astype(np.float32) - p.scores_q[1]) * p.scores_q[0]
        scores = scores[:, with_background - p.num_classes:].astype(np.float32)
        n = p.max_detections * p.max_classes_per_detection
        out = (np.zeros((1, n, 4), np.float32), np.zeros((1, n), np.float32), np.zeros((1, n), np.float32))
        count = (_regular_nms if p.regular_nms else _fast_nms)(p, boxes, scores, out)
        return out + (np.array([count], np.float32),)


def decode_boxes(p: DetectionParams, box_encodings, anchors) -> np.ndarray:
    """[num_boxes, 4] float32 corners (ymin, xmin, ymax, xmax) of the CenterSize encodings."""
    num_boxes = box_encodings.shape[1]
    enc = box_encodings.reshape(num_boxes, -1)[:, :4]
    if p.boxes_q is not None:
        raw = np.ascontiguousarray(anchors).reshape(-1).view(np.uint8)
        if raw.size < 4 * num_boxes:
            raise fail(f"TFLite_Detection_PostProcess: {raw.size // 4} anchors for {num_boxes} boxes")
        enc = (enc.astype(np.float32) - p.boxes_q[1]) * p.boxes_q[0]
        anc = (raw[:4 * num_boxes].reshape(num_boxes, 4).astype(np.float32) - p.anchors_q[1]) * p.anchors_q[0]
    else:
        flat = anchors.reshape(-1)
        if flat.size < 4 * num_boxes:
            raise fail(f"TFLite_Detection_PostProcess: {flat.size // 4} anchors for {num_boxes} boxes")
        anc = flat[:4 * num_boxes].reshape(num_boxes, 4)
    e, a = enc.astype(np.float64), anc.astype(np.float64)
    sy, sx, sh, sw = p.scales
    with np.errstate(all="ignore"):
        yc = (e[:, 0] / sy * a[:, 2] + a[:, 0]).astype(np.float32)
        xc = (e[:, 1] / sx * a[:, 3] + a[:, 1]).astype(np.float32)
        half_h = (0.5 * np.exp(e[:, 2] / sh) * a[:, 2]).astype(np.float32)
        half_w = (0.5 * np.exp(e[:, 3] / sw) * a[:, 3]).astype(np.float32)
        return np.stack([yc - half_h, xc - half_w, yc + half_h, xc + half_w], axis=1)


def _iou(boxes: np.ndarray, i: int, others: np.ndarray) -> np.ndarray:
    """float32 IoU of box i with each of `others`, in TFLite's operation order (0 for empty boxes)."""
    bi, bj = boxes[i], boxes[others]
    area_i = (bi[2] - bi[0]) * (bi[3] - bi[1])
    area_j = (bj[:, 2] - bj[:, 0]) * (bj[:, 3] - bj[:, 1])
    inter = (np.maximum(np.minimum(bi[2], bj[:, 2]) - np.maximum(bi[0], bj[:, 0]), np.float32(0))
             * np.maximum(np.minimum(bi[3], bj[:, 3]) - np.maximum(bi[1], bj[:, 1]), np.float32(0)))
    with np.errstate(all="ignore"):
        iou = inter / (area_i + area_j - inter)
    return np.where((area_i <= 0) | (area_j <= 0), np.float32(0), iou)


def nms_single_class(p: DetectionParams, boxes: np.ndarray, scores: np.ndarray, max_detections: int) -> list:
    """Anchor indices kept by greedy NMS on one score per anchor, best first."""
    if max_detections < 0:
        raise fail("TFLite_Detection_PostProcess: max_detections must be >= 0")
    if not 0.0 < p.iou_threshold <= 1.0:
        raise fail(f"TFLite_Detection_PostProcess: nms_iou_threshold {p.iou_threshold} must be in (0, 1]")
    if np.any((boxes[:, 0] > boxes[:, 2]) | (boxes[:, 1] > boxes[:, 3])):
        raise fail("TFLite_Detection_PostProcess: a decoded box has ymin > ymax or xmin > xmax")
    kept = np.flatnonzero(scores >= p.score_threshold)
    order = kept[np.argsort(-scores[kept], kind="stable")]
    limit = min(order.size, max_detections)
    active = np.ones(order.size, bool)
    selected: list = []
    i = 0
    while len(selected) < limit:
        rest = np.flatnonzero(active[i:])
        if rest.size == 0:
            break
        i += int(rest[0])
        selected.append(int(order[i]))
        active[i] = False
        later = i + 1 + np.flatnonzero(active[i + 1:])
        if later.size:
            active[later[_iou(boxes, order[i], order[later]) > p.iou_threshold]] = False
    return selected


def _fast_nms(p: DetectionParams, boxes, scores, out) -> int:
    if p.max_classes_per_detection <= 0:
        raise fail("TFLite_Detection_PostProcess: max_classes_per_detection must be > 0")
    per_anchor = min(p.max_classes_per_detection, p.num_classes)
    if per_anchor == 1:
        best = np.argmax(scores, axis=1)[:, None]  # TFLite's ArgMaxVector: the first of equal scores
    else:
        best = np.array([_partial_argsort(row, per_anchor) for row in scores], np.int64).reshape(-1, per_anchor)
    max_scores = scores[np.arange(scores.shape[0]), best[:, 0]]
    selected = nms_single_class(p, boxes, max_scores, p.max_detections)
    out_boxes, out_classes, out_scores = out
    for k, anchor in enumerate(selected):
        at = slice(p.max_classes_per_detection * k, p.max_classes_per_detection * k + per_anchor)
        out_boxes[0, at] = boxes[anchor]
        out_classes[0, at] = best[anchor]
        out_scores[0, at] = scores[anchor, best[anchor]]
    return len(selected)


def _regular_nms(p: DetectionParams, boxes, scores, out) -> int:
    if p.detections_per_class <= 0:
        raise fail("TFLite_Detection_PostProcess: detections_per_class must be > 0")
    with_background = scores.shape[1]
    best_keys = np.zeros(0, np.int64)  # anchor * num_classes + class of the running best
    best_scores = np.zeros(0, np.float32)
    for col in range(p.num_classes):
        selected = np.array(nms_single_class(p, boxes, scores[:, col], p.detections_per_class), np.int64)
        keys = np.concatenate([best_keys, selected * with_background + col])
        values = np.concatenate([best_scores, scores[selected, col]]).astype(np.float32)
        top = np.argsort(-values, kind="stable")[:max(min(keys.size, p.max_detections), 0)]
        best_keys, best_scores = keys[top], values[top]
    out_boxes, out_classes, out_scores = out
    n = best_keys.size
    out_boxes[0, :n] = boxes[best_keys // with_background]
    out_classes[0, :n] = best_keys % with_background
    out_scores[0, :n] = best_scores
    return n


def _partial_argsort(values: np.ndarray, k: int) -> list:
    """The first k indices of std::partial_sort(iota, k, comp = values[i] > values[j]) as libstdc++
    orders them (heap select, then heap sort), for TFLite's DecreasingPartialArgSort; k == 1 is
    its ArgMaxVector (the first largest)."""
    n = values.size
    if k == 1:
        return [int(np.argmax(values))] if n else [0]
    if k <= 0:
        return []
    order = np.argsort(-values, kind="stable")
    top = values[order[:k + 1]]
    if not np.isnan(values).any() and np.all(top[1:] < top[:-1]):
        return [int(i) for i in order[:k]]  # the k largest distinct and above the rest: one answer
    v = [float(x) for x in values]
    idx = list(range(n))

    def comp(a, b):  # the partial sort's values[i] > values[j]
        return v[a] > v[b]

    _make_heap(idx, k, comp)
    for i in range(k, n):
        if v[idx[i]] > v[idx[0]]:
            value, idx[i] = idx[i], idx[0]
            adjust_heap(idx, 0, k, value, comp)
    for end in range(k - 1, 0, -1):  # sort_heap
        value, idx[end] = idx[end], idx[0]
        adjust_heap(idx, 0, end, value, comp)
    return idx[:k]


def _make_heap(idx: list, length: int, comp) -> None:
    if length < 2:
        return
    for parent in range((length - 2) // 2, -1, -1):
        adjust_heap(idx, parent, length, idx[parent], comp)
