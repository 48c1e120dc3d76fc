"""Generators for the builtins published models use that came last (issue 7): the audio front end
(RFFT2D, REAL, IMAG, COMPLEX_ABS), detection (L2_POOL_2D, NON_MAX_SUPPRESSION_V4 / V5) and the
remaining small ops. Kinds beyond the usual four name the element type ("complex64", "int32").
"""

from __future__ import annotations

import numpy as np

from tests.fuzz.common import Gen, T, make_case

SPECIALS = False  # each generator chooses its own special values
PART = {"complex64": "float32", "complex128": "float64"}


def _complex(g: Gen, kind: str, shape):
    dtype = np.complex64 if kind == "complex64" else np.complex128
    mag = g.pick([1e-30, 1e-3, 1.0, 1e3, 1e30])
    x = (g.rng.standard_normal(shape) * mag + 1j * g.rng.standard_normal(shape) * mag).astype(dtype)
    if x.size and g.coin(0.3):  # parts near the float range (hypot must not overflow), signed zeros
        k = g.int(1, max(1, x.size // 4))
        pool = np.array([complex(3e38, 3e38), complex(-3e38, 1.0), complex(-0.0, 0.0), complex(0.0, -0.0)], dtype)
        x.reshape(-1)[g.rng.choice(x.size, k, replace=False)] = g.rng.choice(pool, k)
    return x


def _complex_part(op):
    def gen(g: Gen, kind):
        shape = g.dims(g.int(0, 4), 1, 5)
        g.note(shape=shape)
        return make_case(g, op, kind, [T(shape, kind)], [T(shape, PART[kind])], [_complex(g, kind, shape)])
    return gen


def rfft2d(g: Gen, kind):
    shape = g.dims(g.int(0, 2), 1, 3) + (g.int(1, 12), g.int(1, 12))
    fft = (2 ** g.int(0, 4), 2 ** g.int(1, 4))
    const = g.coin(0.8)
    x = (g.rng.standard_normal(shape) * g.pick([1e-3, 1.0, 1e4])).astype(np.float32)
    g.note(shape=shape, fft=fft, const=const)
    length = np.array(fft, np.int32)
    out = shape[:-2] + (fft[0], fft[1] // 2 + 1)
    return make_case(g, "RFFT2D", kind, [T(shape, kind), T((2,), "int32", data=length if const else None)],
                     [T(out, "complex64")], [x] if const else [x, length], float_rtol=1e-6)


def detection_postprocess(g: Gen, kind):
    """TFLite_Detection_PostProcess (a custom op LiteRT registers in BUILTIN_REF). The fast path
    leaves the slots past its detections unwritten in LiteRT (arena garbage), the regular path those
    past max_detections, so regular cases have one class per detection and fast cases fill every
    slot: anchors on a grid that decoded boxes cannot make overlap, enough of them scoring."""
    from tests.fuzz.common import Case
    from tests.kernels.test_detection_postprocess import detection_model

    regular = g.coin()
    n_classes, background = g.int(1, 8), g.int(0, 1)
    side = g.int(3, 7)
    n = side * side
    opts = dict(max_detections=g.int(1, 12), max_classes_per_detection=g.int(1, 3), detections_per_class=g.int(1, 8),
                use_regular_nms=regular, nms_score_threshold=float(np.float32(g.pick([0.0, 0.2, 0.5]))),
                nms_iou_threshold=float(np.float32(g.pick([0.1, 0.5, 0.6, 1.0]))), num_classes=n_classes,
                y_scale=g.pick([10.0, 1.0]), x_scale=g.pick([10.0, 1.0]), h_scale=g.pick([5.0, 1.0]),
                w_scale=g.pick([5.0, 1.0]))
    grid = (np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2) + 0.5) / side
    size = np.full((n, 2), 0.3 / side)
    spread = 0.3
    if regular:  # overlapping boxes and low scores are fine: every slot is written (up to max_detections)
        size, spread = size * g.pick([1.0, 3.0, 6.0]), g.pick([0.3, 2.0])
        opts["max_classes_per_detection"] = 1
    else:
        opts["max_classes_per_detection"] = min(opts["max_classes_per_detection"], n_classes)
        opts["max_detections"] = min(opts["max_detections"], n)
        opts["nms_score_threshold"] = 0.0
    quantized = kind == "uint8"
    if quantized:  # anchors 0.01 * (q - 3): stay on the grid
        anchors = np.clip(np.round(np.concatenate([grid, size], 1) / 0.01) + 3, 0, 255).astype(np.uint8)
        boxes = np.clip(128 + np.round(g.rng.uniform(-spread, spread, (1, n, 4)) / 0.05 * (1 if regular else 0.5)),
                        0, 255).astype(np.uint8)
        scores = g.rng.integers(0, 256, (1, n, n_classes + background)).astype(np.uint8)
    else:
        anchors = np.concatenate([grid, size], 1).astype(np.float32)
        boxes = g.rng.uniform(-spread, spread, (1, n, 4)).astype(np.float32)
        scores = g.rng.uniform(0, 1, (1, n, n_classes + background)).astype(np.float32)
        if g.coin():
            scores = (np.round(scores * g.int(1, 4)) / 4).astype(np.float32)  # ties
    g.note(regular=regular, boxes=n, classes=n_classes, background=background,
           **{k: opts[k] for k in ("max_detections", "max_classes_per_detection", "nms_iou_threshold")})
    model = detection_model(n, background, opts, quantized, anchors)
    return Case("TFLite_Detection_PostProcess", kind, g.seed, model, [boxes, scores], dict(g.cfg),
                avoid_known=g.avoid_known)


def l2_pool(g: Gen, kind):
    from eightbit.kernels.padding import compute_padding_height_width

    shape = (g.int(1, 2), g.int(1, 9), g.int(1, 9), g.int(1, 4))
    fh, fw = g.int(1, min(shape[1], 4) if g.coin(0.8) else 4), g.int(1, min(shape[2], 4) if g.coin(0.8) else 4)
    sh, sw, padding = g.int(1, 3), g.int(1, 3), g.pick([0, 1])
    geo = compute_padding_height_width(sh, sw, 1, 1, shape[1], shape[2], fh, fw, padding)
    if geo.out_height <= 0 or geo.out_width <= 0:
        padding = 0
        geo = compute_padding_height_width(sh, sw, 1, 1, shape[1], shape[2], fh, fw, padding)
    g.note(shape=shape, filter=(fh, fw), stride=(sh, sw), padding=padding)
    x = g.fdata(shape)
    if g.coin(0.1):
        x.reshape(-1)[0] = g.pick([np.inf, 3e38, np.nan])
    opts = {"padding": padding, "stride_h": sh, "stride_w": sw, "filter_height": fh, "filter_width": fw,
            "fused_activation_function": g.act()}
    return make_case(g, "L2_POOL_2D", kind, [T(shape, kind)], [T((shape[0], geo.out_height, geo.out_width, shape[3]), kind)],
                     [x], opts, float_rtol=0.0)


def _nms(op):
    def gen(g: Gen, kind):
        n = g.int(1, 40)
        centre = g.rng.uniform(0, 1, (n, 2))
        half = g.rng.uniform(0.0, 0.3, (n, 2)) * g.pick([1.0, 0.3])
        boxes = np.concatenate([centre - half, centre + half], 1).astype(np.float32)
        swap = g.rng.random(n) < 0.3
        boxes[swap] = boxes[swap][:, [2, 3, 0, 1]]
        scores = g.rng.uniform(0, 1, n).astype(np.float32)
        if g.coin():
            scores = (np.round(scores * g.int(1, 5)) / 5).astype(np.float32)  # ties: the heap's order
        size, iou, thr = g.int(0, n + 3), g.pick([0.0, 0.3, 0.5, 0.7, 1.0]), g.pick([0.0, 0.0, 0.2, 0.6])
        sigma = g.pick([0.0, 0.1, 0.5, 2.0]) if op.endswith("V5") else None
        const = g.coin(0.8) or size == 0  # LiteRT cannot return a dynamic output of size 0
        g.note(n=n, size=size, iou=iou, score=thr, sigma=sigma, const=const)
        size_t = T((), "int32", data=np.array(size, np.int32) if const else None)
        ins = [T((n, 4), kind), T((n,), kind), size_t, T((), kind, data=np.array(iou, np.float32)),
               T((), kind, data=np.array(thr, np.float32))]
        outs = [T((size,), "int32"), T((), "int32")]
        if sigma is not None:
            ins.append(T((), kind, data=np.array(sigma, np.float32)))
            outs.insert(1, T((size,), kind))
        feeds = [boxes, scores] + ([] if const else [np.array(size, np.int32)])
        return make_case(g, op, kind, ins, outs, feeds, float_rtol=1e-6)
    return gen


COMPLEX = ("complex64", "complex128")
GENERATORS = {
    "REAL": (COMPLEX, _complex_part("REAL")),
    "IMAG": (COMPLEX, _complex_part("IMAG")),
    "COMPLEX_ABS": (COMPLEX, _complex_part("COMPLEX_ABS")),
    "RFFT2D": (("float32",), rfft2d),
    "TFLite_Detection_PostProcess": (("float32", "uint8"), detection_postprocess),
    "L2_POOL_2D": (("float32",), l2_pool),
    "NON_MAX_SUPPRESSION_V4": (("float32",), _nms("NON_MAX_SUPPRESSION_V4")),
    "NON_MAX_SUPPRESSION_V5": (("float32",), _nms("NON_MAX_SUPPRESSION_V5")),
}
