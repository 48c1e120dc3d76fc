"""Random but valid configurations: the generator context, tensors, data, one-op models.

Every generator is a function (g: Gen, kind: str) -> Case, deterministic in g's seed. It notes
its choices with g.note(...), which is how a mismatch is described on one line; the case is
rebuilt from (op, kind, seed) alone.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from eightbit.ops.table import TABLE
from tests.fuzz.known import KNOWN
from tests.oracle import single_op_model

KINDS = ("float32", "int8", "uint8", "int16", "hybrid")
DTYPE = {"float32": np.float32, "hybrid": np.float32, "int8": np.int8, "uint8": np.uint8, "int16": np.int16,
         "int32": np.int32, "int64": np.int64, "bool": np.bool_}
NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT = 0, 1, 2, 3, 4, 5
SAME, VALID = 0, 1

# The newest version LiteRT 2.3.0's BUILTIN_REF resolver registers for each op (probed; the op
# table's `newest`); eightbit's kernels do not depend on the version, LiteRT's only through the
# registration.
MAX_VERSION = {name: spec.newest for name, spec in TABLE.items()}


@dataclass
class Case:
    op: str
    kind: str
    seed: int
    model: bytes
    inputs: list
    cfg: dict
    resolver: str = "ref"  # "ref": BUILTIN_REF; "default": BUILTIN_WITHOUT_DEFAULT_DELEGATES
    exclude: str | None = None  # a known LiteRT bug: run both, skip the comparison
    float_rtol: float = 1e-5
    float_atol: float = 0.0  # extra absolute tolerance (float sums whose terms cancel: 8 ulp of sum |terms|)
    avoid_known: bool = False

    def key(self) -> str:
        return f"{self.op}:{self.kind}:{self.seed}" + (":ci" if self.avoid_known else "")

    def describe(self) -> str:
        parts = []
        for k, v in self.cfg.items():
            parts.append(f"{k}={_fmt(v)}")
        return f"{self.key()} " + " ".join(parts)


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        inner = ",".join(str(_fmt(x)) for x in v)
        return f"({inner})" if isinstance(v, tuple) else f"[{inner}]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{_fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def case_seed(base: int, op: str, kind: str, i: int) -> int:
    """A stable per-case seed (independent of Python's hash randomization)."""
    return zlib.crc32(f"{base}:{op}:{kind}:{i}".encode()) & 0x7FFFFFFF


@dataclass
class Gen:
    seed: int
    avoid_known: bool = False  # steer around the outstanding mismatches listed in known.py
    cfg: dict = field(default_factory=dict)
    specials: bool = False  # fdata may inject inf / -inf / NaN / huge / denormal values

    def __post_init__(self):
        self.rng = np.random.default_rng(self.seed)

    def avoid(self, known_id: str) -> bool:
        """True when this case should stay clear of a known outstanding mismatch (known.KNOWN)."""
        assert known_id in KNOWN, known_id
        return self.avoid_known

    # ---- choices ---------------------------------------------------------------------------
    def note(self, **kw):
        self.cfg.update(kw)

    def pick(self, seq, p=None):
        seq = list(seq)
        return seq[int(self.rng.choice(len(seq), p=p))]

    def int(self, lo: int, hi: int) -> int:
        """Uniform in [lo, hi], both included."""
        return int(self.rng.integers(lo, hi + 1))

    def coin(self, p: float = 0.5) -> bool:
        return bool(self.rng.random() < p)

    def loguniform(self, lo: float, hi: float) -> float:
        return float(np.exp(self.rng.uniform(np.log(lo), np.log(hi))))

    def scale(self, lo: float = 1e-6, hi: float = 1e3) -> float:
        """A quantization scale: mostly ordinary (1e-3 .. 1), sometimes anywhere in [lo, hi]."""
        r = self.rng.random()
        a, b = max(lo, 1e-3), min(hi, 1.0)
        if r < 0.65 and a < b:
            return float(np.float32(self.loguniform(a, b)))
        if r < 0.75:  # a power of two
            return float(2.0 ** self.int(int(np.ceil(np.log2(lo))), int(np.floor(np.log2(hi)))))
        return float(np.float32(self.loguniform(lo, hi)))

    def rel_scale(self, base: float, spread: float = 16.0, lo: float = 1e-6, hi: float = 1e3) -> float:
        """A scale near `base` (within a factor `spread`), sometimes independent of it."""
        if self.coin(0.15):
            return self.scale(lo, hi)
        if self.coin(0.05):  # an extreme ratio: tables and multipliers at their limits
            return float(np.float32(min(max(base * self.pick([1e-6, 1e-4, 1e4, 1e6]), lo), hi)))
        return float(np.float32(min(max(base * self.loguniform(1.0 / spread, spread), lo), hi)))

    def zp(self, kind: str) -> int:
        """A zero point: extremes often; int16 (and int32) zero points are 0."""
        if kind == "int8":
            return self.pick([-128, 127, 0, self.int(-128, 127), self.int(-20, 20)], p=[0.2, 0.2, 0.15, 0.3, 0.15])
        if kind == "uint8":
            return self.pick([0, 255, 128, self.int(0, 255)], p=[0.2, 0.2, 0.2, 0.4])
        return 0

    def dims(self, rank: int, lo: int = 1, hi: int = 5, p1: float = 0.2) -> tuple:
        return tuple(1 if self.coin(p1) else self.int(lo, hi) for _ in range(rank))

    def act(self, allowed=(NONE, RELU, RELU_N1_TO_1, RELU6)) -> int:
        return self.pick(allowed)

    # ---- data ------------------------------------------------------------------------------
    def qdata(self, kind: str, shape, zp: int = 0, lo: int | None = None, hi: int | None = None) -> np.ndarray:
        """Integer data: uniform over the range, clustered at the zero point, or the extremes."""
        dt = np.dtype(DTYPE[kind])
        info = np.iinfo(dt)
        lo = info.min if lo is None else lo
        hi = info.max if hi is None else hi
        shape = tuple(shape)
        mode = self.pick(["uniform", "near_zp", "extremes", "mixed", "constant"], p=[0.43, 0.2, 0.1, 0.22, 0.05])
        if mode == "constant":  # every value the same (the zero point, or an extreme)
            x = np.full(shape, self.pick([min(max(zp, lo), hi), lo, hi]))
        elif mode == "uniform":
            x = self.rng.integers(lo, hi, shape, endpoint=True)
        elif mode == "near_zp":
            x = np.clip(zp + self.rng.integers(-12, 13, shape), lo, hi)
        elif mode == "extremes":
            x = self.rng.choice(np.array([lo, hi, min(max(zp, lo), hi)]), shape)
        else:
            x = self.rng.integers(lo, hi, shape, endpoint=True)
            m = self.rng.random(shape)
            x = np.where(m < 0.15, lo, np.where(m > 0.85, hi, x))
        return np.asarray(x).astype(dt)

    def fdata(self, shape, mag: float | None = None, positive: bool = False) -> np.ndarray:
        """Float data: normal at a random magnitude, with exact zeros, ties and repeats."""
        shape = tuple(shape)
        mag = mag if mag is not None else self.pick([0.01, 0.5, 1.0, 3.0, 10.0, 100.0])
        x = self.rng.standard_normal(shape) * mag
        r = self.rng.random(shape)
        x = np.where(r < 0.05, 0.0, x)
        x = np.where((r > 0.05) & (r < 0.1), np.round(x * 2) / 2, x)  # halves: rounding ties
        if positive:
            x = np.abs(x) + (mag * 1e-3)
        x = x.astype(np.float32)
        if self.specials and x.size and self.coin(0.08):  # inf, -inf, NaN, huge, denormal
            k = self.int(1, max(1, x.size // 4))
            at = self.rng.choice(x.size, k, replace=False)
            vals = np.array([np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-40], np.float32)
            x.reshape(-1)[at] = self.rng.choice(vals, k)
            self.note(float_specials=True)
        return x

    def data(self, kind: str, shape, zp: int = 0, **kw) -> np.ndarray:
        if kind in ("float32", "hybrid"):
            return self.fdata(shape, **kw)
        return self.qdata(kind, shape, zp, **kw)

    # ---- tensors ----------------------------------------------------------------------------
    def qparams(self, kind: str, lo: float = 1e-6, hi: float = 1e3) -> tuple:
        """(scale, zero point) for an activation of this kind; (None, None) for float."""
        if kind in ("float32", "hybrid"):
            return None, None
        return self.scale(lo, hi), self.zp(kind)

    def batch_resize(self, shape, p: float = 0.15):
        """(shape in the file, shape fed): sometimes the file says batch 1 and batch 4 is fed."""
        shape = tuple(shape)
        if len(shape) >= 1 and self.coin(p):
            self.note(resized_batch=4)
            return (1, *shape[1:]), (4, *shape[1:])
        return shape, shape


def T(shape, kind, scale=None, zp=None, data=None, qdim=0, name=None) -> dict:
    """A tensor spec for single_op_model: kind is a kind ("int8") or a dtype name ("int32")."""
    spec = dict(shape=tuple(int(d) for d in shape), dtype=DTYPE.get(kind, kind))
    if scale is not None:
        spec["scale"] = scale
        spec["zero_point"] = zp if zp is not None else (0 if np.ndim(scale) == 0 else [0] * len(scale))
        spec["quantized_dimension"] = qdim
    if data is not None:
        spec["data"] = np.asarray(data)
    if name:
        spec["name"] = name
    return spec


def QT(shape, kind, q, data=None, name=None) -> dict:
    """T with (scale, zp) from g.qparams (None for float)."""
    s, z = q
    return T(shape, kind, s, z, data=data, name=name)


def make_case(g: Gen, op: str, kind: str, inputs, outputs, feeds, options=None, *, resolver="ref",
              exclude=None, float_rtol=1e-5, float_atol=0.0, version=None, options_type=None) -> Case:
    model = single_op_model(op, inputs, outputs, options or {}, version=version or MAX_VERSION[op],
                            options_type=options_type)
    return Case(op, kind, g.seed, model, list(feeds), dict(g.cfg), resolver=resolver, exclude=exclude,
                float_rtol=float_rtol, float_atol=float_atol, avoid_known=g.avoid_known)


def broadcast_pair(g: Gen, max_rank: int = 5, hi: int = 5):
    """Two shapes that broadcast: ranks may differ, size-1 dimensions on either side."""
    rank = g.int(0 if g.coin(0.05) else 1, max_rank)
    out = g.dims(rank, 1, hi, p1=0.15)
    shapes = []
    for _ in range(2):
        r = g.int(0, rank) if g.coin(0.3) else rank
        s = list(out[rank - r:])
        for i in range(len(s)):
            if g.coin(0.25):
                s[i] = 1
        shapes.append(tuple(s))
    # make sure every output dimension is reached by at least one of the two
    a, b = shapes
    full = np.broadcast_shapes(a, b)
    return a, b, tuple(full)


def axis_list(g: Gen, rank: int, allow_empty=False, negative=True, duplicates=False) -> list:
    n = g.int(0 if allow_empty else 1, rank)
    axes = sorted(g.rng.choice(rank, size=n, replace=False).tolist()) if rank else []
    axes = [a - rank if negative and g.coin(0.3) else a for a in axes]
    if duplicates and axes and g.coin(0.2):
        axes.append(axes[0] - rank if axes[0] >= 0 else axes[0] + rank)
    if g.coin(0.5):
        g.rng.shuffle(axes)
    return [int(a) for a in axes]
