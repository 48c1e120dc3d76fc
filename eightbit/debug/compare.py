"""compare_models: where does a quantized model's error come from?

    report = eightbit.debug.compare_models("model_float.tflite", "model_int8.tflite", [x])
    print(report.to_markdown(10))      # outputs, then the 10 worst tensors
    report.worst(3)                    # TensorReport rows, worst layer SQNR first
    report.to_dict()                   # everything, JSON-ready apart from inf/nan floats

Both models run on the same samples in eightbit's interpreter with every intermediate kept.
Each tensor of the quantized model that has a float counterpart (eightbit.debug.matching) gets
two sets of figures:

- against the float model's tensor (`sqnr_db`, `rmse`, ...): the error accumulated from the
  input up to this tensor;
- against its layer reference (`layer_sqnr_db`, `layer_rmse`, ...): the float operator run on
  the quantized model's own (dequantized) inputs, i.e. the error this operator adds by itself,
  as TensorFlow's QuantizationDebugger measures it. A QUANTIZE output's reference is its input,
  a quantized model input's reference is the float input.

The worst layer by `layer_sqnr_db` is where to look first; the accumulated SQNR shows how the
error grows towards the outputs. Definitions of the figures: eightbit.debug.metrics.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from eightbit.debug.activity import Activity
from eightbit.debug.checks import spec_warnings
from eightbit.debug.engine import ModelPair
from eightbit.debug.metrics import ErrorAccumulator, dequantize, is_quantized, representable_range

# keys where smaller is worse (everything else: larger is worse)
_ASCENDING = ("sqnr_db", "layer_sqnr_db")


@dataclass
class TensorReport:
    """One tensor of the quantized model against its float counterpart, over all samples.

    error = dequantized - float. `sqnr_db`..`saturation_pct` compare with the float model's
    tensor; `layer_*` with the float operator run on the quantized inputs (None when the
    operator has no float counterpart)."""

    name: str
    index: int
    op: str  # operator producing it in the quantized model, "(input)" for a model input
    op_index: int | None
    shape: list
    dtype: str
    quantized: bool
    scale: float | list | None  # the quantization step, in float units (a list: per channel)
    zero_point: int | list | None
    float_name: str
    float_index: int
    match: str  # how the float counterpart was found: name, structure, quantize, position, ...
    num_elements: int  # per sample
    samples: int
    sqnr_db: float | None = None
    max_abs_error: float | None = None
    mean_error: float | None = None  # the bias of the error
    rmse: float | None = None
    float_min: float | None = None
    float_max: float | None = None
    rmse_rel_range: float | None = None  # rmse / (float_max - float_min)
    rmse_lsb: float | None = None  # rmse in quantization steps (rmse / scale, per element)
    range_steps: float | None = None  # (float_max - float_min) / scale: how many of the type's steps the values span
    saturated: int | None = None  # values clipped by the integer range (see metrics)
    saturation_pct: float | None = None
    saturation_low_pct: float | None = None  # share clipped at the low end of the integer range
    saturation_high_pct: float | None = None  # ... and at the high end
    quant_min: float | None = None  # the real range the integers represent (per-tensor parameters)
    quant_max: float | None = None
    layer_sqnr_db: float | None = None
    layer_max_abs_error: float | None = None
    layer_mean_error: float | None = None
    layer_rmse: float | None = None
    layer_rmse_lsb: float | None = None
    layer_saturation_pct: float | None = None  # clipped against the layer reference

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class WeightReport:
    """A constant input (weights, bias) of a quantized operator against the float model's."""

    name: str
    index: int
    op: str
    op_index: int
    input: int  # position among the operator's inputs (1 filter/weights, 2 bias for conv/FC)
    shape: list
    dtype: str
    channels: int  # number of scales (1: per tensor)
    float_name: str
    sqnr_db: float | None
    max_abs_error: float | None
    rmse: float | None
    rmse_lsb: float | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class OutputReport:
    """A model output: the quantized model's (dequantized) against the float model's."""

    name: str
    index: int
    float_name: str
    shape: list
    dtype: str
    samples: int
    sqnr_db: float | None
    max_abs_error: float | None
    mean_error: float | None
    rmse: float | None
    top1_agreement: float | None  # % of argmax positions (last axis) agreeing; None for one class
    top1_matches: int | None
    top1_total: int | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ComparisonReport:
    float_model: str
    quant_model: str
    samples: int
    outputs: list = field(default_factory=list)  # OutputReport
    layers: list = field(default_factory=list)  # TensorReport, in graph order
    weights: list = field(default_factory=list)  # WeightReport
    unmatched: list = field(default_factory=list)  # names of quantized activations without a float counterpart
    warnings: list = field(default_factory=list)  # quantization-spec problems of the quantized model (checks.py)
    notes: list = field(default_factory=list)
    # what the cause rules need of the same run (debug/activity.py), when compare_models was
    # asked for it (activity=True); not part of the exported report
    activity: object = field(default=None, repr=False, compare=False)

    # ---- access ----------------------------------------------------------------------------
    def layer(self, name: str) -> TensorReport:
        for r in self.layers:
            if r.name == name:
                return r
        raise KeyError(name)

    def worst(self, n: int = 10, by: str = "layer_sqnr_db") -> list:
        """The n worst tensors by `by` (any numeric TensorReport field: smallest first for SQNR,
        largest first for errors). With the default, rows without a layer figure come last,
        ordered by their accumulated SQNR."""
        names = {f.name for f in fields(TensorReport)}
        if by not in names:
            raise ValueError(f"unknown figure {by!r}; use one of {sorted(names)}")
        asc = by in _ASCENDING

        def key(r):
            v = getattr(r, by)
            missing = v is None or (isinstance(v, float) and math.isnan(v))
            if missing:
                fb = r.sqnr_db if r.sqnr_db is not None else math.inf
                return (1, fb, r.index)
            return (0, v if asc else -v, r.index)

        return sorted(self.layers, key=key)[: max(0, int(n))]

    # ---- export ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "float_model": self.float_model,
            "quant_model": self.quant_model,
            "samples": self.samples,
            "outputs": [o.to_dict() for o in self.outputs],
            "layers": [r.to_dict() for r in self.layers],
            "weights": [w.to_dict() for w in self.weights],
            "unmatched": list(self.unmatched),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }

    def to_json(self, **kw) -> str:
        """Strict JSON: infinite and NaN figures become the strings "inf", "-inf", "nan"."""
        return json.dumps(_json_safe(self.to_dict()), **kw)

    def to_csv(self, file=None) -> str | None:
        """Every tensor row as CSV (TensorReport's fields as columns); returns the text without a file."""
        cols = [f.name for f in fields(TensorReport)]
        buf = file if file is not None else io.StringIO()
        w = csv.DictWriter(buf, cols, lineterminator="\n")
        w.writeheader()
        for r in self.layers:
            w.writerow({k: _csv_value(v) for k, v in r.to_dict().items()})
        return None if file is not None else buf.getvalue()

    def outputs_text(self) -> str:
        lines = []
        for o in self.outputs:
            t = f"{o.name}  {o.dtype}{o.shape}  "
            if o.top1_agreement is not None:
                t += f"top-1 agreement {o.top1_agreement:.2f}% ({o.top1_matches}/{o.top1_total})  "
            t += f"SQNR {_fmt_db(o.sqnr_db)} dB  max abs error {_fmt(o.max_abs_error)}"
            lines.append(t)
        return "\n".join(lines)

    def layers_table(self, rows=None) -> str:
        rows = self.layers if rows is None else rows
        head = ["tensor", "op", "shape", "type", "scale", "zp", "SQNR dB", "layer SQNR dB", "max abs err",
                "mean err", "RMSE", "RMSE/scale", "RMSE/range %", "sat %"]
        body = []
        for r in rows:
            body.append([
                short_name(r.name), r.op, "x".join(str(d) for d in r.shape), r.dtype,
                _fmt_scale(r.scale), _fmt_zp(r.zero_point), _fmt_db(r.sqnr_db), _fmt_db(r.layer_sqnr_db),
                _fmt(r.max_abs_error), _fmt(r.mean_error), _fmt(r.rmse), _fmt(r.rmse_lsb, "{:.2f}"),
                _fmt(None if r.rmse_rel_range is None else 100 * r.rmse_rel_range, "{:.2f}"),
                _fmt(r.saturation_pct, "{:.2f}"),
            ])
        return _markdown_table(head, body)

    def weights_table(self) -> str:
        head = ["weight", "op", "input", "shape", "type", "scales", "SQNR dB", "max abs err", "RMSE", "RMSE/scale"]
        body = [[short_name(w.name), w.op, str(w.input), "x".join(str(d) for d in w.shape), w.dtype,
                 "per-tensor" if w.channels == 1 else f"{w.channels} ch", _fmt_db(w.sqnr_db),
                 _fmt(w.max_abs_error), _fmt(w.rmse), _fmt(w.rmse_lsb, "{:.2f}")] for w in self.weights]
        return _markdown_table(head, body)

    def to_markdown(self, n: int | None = None, by: str = "layer_sqnr_db", weights: bool = True) -> str:
        """Outputs, then the n worst tensors (all of them, in graph order, when n is None), then
        the weights."""
        parts = [f"Float model {self.float_model} vs quantized model {self.quant_model}, {self.samples} samples.", "",
                 "## Outputs", "", self.outputs_text(), ""]
        if n is None:
            parts += [f"## Tensors ({len(self.layers)}, in graph order)", "", self.layers_table()]
        else:
            rows = self.worst(n, by)
            parts += [f"## Worst {len(rows)} of {len(self.layers)} tensors by {by}", "", self.layers_table(rows)]
        if weights and self.weights:
            parts += ["", f"## Weights ({len(self.weights)})", "", self.weights_table()]
        if self.unmatched:
            parts += ["", f"Quantized tensors without a float counterpart: {', '.join(self.unmatched)}"]
        for w in self.warnings:
            parts += ["", f"Warning: {w}"]
        for note in self.notes:
            parts += ["", f"Note: {note}"]
        return "\n".join(parts) + "\n"

    to_text = to_markdown

    def __str__(self) -> str:
        return self.to_markdown(10)


# ---- formatting helpers ---------------------------------------------------------------------------
def short_name(name: str, width: int = 44) -> str:
    """TF's fused names list every folded node after ';': keep the first, and at most `width` chars."""
    first = name.split(";", 1)[0]
    if len(first) > width:
        first = "…" + first[-(width - 1):]
    return first.replace("|", "/")


def _fmt(v, spec: str = "{:.3g}") -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return spec.format(v)


def _fmt_db(v) -> str:
    return _fmt(v, "{:.1f}")


def _fmt_scale(s) -> str:
    if s is None:
        return "-"
    if isinstance(s, list):
        return f"{len(s)} ch"
    return f"{s:.4g}"


def _fmt_zp(z) -> str:
    if z is None:
        return "-"
    if isinstance(z, list):
        return "per-ch"
    return str(z)


def _markdown_table(head, body) -> str:
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(head)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in body]
    return "\n".join(out)


def _json_safe(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


def _csv_value(v):
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    return "" if v is None else v


def quant_params_of(t) -> tuple:
    """(scale, zero_point) for a report: floats/ints per tensor, lists per channel, None unquantized."""
    if not t.quantized:
        return None, None
    q = t.quantization
    if q.scale.size == 1:
        return float(q.scale[0]), int(q.zero_point[0]) if q.zero_point.size else 0
    return [float(s) for s in q.scale], [int(z) for z in q.zero_point]


# ---- the comparison -------------------------------------------------------------------------------
def _sample_list(arrays: list, k: int) -> list:
    return [a[k] for a in arrays]


def _weights(pair: ModelPair) -> list:
    out = []
    fsg, qsg = pair.fsg, pair.qsg
    seen = set()
    for qk, fk in sorted(pair.matching.ops.items()):
        qop, fop = qsg.operators[qk], fsg.operators[fk]
        for pos, (qi, fi) in enumerate(zip(qop.inputs, fop.inputs)):
            if qi < 0 or fi < 0 or qi in seen:
                continue
            qt, ft = qsg.tensors[qi], fsg.tensors[fi]
            if not (qt.is_constant and ft.is_constant) or tuple(qt.shape) != tuple(ft.shape):
                continue
            if qt.type == ft.type and not qt.quantized:
                continue
            qv, fv = qt.data, ft.data
            if qv is None or fv is None:
                continue
            seen.add(qi)
            acc = ErrorAccumulator(qt)
            acc.update(fv.astype(np.float64), qv)
            f = acc.figures()
            out.append(WeightReport(
                name=qt.name, index=qi, op=qop.name, op_index=qk, input=pos, shape=list(qt.shape),
                dtype=qt.dtype.name, channels=int(qt.quantization.scale.size) if qt.quantized else 1,
                float_name=ft.name, sqnr_db=f["sqnr_db"], max_abs_error=f["max_abs_error"], rmse=f["rmse"],
                rmse_lsb=f["rmse_lsb"]))
    return out


def _range_steps(f: dict, scale) -> float | None:
    if not isinstance(scale, float) or scale <= 0 or f["float_min"] is None:
        return None
    return (f["float_max"] - f["float_min"]) / scale


def _argmax_agreement(ref: np.ndarray, got: np.ndarray) -> tuple[int, int] | None:
    if ref.ndim == 0 or ref.shape[-1] < 2:
        return None
    a = np.argmax(ref.reshape(-1, ref.shape[-1]), axis=-1)
    b = np.argmax(got.reshape(-1, got.shape[-1]), axis=-1)
    return int(np.count_nonzero(a == b)), int(a.size)


def compare_models(float_model, quant_model, inputs, layerwise: bool = True, max_samples: int | None = None,
                   progress=None, activity: bool = False) -> ComparisonReport:
    """Run `float_model` and `quant_model` (paths, bytes or eightbit Models) on `inputs` and
    measure, tensor by tensor, how far the quantized model is from the float one.

    inputs: one array per model input with samples on axis 0 (a list in the float model's
    input order, or a dict by input name or `input_<i>`); each sample holds the input's values
    (with or without the batch dimension 1). Float values are quantized for integer inputs of the
    quantized model as TFLite's QUANTIZE does. layerwise=False skips the layer references (the
    float operators run on the quantized inputs), which halves the work. activity=True also
    gathers, in the same run, what eightbit.debug.diagnose and the HTML report need
    (`report.activity`), so they do not run the models a second time.
    """
    pair = ModelPair(float_model, quant_model, layerwise=layerwise)
    act = Activity(pair) if activity else None
    arrays = pair.stack_inputs(inputs)
    n = int(arrays[0].shape[0])
    if max_samples is not None:
        n = min(n, int(max_samples))
    qsg, fsg = pair.qsg, pair.fsg
    acc = {qi: ErrorAccumulator(qsg.tensors[qi]) for qi in pair.rows}
    lacc = {qi: ErrorAccumulator(qsg.tensors[qi]) for qi in pair.rows}
    out_acc = {qi: ErrorAccumulator(qsg.tensors[qi]) for qi in qsg.outputs}
    agree = {qi: [0, 0] for qi in qsg.outputs}
    for k in range(n):
        s = pair.run(_sample_list(arrays, k))
        if act is not None:
            act.add(s)
        for qi in pair.rows:
            fi = pair.matching.float_of(qi)
            acc[qi].update(s.fvals[fi], s.qvals[qi])
            ref = s.layer.get(qi)
            if ref is not None:
                lacc[qi].update(ref, s.qvals[qi])
        for qi in qsg.outputs:
            fi = pair.matching.float_of(qi)
            if fi is None:
                continue
            out_acc[qi].update(s.fvals[fi], s.qvals[qi])
            hit = _argmax_agreement(np.asarray(s.fvals[fi]), dequantize(s.qvals[qi], qsg.tensors[qi]))
            if hit is not None:
                agree[qi][0] += hit[0]
                agree[qi][1] += hit[1]
        if progress is not None:
            progress(k + 1, n)

    report = ComparisonReport(float_model=pair.float_label, quant_model=pair.quant_label, samples=n, activity=act)
    for qi in pair.rows:
        t = qsg.tensors[qi]
        fi = pair.matching.float_of(qi)
        k = pair.q_producers.get(qi)
        scale, zp = quant_params_of(t)
        f = acc[qi].figures()
        lf = lacc[qi].figures() if lacc[qi].samples else {}
        report.layers.append(TensorReport(
            name=t.name, index=qi, op="(input)" if k is None else qsg.operators[k].name, op_index=k,
            shape=[int(d) for d in t.shape], dtype=t.dtype.name, quantized=is_quantized(t), scale=scale,
            zero_point=zp, float_name=fsg.tensors[fi].name, float_index=fi, match=pair.matching.method(qi),
            num_elements=int(np.prod(t.shape, dtype=np.int64)), samples=acc[qi].samples,
            sqnr_db=f["sqnr_db"], max_abs_error=f["max_abs_error"], mean_error=f["mean_error"], rmse=f["rmse"],
            float_min=f["float_min"], float_max=f["float_max"], rmse_rel_range=f["rmse_rel_range"],
            rmse_lsb=f["rmse_lsb"], saturated=f["saturated"], saturation_pct=f["saturation_pct"],
            saturation_low_pct=f["saturation_low_pct"], saturation_high_pct=f["saturation_high_pct"],
            quant_min=(representable_range(t) or (None, None))[0], quant_max=(representable_range(t) or (None, None))[1],
            range_steps=_range_steps(f, scale),
            layer_sqnr_db=lf.get("sqnr_db"), layer_max_abs_error=lf.get("max_abs_error"),
            layer_mean_error=lf.get("mean_error"), layer_rmse=lf.get("rmse"), layer_rmse_lsb=lf.get("rmse_lsb"),
            layer_saturation_pct=lf.get("saturation_pct"),
        ))
    for qi in qsg.outputs:
        t = qsg.tensors[qi]
        fi = pair.matching.float_of(qi)
        if fi is None:
            report.notes.append(f"output {t.name!r} has no float counterpart")
            continue
        f = out_acc[qi].figures()
        m, tot = agree[qi]
        report.outputs.append(OutputReport(
            name=t.name, index=qi, float_name=fsg.tensors[fi].name, shape=[int(d) for d in t.shape],
            dtype=t.dtype.name, samples=out_acc[qi].samples, sqnr_db=f["sqnr_db"], max_abs_error=f["max_abs_error"],
            mean_error=f["mean_error"], rmse=f["rmse"], top1_agreement=(100.0 * m / tot) if tot else None,
            top1_matches=m if tot else None, top1_total=tot if tot else None))
    report.weights = _weights(pair)
    report.unmatched = [qsg.tensors[qi].name for qi in pair.unmatched()]
    report.warnings = spec_warnings(pair.quant_model)
    report.notes.extend(pair.notes)
    return report


__all__ = ["ComparisonReport", "OutputReport", "TensorReport", "WeightReport", "compare_models", "short_name"]
