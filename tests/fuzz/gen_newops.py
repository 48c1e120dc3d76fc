"""Generators for the ops added for real models and the importers (issue 7): plain math (POW,
FLOOR, CEIL, ROUND, SIGN, SIN, COS, FLOOR_DIV, FLOOR_MOD), logical and bool reductions,
REDUCE_PROD, indexing (GATHER_ND, SCATTER_ND, REVERSE_V2, TOPK_V2, ONE_HOT, WHERE, RANGE, CUMSUM),
MIRROR_PAD, SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND, RELU_0_TO_1, LOCAL_RESPONSE_NORMALIZATION.

Kinds beyond the usual four name the element type ("float16", "int32", "int64", "bool").
CEIL, ROUND and LOCAL_RESPONSE_NORMALIZATION run in LiteRT's builtin resolver: BUILTIN_REF lacks
the first two, and its LRN sums one channel too few (see tests/kernels/test_activations_norm_new.py);
the builtin kernels treat denormals as zero, so CEIL / ROUND data has none.
"""

from __future__ import annotations

import numpy as np

from tests.fuzz.common import QT, Gen, T, make_case

SPECIALS = False  # each generator chooses its own special values
DT = {"float32": np.float32, "float16": np.float16, "int8": np.int8, "uint8": np.uint8, "int16": np.int16,
      "int32": np.int32, "int64": np.int64, "bool": np.bool_}
QUANTIZED = ("int8", "uint8", "int16")


def values(g: Gen, kind: str, shape, zp: int = 0, lo=None, hi=None, specials=False, denormals=True):
    """Data of any kind: floats with zeros, halves and (optionally) inf / NaN; integers over their range
    (or [lo, hi]); bools."""
    shape = tuple(int(d) for d in shape)
    if kind == "bool":
        return g.rng.random(shape) < g.pick([0.1, 0.5, 0.9])
    if kind in ("float32", "float16"):
        x = g.fdata(shape).astype(DT[kind])
        if specials and x.size and g.coin(0.2):
            pool = [np.inf, -np.inf, np.nan, -0.0] + ([1e-40] if denormals and kind == "float32" else [])
            k = g.int(1, max(1, x.size // 4))
            x.reshape(-1)[g.rng.choice(x.size, k, replace=False)] = g.rng.choice(np.array(pool, np.float32), k)
        return x
    if kind in QUANTIZED and lo is None and hi is None:
        return g.qdata(kind, shape, zp)
    info = np.iinfo(DT[kind])
    lo = max(info.min, -(2**31) if lo is None else lo)
    hi = min(info.max, 2**31 - 1 if hi is None else hi)
    return g.rng.integers(lo, hi, shape, endpoint=True).astype(DT[kind])


def qp(g: Gen, kind: str):
    return g.qparams(kind) if kind in QUANTIZED else (None, None)


def shape_of(g: Gen, lo_rank=1, hi_rank=4, hi=5):
    return g.dims(g.int(lo_rank, hi_rank), 1, hi)


def index_operand(g: Gen, value, kind="int32", p_const=0.7):
    """(spec, feeds): an index / shape operand, constant or fed at run time."""
    value = np.asarray(value, DT[kind])
    if g.coin(p_const):
        return T(value.shape, kind, data=value), []
    return T(value.shape, kind), [value]


# ---- plain one-input math ------------------------------------------------------------------------
def _plain_unary(op, resolver="ref", version=lambda kind: 1, denormals=True):
    def gen(g: Gen, kind):
        shape = shape_of(g, 0, 5)
        file_shape, feed_shape = g.batch_resize(shape) if shape else (shape, shape)
        x = values(g, kind, feed_shape, specials=True, denormals=denormals)
        if op in ("SIN", "COS") and x.dtype.kind == "f":
            x = np.where(np.abs(x) < 1e4, x, 0.5).astype(x.dtype)  # huge arguments: argument-reduction noise
        g.note(shape=feed_shape)
        return make_case(g, op, kind, [T(file_shape, kind)], [T(file_shape, kind)], [x], resolver=resolver,
                         version=version(kind))
    return gen


# ---- binary math ---------------------------------------------------------------------------------
def _pair(g: Gen):
    a = shape_of(g, 0, 4)
    b = tuple(1 if g.coin(0.3) else d for d in a[g.int(0, len(a)):]) if g.coin(0.5) else a
    if g.coin(0.3):
        a, b = b, a
    return a, b, tuple(np.broadcast_shapes(a, b))


def pow_(g: Gen, kind):
    a, b, out = _pair(g)
    if kind == "int32":
        x, y = values(g, kind, a, lo=-12, hi=12), values(g, kind, b, lo=0, hi=12)
    else:
        x = values(g, kind, a, specials=True)
        y = values(g, kind, b, specials=True) if g.coin(0.5) else np.round(values(g, kind, b)).astype(np.float32)
    g.note(a=a, b=b)
    return make_case(g, "POW", kind, [T(a, kind), T(b, kind)], [T(out, kind)], [x, y], version=1)


def _division(op, versions):
    def gen(g: Gen, kind):
        a, b, out = _pair(g)
        x = values(g, kind, a, specials=op == "FLOOR_MOD")
        if kind == "float32":
            y = values(g, kind, b)
            y = np.where(y == 0, 1.5, y).astype(np.float32)
        else:
            # no 0 (an error on both sides) and no -1 (LiteRT's INT_MIN / -1 traps and kills the process)
            y = values(g, kind, b, lo=-9, hi=9)
            y = np.where((y == 0) | (y == -1), 7, y).astype(DT[kind])
        g.note(a=a, b=b)
        return make_case(g, op, kind, [T(a, kind), T(b, kind)], [T(out, kind)], [x, y], version=versions[kind])
    return gen


def _logical(op):
    def gen(g: Gen, kind):
        a, b, out = _pair(g)
        g.note(a=a, b=b)
        return make_case(g, op, kind, [T(a, kind), T(b, kind)], [T(out, kind)],
                         [values(g, kind, a), values(g, kind, b)])
    return gen


# ---- reductions ----------------------------------------------------------------------------------
def _axes(g: Gen, rank: int):
    n = g.int(0 if g.coin(0.1) else 1, rank)
    axes = [int(a) - (rank if g.coin(0.3) else 0) for a in g.rng.choice(rank, n, replace=False)]
    if axes and g.coin(0.1):
        axes.append(axes[0])
    return axes


def _reduce(op):
    def gen(g: Gen, kind):
        shape = shape_of(g, 1, 4, 4)
        axes = _axes(g, len(shape))
        keep = g.coin()
        resolved = {a % len(shape) for a in axes}
        out = tuple(1 if i in resolved else d for i, d in enumerate(shape) if keep or i not in resolved)
        in_q = qp(g, kind)
        out_q = in_q
        if kind in QUANTIZED:
            n = int(np.prod([shape[a] for a in resolved])) if resolved else 1
            # the product of n values in [-1, 1]-ish: an output scale near in_scale^n * typical |q|^n
            log_scale = n * np.log(in_q[0]) + g.rng.uniform(0.0, n * np.log(64.0))  # in log space: no overflow
            out_q = (float(np.float32(np.exp(np.clip(log_scale, np.log(1e-6), np.log(1e3))))), g.zp(kind))
            if kind == "int16":
                out_q = (out_q[0], 0)
        x = values(g, kind, shape, in_q[1] or 0, specials=kind == "float32")
        if kind in ("int32", "int64"):
            x = values(g, kind, shape, lo=-20, hi=20)
        ax, feeds = index_operand(g, axes)
        g.note(shape=shape, axes=axes, keep=keep, in_q=in_q, out_q=out_q)
        version = 2 if kind in ("int8", "int16") else 1
        return make_case(g, op, kind, [QT(shape, kind, in_q), ax], [QT(out, kind, out_q)], [x] + feeds,
                         {"keep_dims": keep}, version=version, options_type="ReducerOptions")
    return gen


# ---- indexing ------------------------------------------------------------------------------------
_MOVE_VERSION = {"int8": 2, "int16": 3}


def mirror_pad(g: Gen, kind):
    shape = shape_of(g, 1, 5, 5)
    mode = g.int(0, 1)
    pads = [[g.int(0, d - 1 + mode), g.int(0, d - 1 + mode)] for d in shape]
    q = qp(g, kind)
    p, feeds = index_operand(g, pads, g.pick(["int32", "int64"]))
    out = tuple(d + a + b for d, (a, b) in zip(shape, pads))
    g.note(shape=shape, pads=pads, mode=mode, q=q)
    return make_case(g, "MIRROR_PAD", kind, [QT(shape, kind, q), p], [QT(out, kind, q)],
                     [values(g, kind, shape, q[1] or 0)] + feeds, {"mode": mode}, version=_MOVE_VERSION.get(kind, 1))


def gather_nd(g: Gen, kind):
    shape = shape_of(g, 1, 4, 5)
    depth = g.int(1, len(shape))
    batch = shape_of(g, 0, 2, 3)
    idx = np.stack([g.rng.integers(0, d, batch) for d in shape[:depth]], axis=-1) if batch else \
        np.array([g.int(0, d - 1) for d in shape[:depth]])
    idx_kind = g.pick(["int32", "int64", "int16"])
    q = qp(g, kind)
    ix, feeds = index_operand(g, idx, idx_kind)
    out = tuple(idx.shape[:-1]) + tuple(shape[depth:])
    g.note(shape=shape, indices=idx.shape, idx_kind=idx_kind, q=q)
    version = 5 if kind == "bool" else 4 if idx_kind == "int16" else 3 if kind == "int16" else 1
    return make_case(g, "GATHER_ND", kind, [QT(shape, kind, q), ix], [QT(out, kind, q)],
                     [values(g, kind, shape, q[1] or 0)] + feeds, version=version)


def scatter_nd(g: Gen, kind):
    shape = shape_of(g, 1, 4, 5)
    depth = g.int(1, len(shape))
    n = g.int(1, 6)
    idx = np.stack([g.rng.integers(0, d, n) for d in shape[:depth]], axis=-1).astype(np.int32)
    upd_shape = (n,) + tuple(shape[depth:])
    q = qp(g, kind)
    upd = values(g, kind, upd_shape, q[1] or 0)
    if kind in ("int8", "uint8"):  # repeated indices add raw values; keep the sums in range
        upd = (upd.astype(np.int64) // 4).astype(DT[kind])
    sh, feeds = index_operand(g, list(shape))
    g.note(shape=shape, n=n, depth=depth, q=q)
    return make_case(g, "SCATTER_ND", kind, [T(idx.shape, "int32"), QT(upd_shape, kind, q), sh], [QT(shape, kind, q)],
                     [idx, upd] + feeds)


def reverse_v2(g: Gen, kind):
    shape = shape_of(g, 1, 5, 4)
    first = g.int(0, len(shape) - 1)
    run = list(range(first, g.int(first, len(shape) - 1) + 1))  # LiteRT takes adjacent axes only
    g.rng.shuffle(run)
    axes = [int(a) - (len(shape) if g.coin(0.3) else 0) for a in run]
    q = qp(g, kind)
    ax, feeds = index_operand(g, axes)
    g.note(shape=shape, axes=axes, q=q)
    version = {"int8": 3, "bool": 2}.get(kind, 1) if len(axes) == 1 else 3
    return make_case(g, "REVERSE_V2", kind, [QT(shape, kind, q), ax], [QT(shape, kind, q)],
                     [values(g, kind, shape, q[1] or 0)] + feeds, version=version)


def topk_v2(g: Gen, kind):
    shape = shape_of(g, 1, 3, 8)
    k = g.int(0, shape[-1])
    q = qp(g, kind)
    x = values(g, kind, shape, q[1] or 0)
    if g.coin(0.4):  # ties
        x = (x // 3 * 3).astype(x.dtype) if kind != "float32" else np.round(x).astype(np.float32)
    k_kind, i_kind = g.pick(["int32", "int16"]), g.pick(["int32", "int16"])
    out = tuple(shape[:-1]) + (k,)
    g.note(shape=shape, k=k, k_kind=k_kind, indices=i_kind, q=q)
    version = 3 if "int16" in (kind, k_kind, i_kind) else 2 if kind == "int8" else 1
    return make_case(g, "TOPK_V2", kind, [QT(shape, kind, q), T((), k_kind, data=np.array(k, DT[k_kind]))],
                     [QT(out, kind, q), T(out, i_kind)], [x], version=version)


def one_hot(g: Gen, kind):
    shape = shape_of(g, 0, 3, 4)
    depth = g.int(0, 6)
    axis = g.int(-1, len(shape))
    idx_kind = g.pick(["int32", "int64"])
    idx = values(g, idx_kind, shape, lo=-1, hi=depth + 1)
    on, off = values(g, kind, (2,))
    out = list(shape)
    out.insert(axis if axis >= 0 else len(out), depth)
    g.note(shape=shape, depth=depth, axis=axis)
    return make_case(g, "ONE_HOT", kind, [T(shape, idx_kind), T((), "int32", data=np.array(depth, np.int32)),
                                          T((), kind, data=on), T((), kind, data=off)], [T(out, kind)], [idx],
                     {"axis": axis})


def where(g: Gen, kind):
    shape = shape_of(g, 1, 5, 4)
    x = values(g, kind, shape)
    if kind != "bool":
        x = np.where(g.rng.random(shape) < 0.5, 0, x).astype(x.dtype)
    if not np.any(x):  # LiteRT's Python binding cannot return an empty output
        x.reshape(-1)[0] = 1
    g.note(shape=shape)
    return make_case(g, "WHERE", kind, [T(shape, kind)], [T((1, len(shape)), "int64")], [x],
                     version=1 if kind == "bool" else 2)


def range_(g: Gen, kind):
    if kind == "float32":
        start = float(np.float32(g.rng.normal(0, 10)))
        delta = float(np.float32(g.pick([1, -1]) * g.loguniform(0.01, 5)))
        limit = float(np.float32(start + delta * g.loguniform(0.5, 60)))
    else:
        start, delta = g.int(-50, 50), g.pick([1, -1]) * g.int(1, 7)
        limit = start + delta * g.int(1, 40) + g.int(-abs(delta) + 1, 0) * (1 if delta > 0 else -1)
        if kind == "int64":
            start, limit = start + 2**40, limit + 2**40
    vals = [np.array(v, DT[kind]) for v in (start, limit, delta)]
    const = g.coin(0.5)
    g.note(start=start, limit=limit, delta=delta, const=const)
    ins = [T((), kind, data=v if const else None) for v in vals]
    return make_case(g, "RANGE", kind, ins, [T((1,), kind)], [] if const else vals,
                     version=2 if kind == "int64" else 1, resolver="default" if kind == "int64" else "ref")


def cumsum(g: Gen, kind):
    shape = shape_of(g, 1, 4, 6)
    axis = g.int(-len(shape), len(shape) - 1)
    x = values(g, kind, shape, lo=-(2**20), hi=2**20) if kind != "float32" else values(g, kind, shape, specials=True)
    ax, feeds = index_operand(g, axis)
    opts = {"exclusive": g.coin(), "reverse": g.coin()}
    g.note(shape=shape, axis=axis, **opts)
    return make_case(g, "CUMSUM", kind, [T(shape, kind), ax], [T(shape, kind)], [x] + feeds, opts,
                     float_atol=float(8 * np.finfo(np.float32).eps * np.sum(np.abs(np.nan_to_num(x, posinf=0, neginf=0))))
                     if kind == "float32" else 0.0)


def _space_batch(op):
    def gen(g: Gen, kind):
        rank = g.pick([3, 4])
        m = rank - 2  # a 4-D input has two spatial dimensions, a 3-D one one
        block = [g.int(1, 3) for _ in range(m)]
        if op == "SPACE_TO_BATCH_ND":
            pads = [[g.int(0, 2), g.int(0, 2)] for _ in range(m)]
            spatial = [b * g.int(1, 3) for b in block]
            spatial = [s - a - c if s - a - c > 0 else s for s, (a, c) in zip(spatial, pads)]
            pads = [[a, c] if (s + a + c) % b == 0 else [0, (-s) % b] for s, (a, c), b in zip(spatial, pads, block)]
            shape = [g.int(1, 2)] + spatial + [g.int(1, 3)] * (rank - 1 - m)
            out = [shape[0] * int(np.prod(block))] + [(s + a + c) // b for s, (a, c), b in zip(spatial, pads, block)]
        else:
            spatial = [g.int(1, 3) for _ in range(m)]
            pads = [[g.int(0, (s * b - 1) // 2), 0] for s, b in zip(spatial, block)]
            pads = [[a, g.int(0, s * b - 1 - a)] for (a, _), s, b in zip(pads, spatial, block)]
            shape = [g.int(1, 2) * int(np.prod(block))] + spatial + [g.int(1, 3)] * (rank - 1 - m)
            out = [shape[0] // int(np.prod(block))] + [s * b - a - c for s, b, (a, c) in zip(spatial, block, pads)]
        out += shape[1 + m:]
        q = qp(g, kind)
        bs, f1 = index_operand(g, block)
        ps, f2 = index_operand(g, pads)
        g.note(shape=shape, block=block, pads_or_crops=pads, q=q)
        version = 4 if kind == "int16" else 3 if rank != 4 else 2 if kind == "int8" else 1
        return make_case(g, op, kind, [QT(shape, kind, q), bs, ps], [QT(out, kind, q)],
                         [values(g, kind, shape, q[1] or 0)] + f1 + f2, version=version)
    return gen


def relu_0_to_1(g: Gen, kind):
    shape = shape_of(g, 1, 4, 6)
    in_q = qp(g, kind)
    out_q = (g.rel_scale(in_q[0]), g.zp(kind)) if kind in QUANTIZED else in_q
    g.note(shape=shape, in_q=in_q, out_q=out_q)
    return make_case(g, "RELU_0_TO_1", kind, [QT(shape, kind, in_q)], [QT(shape, kind, out_q)],
                     [values(g, kind, shape, in_q[1] or 0, specials=True)])


def lrn(g: Gen, kind):
    shape = (g.int(1, 2), g.int(1, 3), g.int(1, 3), g.int(1, 12))
    opts = {"radius": g.int(0, 6), "bias": float(np.float32(g.loguniform(1e-3, 3))),
            "alpha": float(np.float32(g.loguniform(1e-4, 2))), "beta": float(np.float32(g.rng.uniform(0.1, 1.5)))}
    g.note(shape=shape, **opts)
    return make_case(g, "LOCAL_RESPONSE_NORMALIZATION", kind, [T(shape, kind)], [T(shape, kind)],
                     [values(g, kind, shape)], opts, resolver="default", options_type="LocalResponseNormalizationOptions",
                     float_rtol=1e-4)  # LiteRT's optimized kernel, not a reference: its own float rounding


def add_n(g: Gen, kind):
    shape = shape_of(g, 0, 4)
    n = g.int(2, 5)
    g.note(shape=shape, n=n)
    xs = [values(g, kind, shape, specials=True) if kind == "float32" else values(g, kind, shape) for _ in range(n)]
    return make_case(g, "ADD_N", kind, [T(shape, kind)] * n, [T(shape, kind)], xs)


def atan2(g: Gen, kind):
    shape = shape_of(g, 0, 4)
    g.note(shape=shape)
    return make_case(g, "ATAN2", kind, [T(shape, kind), T(shape, kind)], [T(shape, kind)],
                     [values(g, kind, shape, specials=True), values(g, kind, shape, specials=True)])


def rank(g: Gen, kind):
    shape = shape_of(g, 0, 6, 3)
    q = qp(g, kind)
    g.note(shape=shape)
    return make_case(g, "RANK", kind, [QT(shape, kind, q)], [T((), "int32")], [values(g, kind, shape, q[1] or 0)])


def broadcast_args(g: Gen, kind):
    a, b, out = _pair(g)
    g.note(a=a, b=b)
    sa, sb = np.array(a, DT[kind]), np.array(b, DT[kind])
    return make_case(g, "BROADCAST_ARGS", kind, [T(sa.shape, kind), T(sb.shape, kind)], [T((len(out),), kind)], [sa, sb])


def dynamic_update_slice(g: Gen, kind):
    shape = shape_of(g, 1, 4, 5)
    upd = tuple(g.int(0 if g.coin(0.1) else 1, d) for d in shape)
    start = [g.int(-2, d + 2) for d in shape]  # out-of-range starts are clamped
    idx_kind = g.pick(["int32", "int64"])
    q = qp(g, kind)
    g.note(shape=shape, update=upd, start=start, idx_kind=idx_kind)
    return make_case(g, "DYNAMIC_UPDATE_SLICE", kind, [QT(shape, kind, q), QT(upd, kind, q), T((len(shape),), idx_kind)],
                     [QT(shape, kind, q)], [values(g, kind, shape, q[1] or 0), values(g, kind, upd, q[1] or 0),
                                            np.array(start, DT[idx_kind])], version=2 if idx_kind == "int64" else 1)


def reverse_sequence(g: Gen, kind):
    shape = shape_of(g, 2, 4, 5)
    seq_dim, batch_dim = (int(v) for v in g.rng.choice(len(shape), 2, replace=False))
    len_kind = g.pick(["int32", "int64"])
    lengths = g.rng.integers(0, shape[seq_dim] + 1, shape[batch_dim]).astype(DT[len_kind])
    q = qp(g, kind)
    g.note(shape=shape, seq_dim=seq_dim, batch_dim=batch_dim, lengths=lengths.tolist())
    return make_case(g, "REVERSE_SEQUENCE", kind, [QT(shape, kind, q), T(lengths.shape, len_kind)], [QT(shape, kind, q)],
                     [values(g, kind, shape, q[1] or 0), lengths], {"seq_dim": seq_dim, "batch_dim": batch_dim})


def _segment(op):
    def gen(g: Gen, kind):
        ids_shape = shape_of(g, 1, 2, 4)
        data_shape = tuple(ids_shape) + tuple(shape_of(g, 0, 2, 3))
        n = g.int(1, 6)
        ids = g.rng.integers(0, n, ids_shape).astype(np.int32)
        data = values(g, kind, data_shape, specials=True) if kind == "float32" else values(g, kind, data_shape, lo=-9, hi=9)
        g.note(ids=ids_shape, data=data_shape, n=n)
        return make_case(g, op, kind, [T(data_shape, kind), T(ids_shape, "int32"), T((), "int32", data=np.array(n, np.int32))],
                         [T((n,) + data_shape[len(ids_shape):], kind)], [data, ids])
    return gen


def embedding_lookup(g: Gen, kind):
    rows = g.int(1, 8)
    shape = (rows,) + tuple(shape_of(g, 1, 2, 4))  # TFLite: at least 2-D
    ids = g.rng.integers(0, rows, g.int(1, 6)).astype(np.int32)
    vkind = "int8" if kind in ("int8", "hybrid") else "float32"
    value = values(g, vkind, shape)
    vq, oq, okind, version = (None, None), (None, None), vkind, 1
    if kind == "int8":
        vq = oq = (g.scale(), 0)
    elif kind == "hybrid":
        vq = ([g.scale() for _ in range(rows)], [0] * rows) if g.coin() else (g.scale(), 0)
        okind, version = "float32", 3
    g.note(shape=shape, ids=ids.tolist(), per_row=isinstance(vq[0], list))
    return make_case(g, "EMBEDDING_LOOKUP", kind, [T(ids.shape, "int32"), QT(shape, vkind, vq, data=value)],
                     [QT((ids.size,) + shape[1:], okind, oq)], [ids], version=version)


F = ("float32", "float16")
MOVE = ("float32", "int8", "uint8", "int16", "int32", "int64", "bool")
GENERATORS = {
    "FLOOR": (F, _plain_unary("FLOOR")),
    "CEIL": (("float32",), _plain_unary("CEIL", "default", denormals=False)),
    "ROUND": (F, _plain_unary("ROUND", "default", denormals=False)),
    "SIGN": (("float32", "int32"), _plain_unary("SIGN", version=lambda kind: 2 if kind == "int32" else 1)),
    "SIN": (F, _plain_unary("SIN")),
    "COS": (F, _plain_unary("COS")),
    "LOGICAL_NOT": (("bool",), _plain_unary("LOGICAL_NOT")),
    "POW": (("float32", "int32"), pow_),
    "FLOOR_DIV": (("float32", "int8", "int16", "int32"),
                  _division("FLOOR_DIV", {"float32": 2, "int8": 3, "int16": 3, "int32": 1})),
    "FLOOR_MOD": (("float32", "int8", "int16", "int32", "int64"),
                  _division("FLOOR_MOD", {"float32": 1, "int8": 2, "int16": 2, "int32": 1, "int64": 1})),
    "LOGICAL_AND": (("bool",), _logical("LOGICAL_AND")),
    "LOGICAL_OR": (("bool",), _logical("LOGICAL_OR")),
    "REDUCE_PROD": (("float32", "int8", "int16", "int32", "int64"), _reduce("REDUCE_PROD")),
    "REDUCE_ANY": (("bool",), _reduce("REDUCE_ANY")),
    "REDUCE_ALL": (("bool",), _reduce("REDUCE_ALL")),
    "MIRROR_PAD": (MOVE, mirror_pad),
    "GATHER_ND": (MOVE, gather_nd),
    "SCATTER_ND": (("float32", "int8", "uint8", "int32", "int64", "bool"), scatter_nd),
    "REVERSE_V2": (MOVE, reverse_v2),
    "TOPK_V2": (("float32", "int8", "uint8", "int16", "int32", "int64"), topk_v2),
    "ONE_HOT": (("float32", "int8", "uint8", "int32", "int64", "bool"), one_hot),
    "WHERE": (("bool", "float32", "int8", "uint8", "int32", "int64"), where),
    "RANGE": (("float32", "int32", "int64"), range_),
    "CUMSUM": (("float32", "int32", "int64"), cumsum),
    "SPACE_TO_BATCH_ND": (MOVE, _space_batch("SPACE_TO_BATCH_ND")),
    "BATCH_TO_SPACE_ND": (MOVE, _space_batch("BATCH_TO_SPACE_ND")),
    "RELU_0_TO_1": (("float32", "int8", "uint8"), relu_0_to_1),
    "LOCAL_RESPONSE_NORMALIZATION": (("float32",), lrn),
    "ADD_N": (("float32", "int32"), add_n),
    "ATAN2": (("float32",), atan2),
    "RANK": (("float32", "int8", "uint8", "int16", "bool", "int64"), rank),
    "BROADCAST_ARGS": (("int32", "int64"), broadcast_args),
    "DYNAMIC_UPDATE_SLICE": (("float32", "int8", "int16", "int32", "int64", "bool"), dynamic_update_slice),
    "REVERSE_SEQUENCE": (("float32", "uint8", "int16", "int32", "int64"), reverse_sequence),
    "EMBEDDING_LOOKUP": (("float32", "int8", "hybrid"), embedding_lookup),
    **{op: (("float32", "int32"), _segment(op)) for op in ("UNSORTED_SEGMENT_SUM", "UNSORTED_SEGMENT_PROD",
                                                           "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_MIN")},
}


def lstm(g: Gen, kind):
    """A float or hybrid LSTM with random options and sizes, one invoke (the kernel tests cover
    repeated ones); hybrid: int8 weights, symmetric or asymmetric input quantization."""
    from tests.fuzz.common import Case
    from tests.kernels.newops_oracle import lstm_model

    cfg = {"n_batch": g.int(1, 3), "n_time": g.int(1, 6), "n_input": g.int(1, 5), "n_cell": g.int(1, 5),
           "cifg": g.coin(0.3), "peephole": g.coin(0.3), "projection": g.coin(0.3), "layer_norm": g.coin(0.3),
           "time_major": g.coin(), "activation": g.pick([4, 4, 1, 3, 2]),
           "cell_clip": g.pick([0.0, 0.0, 0.5, 3.0]), "proj_clip": g.pick([0.0, 0.0, 0.3])}
    cfg["n_output"] = g.int(1, 5) if cfg["projection"] else cfg["n_cell"]
    cfg["proj_bias"] = g.coin()
    if kind == "hybrid":
        cfg["hybrid"], cfg["asymmetric"] = True, g.coin()
    g.note(**cfg)
    model = lstm_model(seed=g.int(0, 2**31 - 1), **cfg)
    shape = ((cfg["n_time"], cfg["n_batch"]) if cfg["time_major"] else (cfg["n_batch"], cfg["n_time"])) + (cfg["n_input"],)
    x = g.rng.normal(0, g.pick([0.3, 1.0, 3.0]), shape).astype(np.float32)
    if g.coin(0.2):  # an all-zero step (hybrid: its products are skipped)
        x[(0,) if cfg["time_major"] else (slice(None), 0)] = 0
    return Case("UNIDIRECTIONAL_SEQUENCE_LSTM", kind, g.seed, model, [x], dict(g.cfg), avoid_known=g.avoid_known)


GENERATORS["UNIDIRECTIONAL_SEQUENCE_LSTM"] = (("float32", "hybrid"), lstm)
