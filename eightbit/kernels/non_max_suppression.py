"""NON_MAX_SUPPRESSION_V4 and _V5 (TFLite kernels/non_max_suppression.cc, reference
non_max_suppression.h): greedy (V5: Gaussian soft) NMS of one class, float32 (LiteRT 2.3.0 runs
no quantized type).

Inputs: boxes [num_boxes, 4] (y1, x1, y2, x2, either corner first), scores [num_boxes],
max_output_size (int32 scalar), iou_threshold, score_threshold (float32 scalars), V5: soft_nms_sigma.
Outputs: selected indices [max_output_size] (int32, zeros past the selection), V5: their scores
(float32, zeros past it), and the number selected (int32 scalar).

The candidates above score_threshold go into a std::priority_queue (libstdc++'s binary heap on
the score: equal scores come out in its heap order, which `_Queue` follows step by step). Each
popped candidate is compared, newest first, with the boxes selected since it was last looked at:
an IoU >= iou_threshold drops it; V5 with sigma > 0 multiplies its score by
exp(-0.5 / sigma * iou^2) (float32, with glibc's expf: `glibc_expf`) and stops once the score is <= score_threshold. An unchanged
score selects it; a score still above the threshold puts it back in the queue, even when selected
(TFLite has no `continue` there: a selected box meets itself next time, IoU 1, and is dropped;
a box of zero area has IoU 0 with everything and is selected again).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eightbit.errors import ModelError
from eightbit.kernels.base import Kernel, OpContext
from eightbit.kernels.movement import as_ints, fail, require_type
from eightbit.kernels.stl_heap import adjust_heap, push_heap

# glibc's expf (sysdeps/ieee754/flt-32/e_expf.c, e_exp2f_data.c; the same for its SSE2 and FMA
# builds on every argument but two): x / ln2 = k / 32 + r, 2^(k / 32) from a table of binary64
# words (2^(i / 32) minus i << 47), a degree-3 polynomial in r, each step one binary64 rounding,
# then one rounding to float. Not correctly rounded: exp in double rounded to float differs from
# it in the last bit on rare arguments, which LiteRT's soft-NMS scores show.
_EXP2F_TABLE = np.array([
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540], np.uint64)
_INVLN2_32 = float.fromhex("0x1.71547652b82fep+0") * 32
_SHIFT = float.fromhex("0x1.8p+52")
_C0 = float.fromhex("0x1.c6af84b912394p-5") / 32 / 32 / 32
_C1 = float.fromhex("0x1.ebfce50fac4f3p-3") / 32 / 32
_C2 = float.fromhex("0x1.62e42ff0c52d6p-1") / 32


def glibc_expf(x) -> np.ndarray:
    """expf(x) as glibc computes it, for float32 x <= 0 (soft-NMS's arguments): 0 below
    -0x1.9fe368p6 (underflow), the table and polynomial above."""
    x = np.asarray(x, np.float32)
    z = _INVLN2_32 * x.astype(np.float64)
    kd = z + _SHIFT
    ki = kd.view(np.uint64) if kd.ndim else np.array(kd).view(np.uint64)
    r = z - (kd - _SHIFT)
    with np.errstate(over="ignore"):
        scale = (_EXP2F_TABLE[ki % np.uint64(32)] + (ki << np.uint64(47))).view(np.float64)
    y = (_C0 * r + _C1) * (r * r) + (_C2 * r + 1.0)
    out = (y * scale).astype(np.float32)
    return np.where(x < np.float32(float.fromhex("-0x1.9fe368p6")), np.float32(0), out).astype(np.float32)


@dataclass(frozen=True)
class NmsParams:
    soft: bool  # V5: selected scores output and sigma input


class _Queue:
    """std::priority_queue<Candidate> (a max-heap on the score) as libstdc++ implements it."""

    def __init__(self):
        self.heap: list = []  # [score, index, suppress_begin]

    def push(self, item: list) -> None:
        self.heap.append(item)
        push_heap(self.heap, len(self.heap) - 1, 0, item, _score_less)

    def pop(self) -> list:
        h = self.heap
        top = h[0]
        if len(h) > 1:
            value, h[-1] = h[-1], h[0]
            adjust_heap(h, 0, len(h) - 1, value, _score_less)
        h.pop()
        return top

    def __len__(self):
        return len(self.heap)


def _score_less(a: list, b: list) -> bool:  # Candidate's operator<, as the queue compares
    return a[0] < b[0]


def _corners(boxes: np.ndarray) -> tuple:
    """(ymin, xmin, ymax, xmax, area) per box, float32 as TFLite computes them."""
    y1, x1, y2, x2 = (boxes[:, k] for k in range(4))
    ymin, ymax, xmin, xmax = np.minimum(y1, y2), np.maximum(y1, y2), np.minimum(x1, x2), np.maximum(x1, x2)
    return ymin, xmin, ymax, xmax, (ymax - ymin) * (xmax - xmin)


def _ious(c: tuple, i: int, others: np.ndarray) -> np.ndarray:
    ymin, xmin, ymax, xmax, area = c
    zero = np.float32(0)
    inter = (np.maximum(np.minimum(ymax[i], ymax[others]) - np.maximum(ymin[i], ymin[others]), zero)
             * np.maximum(np.minimum(xmax[i], xmax[others]) - np.maximum(xmin[i], xmin[others]), zero))
    union = area[i] + area[others] - inter
    with np.errstate(all="ignore"):
        iou = np.where(union == 0, zero, inter / np.where(union == 0, np.float32(1), union))
    return np.where((area[i] <= 0) | (area[others] <= 0), zero, iou).astype(np.float32)


def non_max_suppression(boxes, scores, max_output: int, iou_threshold, score_threshold, sigma) -> tuple:
    """(selected indices, their scores) as TFLite's reference NonMaxSuppression picks them."""
    c = _corners(boxes.astype(np.float32, copy=False))
    queue = _Queue()
    for i in np.flatnonzero(scores > score_threshold):
        queue.push([scores[i], int(i), 0])
    n_out = min(len(queue), max_output)
    scale = np.float32(-0.5) / sigma if sigma > 0 else np.float32(0)
    selected, selected_scores = [], []
    while len(selected) < n_out and len(queue):
        cand = queue.pop()
        original = cand[0]
        earlier = np.array(selected[cand[2]:][::-1], np.int64)  # newest first
        ious = _ious(c, cand[1], earlier) if earlier.size else np.zeros(0, np.float32)
        suppressed = False
        for iou in ious:
            if iou >= iou_threshold:
                suppressed = True
                break
            if sigma > 0:
                cand[0] = np.float32(cand[0] * glibc_expf(scale * iou * iou))
            if cand[0] <= score_threshold:
                break
        cand[2] = len(selected)
        if not suppressed:
            if cand[0] == original:
                selected.append(cand[1])
                selected_scores.append(cand[0])
            if cand[0] > score_threshold:
                queue.push(cand)
    return selected, selected_scores


class NonMaxSuppression(Kernel):
    soft = False

    @classmethod
    def prepare(cls, op: OpContext) -> NmsParams:
        n_in, n_out = (6, 3) if cls.soft else (5, 2)
        if len(op.inputs) != n_in or any(t is None for t in op.inputs) or len(op.outputs) != n_out:
            raise ModelError(f"{op.where()}: {op.op_type} takes {n_in} inputs and gives {n_out} outputs")
        boxes, scores, size = op.inputs[:3]
        for k, t in enumerate(op.inputs):
            if k != 2:
                require_type(op, t, ("FLOAT32",), f"input {k}")
        require_type(op, size, ("INT32",), "max_output_size")
        if len(boxes.shape) != 2 or boxes.shape[1] != 4:
            raise ModelError(f"{op.where()}: boxes must be [num_boxes, 4], got {list(boxes.shape)}")
        if len(scores.shape) != 1 or scores.shape[0] != boxes.shape[0]:
            raise ModelError(f"{op.where()}: scores must be [{boxes.shape[0]}], got {list(scores.shape)}")
        if any(len(t.shape) != 0 for t in op.inputs[2:]):
            raise ModelError(f"{op.where()}: max_output_size and the thresholds must be scalars")
        if size.data is not None and int(as_ints(size.data)[0]) < 0:
            raise ModelError(f"{op.where()}: max_output_size must be >= 0")
        return NmsParams(cls.soft)

    @staticmethod
    def eval(p: NmsParams, boxes, scores, max_output_size, iou_threshold, score_threshold, sigma=None):
        size = int(as_ints(max_output_size)[0])
        if size < 0:
            raise fail(f"NON_MAX_SUPPRESSION: max_output_size {size} must be >= 0")
        sig = np.float32(0) if sigma is None else np.float32(np.asarray(sigma).reshape(-1)[0])
        if sig < 0:
            raise fail(f"NON_MAX_SUPPRESSION_V5: invalid sigma {float(sig)} for Soft-NMS")
        picked, picked_scores = non_max_suppression(
            boxes, scores.astype(np.float32, copy=False), size, np.float32(np.asarray(iou_threshold).reshape(-1)[0]),
            np.float32(np.asarray(score_threshold).reshape(-1)[0]), sig)
        n = len(picked)
        indices = np.zeros(size, np.int32)
        indices[:n] = picked
        count = np.array(n, np.int32)
        if not p.soft:
            return indices, count
        out_scores = np.zeros(size, np.float32)
        out_scores[:n] = picked_scores
        return indices, out_scores, count


class NonMaxSuppressionV4(NonMaxSuppression):
    soft = False


class NonMaxSuppressionV5(NonMaxSuppression):
    soft = True
