"""`eightbit compare ... --html OUT`: one self-contained HTML file (no network, inline SVG).

Sections: the models and outputs; the causes found (eightbit.debug.causes); SQNR along the graph
(accumulated and per layer); the graph, nodes coloured by the error their layer adds; for the
worst layers, the histogram of the float values with the quantization grid and the clip points;
the per-tensor table, sortable by any column.
"""

from __future__ import annotations

import html
import math

import numpy as np

from eightbit.debug.compare import ComparisonReport, short_name

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f4f4f4;cursor:pointer;user-select:none}td:first-child,th:first-child{text-align:left}
.cause{margin:6px 0;padding:6px 10px;border-left:4px solid #c33;background:#fff6f6}
.cause .fix{color:#155}.muted{color:#777}svg text{font:11px sans-serif}
"""

_JS = """
(function(){
  var table=document.getElementById('tensors');
  if(!table){return;}
  var heads=table.querySelectorAll('th');
  heads.forEach(function(th,col){
    th.addEventListener('click',function(){
      var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
      var asc=th.getAttribute('data-asc')!=='1';th.setAttribute('data-asc',asc?'1':'0');
      rows.sort(function(a,b){
        var x=a.cells[col].getAttribute('data-v')||a.cells[col].textContent;
        var y=b.cells[col].getAttribute('data-v')||b.cells[col].textContent;
        var nx=parseFloat(x),ny=parseFloat(y);
        var r=(!isNaN(nx)&&!isNaN(ny))?nx-ny:(x<y?-1:x>y?1:0);return asc?r:-r;});
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  document.body.setAttribute('data-ready','1');
})();
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _num(v, spec="{:.2f}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return spec.format(v)


def _sort_value(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-1e308"
    if isinstance(v, float) and math.isinf(v):
        return "1e308" if v > 0 else "-1e308"
    return str(v)


def _colour(db, lo: float, hi: float) -> str:
    """Red (this model's worst layer SQNR, `lo`) to green (`hi` and lossless layers); grey when unknown."""
    if db is None or (isinstance(db, float) and math.isnan(db)):
        return "#bbbbbb"
    t = min(max((float(db) - lo) / max(hi - lo, 1e-9), 0.0), 1.0) if math.isfinite(db) else 1.0
    return f"#{int(200 * (1 - t)) + 40:02x}{int(160 * t) + 50:02x}50"


# ---- sections ---------------------------------------------------------------------------------------
def _summary(report: ComparisonReport) -> str:
    rows = "".join(
        f"<tr><td>{_e(short_name(o.name))}</td><td>{_e(o.dtype)}{_e(o.shape)}</td><td>{_num(o.sqnr_db, '{:.1f}')}</td>"
        f"<td>{_num(o.top1_agreement)}</td><td>{_num(o.max_abs_error, '{:.3g}')}</td></tr>" for o in report.outputs)
    return (f"<p>Float model <b>{_e(report.float_model)}</b> against quantized model <b>{_e(report.quant_model)}</b>, "
            f"{report.samples} samples, {len(report.layers)} tensors compared.</p>"
            "<table><thead><tr><th>output</th><th>type</th><th>SQNR dB</th><th>top-1 agreement %</th>"
            f"<th>max abs error</th></tr></thead><tbody>{rows}</tbody></table>")


def _causes(causes) -> str:
    if not causes:
        return "<p class='muted'>No known cause of quantization error was found.</p>"
    return "".join(f"<div class='cause'><b>{_e(c.rule)}</b> {_e(c.op or 'model')} "
                   f"{'' if c.op_index is None else '#' + str(c.op_index)}: {_e(c.message)}."
                   f"<br><span class='fix'>Fix: {_e(c.fix)}"
                   f"{'' if c.gain_db is None else f' (measured gain {c.gain_db:+.1f} dB)'}</span></div>"
                   for c in causes)


def _sqnr_chart(report: ComparisonReport, width=1100, height=220) -> str:
    layers = report.layers
    if not layers:
        return ""
    vals = [v for r in layers for v in (r.sqnr_db, r.layer_sqnr_db) if v is not None and math.isfinite(v)]
    top = max(vals + [10.0]) * 1.1
    step = (width - 60) / max(len(layers) - 1, 1)

    def pts(attr):
        out = []
        for i, r in enumerate(layers):
            v = getattr(r, attr)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            v = top if math.isinf(v) else max(v, 0.0)
            out.append(f"{50 + i * step:.1f},{height - 30 - (height - 50) * v / top:.1f}")
        return " ".join(out)

    axis = "".join(f"<text x='5' y='{height - 30 - (height - 50) * t / top + 4:.0f}'>{t:.0f}</text>"
                   f"<line x1='45' x2='{width}' y1='{height - 30 - (height - 50) * t / top:.0f}' "
                   f"y2='{height - 30 - (height - 50) * t / top:.0f}' stroke='#eee'/>"
                   for t in np.linspace(0, top, 5))
    return (f"<svg id='sqnr-chart' width='{width}' height='{height}' role='img'>{axis}"
            f"<polyline fill='none' stroke='#36c' stroke-width='2' points='{pts('sqnr_db')}'/>"
            f"<polyline fill='none' stroke='#c63' stroke-width='2' stroke-dasharray='4 3' "
            f"points='{pts('layer_sqnr_db')}'/>"
            f"<text x='60' y='14' fill='#36c'>accumulated SQNR (dB)</text>"
            f"<text x='260' y='14' fill='#c63'>layer SQNR (dB)</text>"
            f"<text x='{width / 2:.0f}' y='{height - 8}'>tensors in graph order</text></svg>")


def _graph(quant_model, report: ComparisonReport, width=1100) -> str:
    sg = quant_model.main
    db_of = {r.op_index: r.layer_sqnr_db for r in report.layers if r.op_index is not None}
    finite = [v for v in db_of.values() if v is not None and math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 40.0)
    producer = sg.producers()
    depth = {}
    for k, op in enumerate(sg.operators):
        ins = [depth[producer[i]] + 1 for i in op.inputs if i >= 0 and i in producer and producer[i] in depth]
        depth[k] = max(ins, default=0)
    columns: dict = {}
    for k, d in depth.items():
        columns.setdefault(d, []).append(k)
    box_w, box_h, gap_x, gap_y = 120, 26, 40, 14
    n_cols = len(columns)
    scale = min(1.0, width / max(n_cols * (box_w + gap_x), 1))
    pos = {k: (20 + d * (box_w + gap_x), 20 + r * (box_h + gap_y)) for d, ks in columns.items()
           for r, k in enumerate(ks)}
    height = 40 + max(len(ks) for ks in columns.values()) * (box_h + gap_y) if columns else 60
    edges, nodes = [], []
    for k, op in enumerate(sg.operators):
        x, y = pos[k]
        for i in op.inputs:
            if i >= 0 and i in producer:
                px, py = pos[producer[i]]
                edges.append(f"<line x1='{px + box_w}' y1='{py + box_h / 2}' x2='{x}' y2='{y + box_h / 2}' "
                             "stroke='#999'/>")
        db = db_of.get(k)
        tip = f"op {k} {op.name}: layer SQNR {_num(db, '{:.1f}')} dB"
        nodes.append(f"<g class='node' data-op='{k}'><title>{_e(tip)}</title><rect x='{x}' y='{y}' width='{box_w}' "
                     f"height='{box_h}' rx='4' fill='{_colour(db, lo, hi)}'/><text x='{x + 6}' y='{y + 17}' fill='#fff'>"
                     f"{_e(op.name[:16])}</text></g>")
    total_w = 40 + n_cols * (box_w + gap_x)
    return (f"<svg id='graph' width='{total_w * scale:.0f}' height='{height * scale:.0f}' "
            f"viewBox='0 0 {total_w} {height}' role='img'>{''.join(edges)}{''.join(nodes)}</svg>")


def _histogram(name: str, values: np.ndarray, tensor, width=520, height=160, bins=60) -> str:
    if values.size == 0:
        return ""
    q = tensor.quantization
    lo, hi = float(values.min()), float(values.max())
    clip = None
    if tensor.quantized and q.scale.size == 1 and tensor.dtype.kind in "iu":
        info = np.iinfo(tensor.dtype)
        s, z = float(q.scale[0]), int(q.zero_point[0])
        clip = ((info.min - z) * s, (info.max - z) * s)
        lo, hi = min(lo, clip[0]), max(hi, clip[1])
    if hi <= lo:
        hi = lo + 1.0
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    peak = max(int(counts.max()), 1)
    x = lambda v: 10 + (width - 20) * (v - lo) / (hi - lo)  # noqa: E731
    bars = "".join(f"<rect x='{x(edges[i]):.1f}' y='{height - 20 - (height - 40) * c / peak:.1f}' "
                   f"width='{max(x(edges[i + 1]) - x(edges[i]) - 1, 0.5):.1f}' "
                   f"height='{(height - 40) * c / peak:.1f}' fill='#69c'/>" for i, c in enumerate(counts) if c)
    marks = ""
    if clip is not None:
        steps = (clip[1] - clip[0]) / float(q.scale[0])
        if steps <= 64:  # the grid itself is visible: draw every step
            marks += "".join(f"<line x1='{x(v):.1f}' x2='{x(v):.1f}' y1='20' y2='{height - 20}' stroke='#ddd'/>"
                             for v in np.arange(clip[0], clip[1] + 1e-12, float(q.scale[0])))
        marks += "".join(f"<line class='clip' x1='{x(v):.1f}' x2='{x(v):.1f}' y1='12' y2='{height - 20}' "
                         f"stroke='#c33' stroke-width='2'/>" for v in clip)
    return (f"<figure><svg class='hist' width='{width}' height='{height}' role='img'>{marks}{bars}"
            f"<text x='10' y='{height - 5}'>{lo:.3g}</text><text x='{width - 60}' y='{height - 5}'>{hi:.3g}</text>"
            f"</svg><figcaption>{_e(short_name(name, 80))}: float values, quantization grid, clip points "
            "(red)</figcaption></figure>")


def _tensor_table(report: ComparisonReport) -> str:
    cols = [("tensor", "name"), ("op", "op"), ("type", "dtype"), ("scale", "scale"), ("SQNR dB", "sqnr_db"),
            ("layer SQNR dB", "layer_sqnr_db"), ("max abs err", "max_abs_error"), ("RMSE/scale", "rmse_lsb"),
            ("clipped low %", "saturation_low_pct"), ("clipped high %", "saturation_high_pct"),
            ("float min", "float_min"), ("float max", "float_max"), ("quantized min", "quant_min"),
            ("quantized max", "quant_max")]
    head = "".join(f"<th>{_e(c)}</th>" for c, _ in cols)
    body = []
    for r in report.layers:
        cells = []
        for _, attr in cols:
            v = getattr(r, attr)
            if attr == "name":
                cells.append(f"<td title='{_e(v)}'>{_e(short_name(v))}</td>")
            elif isinstance(v, (int, float)) or v is None:
                cells.append(f"<td data-v='{_sort_value(v)}'>{_num(v, '{:.4g}')}</td>")
            elif isinstance(v, list):
                cells.append(f"<td>{len(v)} ch</td>")
            else:
                cells.append(f"<td>{_e(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table id='tensors'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(report: ComparisonReport, quant_model, causes=(), activity=None, worst: int = 4) -> str:
    """The whole report as one HTML document. `activity` (eightbit.debug.activity) supplies the
    float values for the histograms of the `worst` layers."""
    hists = ""
    if activity is not None:
        for r in report.worst(worst):
            ta = activity.tensors.get(r.index)
            if ta is not None:
                hists += _histogram(r.name, ta.sample, ta.tensor)
    sections = [
        ("Models and outputs", _summary(report)),
        ("Causes", _causes(causes)),
        ("SQNR along the graph", _sqnr_chart(report)),
        ("Graph (colour: the error each layer adds, from red = this model's worst layer SQNR to green)",
         _graph(quant_model, report)),
        ("Worst layers: float values against the quantization grid", hists or "<p class='muted'>-</p>"),
        ("Tensors (click a column to sort)", _tensor_table(report)),
    ]
    anchors = ("summary", "causes", "sqnr", "graph-section", "worst", "tensor-table")
    body = "".join(f"<h2 id='{a}'>{_e(title)}</h2>{content}" for a, (title, content) in zip(anchors, sections))
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>eightbit quantization report</title>"
            f"<style>{_CSS}</style></head><body><h1>eightbit quantization report</h1>{body}"
            f"<script>{_JS}</script></body></html>")


def html_report(float_model, quant_model, samples: list, measure: bool = True, progress=None) -> str:
    """Compare, diagnose and render in one go (samples: per-input lists of float arrays)."""
    from eightbit.debug.causes import diagnose
    from eightbit.debug.compare import compare_models
    from eightbit.debug.engine import load_model

    samples = [list(s) if isinstance(s, (list, tuple)) else [s] for s in samples]
    stacked = [np.stack([np.asarray(s[i]) for s in samples]) for i in range(len(samples[0]))]
    report = compare_models(float_model, quant_model, stacked, progress=progress, activity=True)
    act = report.activity
    causes = diagnose(float_model, quant_model, samples, measure=measure, activity=act)
    return render(report, load_model(quant_model)[0], causes, act)


__all__ = ["html_report", "render"]
