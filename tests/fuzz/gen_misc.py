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
        return make_case(g, op, kind, ins, outs, feeds, float_rtol=0.0)
    return gen


INT_KINDS = ("int8", "uint8", "int16", "uint16", "int32", "uint32")
DT = {"float32": np.float32, "float64": np.float64, "int8": np.int8, "uint8": np.uint8, "int16": np.int16,
      "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32, "int64": np.int64}


def _ints(g: Gen, kind: str, shape, lo=None, hi=None):
    info = np.iinfo(DT[kind])
    lo, hi = (info.min if lo is None else max(lo, info.min)), (info.max if hi is None else min(hi, info.max))
    return g.rng.integers(lo, hi, tuple(shape), endpoint=True, dtype=np.int64).astype(DT[kind])


def _vals(g: Gen, kind: str, shape):
    return g.fdata(tuple(shape)).astype(DT[kind]) if kind.startswith("float") else _ints(g, kind, shape, -300, 300)


def _bitwise(op):
    def gen(g: Gen, kind):
        from tests.fuzz.common import broadcast_pair

        a, b, out = broadcast_pair(g, max_rank=4)
        bits = np.dtype(DT[kind]).itemsize * 8
        y = _ints(g, kind, b) if op == "BITWISE_XOR" else _ints(g, kind, b, -2, bits + 2)
        g.note(a=a, b=b)
        return make_case(g, op, kind, [T(a, kind), T(b, kind)], [T(out, kind)], [_ints(g, kind, a), y])
    return gen


def bucketize(g: Gen, kind):
    shape = g.dims(g.int(0, 3), 1, 6)
    bounds = np.sort(np.round(g.rng.normal(0, 3, g.int(0, 8)) * 2) / 2).astype(np.float32)
    x = _vals(g, kind, shape) if kind.startswith("float") else _ints(g, kind, shape, -6, 6)
    if x.size and bounds.size and kind.startswith("float"):
        x.reshape(-1)[0] = bounds[0]  # on a boundary
    g.note(shape=shape, bounds=bounds.tolist())
    return make_case(g, "BUCKETIZE", kind, [T(shape, kind)], [T(shape, "int32")], [x], {"boundaries": bounds.tolist()})


def fake_quant(g: Gen, kind):
    shape = g.dims(g.int(0, 4), 1, 6)
    lo, hi = -g.pick([0.0, 0.1, 1.0, g.loguniform(1e-3, 1e3)]), g.pick([0.0, 0.5, 6.0, g.loguniform(1e-3, 1e3)])
    if lo == hi:
        hi = 1.0
    bits = g.pick([8, 8, 4, 2, 16])
    x = g.fdata(shape, mag=max(-lo, hi))
    g.note(shape=shape, min=lo, max=hi, bits=bits)
    return make_case(g, "FAKE_QUANT", kind, [T(shape, kind)], [T(shape, kind)], [x],
                     {"min": float(np.float32(lo)), "max": float(np.float32(hi)), "num_bits": bits}, float_rtol=0.0)


def matrix_diag(g: Gen, kind):
    shape = g.dims(g.int(1, 3), 1, 5)
    g.note(shape=shape)
    return make_case(g, "MATRIX_DIAG", kind, [T(shape, kind)], [T(shape + shape[-1:], kind)], [_vals(g, kind, shape)])


def matrix_set_diag(g: Gen, kind):
    shape = g.dims(g.int(2, 4), 1, 5)
    diag = shape[:-2] + (min(shape[-2:]),)
    g.note(shape=shape)
    return make_case(g, "MATRIX_SET_DIAG", kind, [T(shape, kind), T(diag, kind)], [T(shape, kind)],
                     [_vals(g, kind, shape), _vals(g, kind, diag)])


def segment_sum(g: Gen, kind):
    n = g.int(1, 8)
    ids = np.concatenate([[0], np.cumsum(g.rng.integers(0, 2, n - 1))]).astype(np.int32)
    shape = (n,) + g.dims(g.int(0, 2), 1, 4)
    data = g.fdata(shape) if kind == "float32" else _ints(g, kind, shape)
    g.note(ids=ids.tolist(), shape=shape)
    return make_case(g, "SEGMENT_SUM", kind, [T(shape, kind), T(ids.shape, "int32")],
                     [T((int(ids[-1]) + 1,) + shape[1:], kind)], [data, ids], resolver="default")


def sparse_to_dense(g: Gen, kind):
    dims = list(g.dims(g.int(1, 4), 1, 5))
    n = g.int(1, 8)
    coords = np.stack([g.rng.integers(0, d, n) for d in dims], 1)
    ikind = g.pick(["int32", "int64"])
    indices = coords[:, 0] if len(dims) == 1 and g.coin() else coords
    scalar = g.coin(0.2)
    vals = _vals(g, kind, () if scalar else (n,))
    version = 3 if kind in ("int8", "uint8") else 2 if kind == "int64" else 1
    g.note(dims=dims, n=n, scalar=scalar, index=ikind)
    ins = [T(indices.shape, ikind, data=indices.astype(DT[ikind])), T((len(dims),), ikind, data=np.array(dims)),
           T(vals.shape, kind), T((), kind)]
    return make_case(g, "SPARSE_TO_DENSE", kind, ins, [T(dims, kind)], [vals, _vals(g, kind, ())], version=version)


def unique(g: Gen, kind):
    n = g.int(1, 30)
    x = _ints(g, kind, (n,), -4, 4) if kind != "float32" else g.rng.choice(
        np.array([0.0, -0.0, 1.5, -3.25, 1e30, -1e-30], np.float32), n)
    index = g.pick([2, 4])
    g.note(n=n, index=index)
    return make_case(g, "UNIQUE", kind, [T((n,), kind)], [T((n,), kind), T((n,), {2: "int32", 4: "int64"}[index])],
                     [x], {"idx_out_type": index})


def bitcast(g: Gen, kind):
    src = np.dtype(DT[kind])
    dst_kind = g.pick(["float32", "int8", "uint8", "int16", "int32", "uint32", "int64"])
    dst = np.dtype(DT[dst_kind])
    shape = g.dims(g.int(0, 3), 1, 4)
    if src.itemsize < dst.itemsize:
        shape = shape + (dst.itemsize // src.itemsize,)
    out = shape if src.itemsize == dst.itemsize else (shape + (src.itemsize // dst.itemsize,)
                                                      if src.itemsize > dst.itemsize else shape[:-1])
    x = g.fdata(shape) if kind == "float32" else _ints(g, kind, shape)
    g.note(shape=shape, to=dst_kind)
    return make_case(g, "BITCAST", kind, [T(shape, kind)], [T(out, dst_kind)], [x], float_rtol=0.0)


def _conv3d_options(g: Gen):
    strides, dilations = tuple(g.int(1, 3) for _ in range(3)), tuple(g.pick([1, 1, 2]) for _ in range(3))
    return strides, dilations, g.pick([0, 1]), g.act()


def _conv3d_opts(padding, strides, dilations, act):
    return {"padding": padding, "stride_d": strides[0], "stride_h": strides[1], "stride_w": strides[2],
            "dilation_d_factor": dilations[0], "dilation_h_factor": dilations[1], "dilation_w_factor": dilations[2],
            "fused_activation_function": act}


def conv3d(g: Gen, kind):
    from eightbit.kernels.padding import compute_out_size

    strides, dilations, padding, act = _conv3d_options(g)
    k = tuple(g.int(1, 3) for _ in range(3))
    sizes = tuple(g.int((kk - 1) * d + 1, 7) for kk, d in zip(k, dilations))
    cin, cout = g.int(1, 4), g.int(1, 4)
    x_shape = (g.int(1, 2),) + sizes + (cin,)
    out = (x_shape[0],) + tuple(compute_out_size(padding, n, kk, st, d)
                                for n, kk, st, d in zip(sizes, k, strides, dilations)) + (cout,)
    w = g.fdata(k + (cin, cout), mag=0.5)
    ins = [T(x_shape, kind), T(w.shape, kind, data=w)]
    if g.coin():
        ins.append(T((cout,), kind, data=g.fdata((cout,))))
    g.note(x=x_shape, k=k, cout=cout, strides=strides, dilations=dilations, padding=padding, act=act)
    return make_case(g, "CONV_3D", kind, ins, [T(out, kind)], [g.fdata(x_shape)],
                     _conv3d_opts(padding, strides, dilations, act))


def conv3d_transpose(g: Gen, kind):
    from eightbit.kernels.padding import compute_out_size

    strides, dilations, padding, act = _conv3d_options(g)
    k = tuple(g.int(1, 3) for _ in range(3))
    out_sizes = tuple(g.int((kk - 1) * d + 1, 8) for kk, d in zip(k, dilations))
    cin, cout = g.int(1, 3), g.int(1, 3)
    out = (g.int(1, 2),) + out_sizes + (cout,)
    x_shape = (out[0],) + tuple(compute_out_size(padding, n, kk, st, d)
                                for n, kk, st, d in zip(out_sizes, k, strides, dilations)) + (cin,)
    w = g.fdata(k + (cout, cin), mag=0.5)
    ins = [T((5,), "int32", data=np.array(out, np.int32)), T(w.shape, kind, data=w), T(x_shape, kind)]
    if g.coin():
        ins.append(T((cout,), kind, data=g.fdata((cout,))))
    g.note(out=out, x=x_shape, k=k, strides=strides, dilations=dilations, padding=padding, act=act)
    return make_case(g, "CONV_3D_TRANSPOSE", kind, ins, [T(out, kind)], [g.fdata(x_shape)],
                     _conv3d_opts(padding, strides, dilations, act))


def embedding_lookup_sparse(g: Gen, kind):
    dense = list(g.dims(g.int(1, 3), 1, 4))
    params_shape = (g.int(1, 6),) + g.dims(g.int(1, 2), 1, 4)
    n = g.int(1, 8)
    coords = np.stack([g.rng.integers(0, d, n) for d in dense], 1).astype(np.int32)
    if g.coin(0.8):
        coords = coords[np.lexsort(coords[:, ::-1].T)]
    ids = g.rng.integers(0, params_shape[0], n).astype(np.int32)
    weights = g.rng.uniform(-1, 2, n).astype(np.float32)
    combiner = g.int(0, 2)
    g.note(dense=dense, params=params_shape, n=n, combiner=combiner)
    ins = [T((n,), "int32"), T((n, len(dense)), "int32"), T((len(dense),), "int32", data=np.array(dense, np.int32)),
           T((n,), kind), T(params_shape, kind, data=g.fdata(params_shape))]
    return make_case(g, "EMBEDDING_LOOKUP_SPARSE", kind, ins, [T(tuple(dense[:-1]) + params_shape[1:], kind)],
                     [ids, coords, weights], {"combiner": combiner}, float_rtol=0.0)


def hashtable_lookup(g: Gen, kind):
    n = g.int(1, 12)
    keys = np.sort(g.rng.integers(-6, 7, n) if g.coin(0.8) else g.rng.integers(-2**31, 2**31 - 1, n)).astype(np.int32)
    row = g.dims(g.int(0, 2), 1, 3)
    vals = _vals(g, kind, (n,) + row)
    m = g.int(1, 10)
    lookup = np.where(g.rng.random(m) < 0.7, g.rng.choice(keys, m), g.rng.integers(-8, 9, m)).astype(np.int32)
    g.note(keys=keys.tolist(), row=row, lookups=lookup.tolist())
    return make_case(g, "HASHTABLE_LOOKUP", kind, [T((m,), "int32"), T((n,), "int32", data=keys),
                                                   T(vals.shape, kind, data=vals)],
                     [T((m,) + row, kind), T((m,), "uint8")], [lookup], float_rtol=0.0)


def dilate(g: Gen, kind):
    shape = g.dims(g.int(1, 4), 1, 4)
    d = [g.pick([1, 1, 2, 3]) for _ in shape]
    out = tuple((n - 1) * f + 1 for n, f in zip(shape, d))
    const = g.coin(0.8)
    g.note(shape=shape, dilations=d, const=const)
    dil = np.array(d, np.int32)
    ins = [T(shape, kind), T((len(d),), "int32", data=dil if const else None), T((), kind)]
    feeds = [_vals(g, kind, shape)] + ([] if const else [dil]) + [_vals(g, kind, ())]
    return make_case(g, "DILATE", kind, ins, [T(out, kind)], feeds, float_rtol=0.0)


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
    "CONV_3D": (("float32",), conv3d),
    "CONV_3D_TRANSPOSE": (("float32",), conv3d_transpose),
    "EMBEDDING_LOOKUP_SPARSE": (("float32",), embedding_lookup_sparse),
    "HASHTABLE_LOOKUP": (("float32", "int8", "uint8", "int16", "int32", "int64"), hashtable_lookup),
    "DILATE": (("float32", "int8", "uint8", "int16", "int32", "int64"), dilate),
    "BITWISE_XOR": (INT_KINDS, _bitwise("BITWISE_XOR")),
    "RIGHT_SHIFT": (INT_KINDS, _bitwise("RIGHT_SHIFT")),
    "BUCKETIZE": (("float32", "float64", "int32", "int64"), bucketize),
    "FAKE_QUANT": (("float32",), fake_quant),
    "MATRIX_DIAG": (("float32", "int8", "uint8", "int16", "int32", "int64"), matrix_diag),
    "MATRIX_SET_DIAG": (("float32", "int8", "uint8", "int16", "int32", "int64"), matrix_set_diag),
    "SEGMENT_SUM": (("float32", "int32"), segment_sum),
    "SPARSE_TO_DENSE": (("float32", "int8", "uint8", "int32", "int64"), sparse_to_dense),
    "UNIQUE": (("float32", "int8", "uint8", "int16", "int32", "int64"), unique),
    "BITCAST": (("float32", "int8", "uint8", "int16", "int32", "int64"), bitcast),
}
