"""Why a quantized model lost accuracy: rules that name a cause, its numbers and a fix.

    causes = eightbit.debug.diagnose("float.tflite", "int8.tflite", samples)
    for c in causes: print(c)

Each rule looks for one known failure of TFLite-style quantization, states the numbers that
triggered it and a fix, and where it is cheap measures what the fix gains (what-if
quantization of the values actually seen, or a real re-conversion for int16x8):

- bias_saturated      int32 bias values clamped at +-(2^31 - 1)
- per_tensor_weights  per-tensor weights whose output channels have very different ranges
- outlier_range       an activation range stretched by rare outliers (percentile calibration)
- fixed_scale         LOGISTIC / SOFTMAX / TANH... output using few steps of its fixed grid
- shared_scale        an input of a shared-scale op (CONCATENATION...) using few steps of the
                      range it is forced to share
- dead_channels       output channels always 0
- saturated_channels  channels clipped at the ends of the integer range
- constant_misread    a constant stored under other parameters than the op reads it with
- int16x8             16-bit activations would raise the output SQNR (re-converted and measured)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eightbit.debug.activity import Activity, collect
from eightbit.debug.metrics import dequantize, is_quantized
from eightbit.debug.spec import shared_scale_inputs
from eightbit.ir import QuantParams, Tensor
from eightbit.kernels.registry import get_spec
from eightbit.quantize import params as P

INT32_MAX = (1 << 31) - 1
POOR_SQNR_DB = 30.0  # below this output SQNR the int16x8 alternative is measured and offered


@dataclass
class Cause:
    rule: str
    op_index: int | None
    op: str | None
    tensor: str | None
    message: str
    fix: str
    evidence: dict = field(default_factory=dict)
    gain_db: float | None = None  # measured gain of the fix (SQNR, dB), when measured

    def __str__(self) -> str:
        where = f"op {self.op_index} {self.op}" if self.op_index is not None else "model"
        gain = f" (measured gain {self.gain_db:+.1f} dB)" if self.gain_db is not None else ""
        return f"[{self.rule}] {where}: {self.message}. Fix: {self.fix}{gain}"


def _name(t) -> str:
    return t.name.split(";")[0]


def _sqnr(ref: np.ndarray, got: np.ndarray) -> float:
    noise = float(np.sum((ref - got) ** 2))
    signal = float(np.sum(ref ** 2))
    if noise == 0:
        return float("inf")
    return 10.0 * np.log10(signal / noise) if signal > 0 else float("-inf")


def _fake(values: np.ndarray, t: Tensor, qp: QuantParams) -> np.ndarray:
    probe = Tensor(t.name, (values.size,), t.type, quantization=qp)
    scale, zp = float(qp.scale[0]), float(qp.zero_point[0])
    info = np.iinfo(probe.dtype)
    q = np.clip(np.sign(values / scale) * np.floor(np.abs(values / scale) + 0.5) + zp, info.min, info.max)
    return dequantize(q.astype(probe.dtype), probe)


# ---- rules on constants ---------------------------------------------------------------------------
def bias_saturated(act: Activity) -> list[Cause]:
    out, sg = [], act.pair.qsg
    for k, op in enumerate(sg.operators):
        spec = get_spec(op.op_type)
        if spec is None or spec.bias_input is None or spec.bias_input >= len(op.inputs):
            continue
        b = op.inputs[spec.bias_input]
        t = sg.tensors[b] if b >= 0 else None
        if t is None or t.type != "INT32" or t.data is None:
            continue
        hit = int(np.count_nonzero(np.abs(t.data.astype(np.int64)) >= INT32_MAX))
        if hit:
            out.append(Cause("bias_saturated", k, op.name, t.name,
                             f"{hit} of {t.data.size} int32 bias values sit at the int32 limit: the bias "
                             f"{_name(t)!r} does not fit at input scale x weight scale",
                             "widen the weight scale so the bias fits (converter.bias_overflow="
                             "'widen_weight_scale', eightbit's default) or calibrate a wider input range",
                             {"saturated": hit, "total": int(t.data.size)}))
    return out


def per_tensor_weights(act: Activity) -> list[Cause]:
    out, pair = [], act.pair
    for qk, fk in sorted(pair.matching.ops.items()):
        op = pair.qsg.operators[qk]
        spec = get_spec(op.op_type)
        if spec is None or spec.weight_channel_axis is None or not spec.weight_inputs:
            continue
        pos = spec.weight_inputs[0]
        qw = pair.qsg.tensors[op.inputs[pos]]
        fop = pair.fsg.operators[fk]
        if not is_quantized(qw) or qw.quantization.scale.size != 1 or qw.data is None or pos >= len(fop.inputs):
            continue
        fw = pair.fsg.tensors[fop.inputs[pos]].data
        if fw is None or fw.shape != qw.data.shape or fw.dtype.kind != "f":
            continue
        axis = spec.weight_channel_axis
        w = fw.astype(np.float64)
        ch = np.moveaxis(np.abs(w), axis, 0).reshape(w.shape[axis], -1).max(axis=1)
        live = ch[ch > 0]
        if live.size < 2 or live.max() / live.min() < 8:
            continue
        scale = np.where(ch > 0, ch / 127.0, 1.0).reshape([-1 if d == axis else 1 for d in range(w.ndim)])
        per_channel = np.clip(np.sign(w / scale) * np.floor(np.abs(w / scale) + 0.5), -127, 127) * scale
        now, then = _sqnr(w, dequantize(qw.data, qw)), _sqnr(w, per_channel)
        if then - now < 6:
            continue
        out.append(Cause("per_tensor_weights", qk, op.name, qw.name,
                         f"weights {_name(qw)!r} share one scale, but their output channels' ranges differ "
                         f"{live.max() / live.min():.0f}x (max |w| {live.min():.3g}..{live.max():.3g}); weight SQNR "
                         f"{now:.1f} dB per tensor, {then:.1f} dB per channel",
                         "quantize weights per channel (converter.per_channel = True, TF's default)",
                         {"channel_ratio": float(live.max() / live.min()), "sqnr_now": now, "sqnr_per_channel": then},
                         then - now))
    return out


def constant_misread(act: Activity) -> list[Cause]:
    out, sg = [], act.pair.qsg
    for k, op in enumerate(sg.operators):
        spec = get_spec(op.op_type)
        if spec is None or not spec.same_scale or not op.outputs:
            continue
        o = sg.tensors[op.outputs[0]]
        if not is_quantized(o) or o.quantization.scale.size != 1:
            continue
        for p in shared_scale_inputs(spec, op):
            c = sg.tensors[op.inputs[p]]
            if not c.is_constant or not is_quantized(c) or c.quantization == o.quantization:
                continue
            real = dequantize(c.data, c)
            read = dequantize(c.data, o)
            err = float(np.max(np.abs(real - read))) if real.size else 0.0
            if err <= float(o.quantization.scale[0]) / 2:
                continue
            out.append(Cause("constant_misread", k, op.name, c.name,
                             f"constant input {p} {_name(c)!r} is stored with scale/zp "
                             f"{float(c.quantization.scale[0]):.4g}/{int(c.quantization.zero_point[0])} but {op.name} "
                             f"reads it with the output's {float(o.quantization.scale[0]):.4g}/"
                             f"{int(o.quantization.zero_point[0])}: e.g. {float(real.flat[0]):.4g} is read as "
                             f"{float(read.flat[0]):.4g} (max error {err:.4g})",
                             "give each consumer its own quantized copy of the constant, stored with the "
                             "parameters that consumer reads it with",
                             {"max_error": err}))
    return out


# ---- rules on activations -------------------------------------------------------------------------
def outlier_range(act: Activity, percentile: float = 99.99) -> list[Cause]:
    out, pair = [], act.pair
    for qi, ta in act.tensors.items():
        t = ta.tensor
        k = pair.q_producers.get(qi)
        if k is None or not is_quantized(t) or t.type not in ("INT8", "UINT8") or ta.sample.size < 100:
            continue
        op = pair.qsg.operators[k]
        spec = get_spec(op.op_type)
        if spec is not None and (spec.fixed_output or spec.same_scale):
            continue  # the range is not this tensor's to choose
        # percentiles from the subsample, the true extremes from the running min/max (a rare
        # outlier may not be in the subsample)
        vmin, vmax = float(ta.ch_min.min()), float(ta.ch_max.max())
        lo, hi = np.percentile(ta.sample, [100 - percentile, percentile])
        full = vmax - vmin
        if full <= 0 or (hi - lo) <= 0 or full < 4 * (hi - lo):
            continue
        proposed = P.activation_params(float(lo), float(hi), t.type)
        qp = QuantParams(proposed.scale, proposed.zero_point)
        # judged on the typical values (inside the percentile range): what the resolution buys
        v = ta.sample[(ta.sample >= lo) & (ta.sample <= hi)]
        now, then = _sqnr(v, _fake(v, t, t.quantization)), _sqnr(v, _fake(v, t, qp))
        if then - now < 3:
            continue
        out.append(Cause("outlier_range", k, op.name, t.name,
                         f"{_name(t)!r} spans [{vmin:.4g}, {vmax:.4g}] but {percentile}% of its values lie in "
                         f"[{lo:.4g}, {hi:.4g}]: the outliers stretch the range {full / (hi - lo):.0f}x; on those "
                         f"values SQNR is {now:.1f} dB with this range, {then:.1f} dB with the percentile range "
                         "(which clips the outliers)",
                         "calibrate with converter.calibration_method = 'percentile' (or 'mse')",
                         {"min": vmin, "max": vmax, "p_lo": float(lo), "p_hi": float(hi),
                          "sqnr_now": now, "sqnr_percentile": then}, then - now))
    return out


def _steps(lo: float, hi: float, t: Tensor) -> float:
    return (hi - lo) / float(t.quantization.scale[0])


def fixed_and_shared_scale(act: Activity, few: float = 16.0, few_shared: float = 64.0) -> list[Cause]:
    out, pair = [], act.pair
    ranges = {qi: (float(ta.ch_min.min()), float(ta.ch_max.max())) for qi, ta in act.tensors.items()
              if ta.ch_min is not None}
    for k, op in enumerate(pair.qsg.operators):
        spec = get_spec(op.op_type)
        if spec is None or not op.outputs or op.outputs[0] not in ranges:
            continue
        o = pair.qsg.tensors[op.outputs[0]]
        if not is_quantized(o) or o.quantization.scale.size != 1 or o.type not in ("INT8", "UINT8"):
            continue
        if spec.fixed_output and o.type in spec.fixed_output:
            steps = _steps(*ranges[op.outputs[0]], o)
            if steps < few:
                out.append(Cause("fixed_scale", k, op.name, o.name,
                                 f"{op.name}'s output scale is fixed at {float(o.quantization.scale[0]):.4g}, and its "
                                 f"values use only {steps:.1f} of the 256 steps",
                                 f"16-bit activations (int16x8) or keep this {op.name} float (converter.denylist)",
                                 {"steps": steps}))
        if spec.same_scale and len(op.inputs) > 1:
            for p, i in enumerate(op.inputs):
                if i in ranges and not pair.qsg.tensors[i].is_constant:
                    steps = _steps(*ranges[i], o)
                    if steps < few_shared:  # fewer than 6 of the 8 bits
                        out.append(Cause("shared_scale", k, op.name, pair.qsg.tensors[i].name,
                                         f"input {p} {_name(pair.qsg.tensors[i])!r} must share {op.name}'s output "
                                         f"range and uses only {steps:.1f} of its 256 steps",
                                         "rescale that branch before the op (e.g. a learned scale) or use int16x8",
                                         {"steps": steps, "input": p}))
    return out


def channel_health(act: Activity, clipped_share: float = 0.1) -> list[Cause]:
    out, pair = [], act.pair
    for qi, ta in act.tensors.items():
        k = pair.q_producers.get(qi)
        t = ta.tensor
        if k is None or ta.ch_min is None or len(t.shape) < 2 or t.shape[-1] < 2:
            continue
        op = pair.qsg.operators[k]
        if op.op_type not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"):
            continue
        dead = np.flatnonzero((ta.ch_max == 0) & (ta.ch_min == 0))
        if dead.size:
            out.append(Cause("dead_channels", k, op.name, t.name,
                             f"{dead.size} of {t.shape[-1]} output channels of {_name(t)!r} are always 0 "
                             f"(channels {dead[:8].tolist()}{'...' if dead.size > 8 else ''})",
                             "nothing is lost to quantization there; prune those channels to save compute",
                             {"dead": dead.tolist()}))
        if ta.at_ends is not None and ta.per_channel_count:
            share = ta.at_ends / ta.per_channel_count
            bad = np.flatnonzero(share >= clipped_share)
            if bad.size:
                out.append(Cause("saturated_channels", k, op.name, t.name,
                                 f"{bad.size} of {t.shape[-1]} channels of {_name(t)!r} are clipped: >= "
                                 f"{100 * clipped_share:.0f}% of their float values lie outside the quantized range "
                                 f"(worst {100 * float(share.max()):.0f}%)",
                                 "calibrate on data that covers the real input range (more or more varied "
                                 "representative samples)",
                                 {"channels": bad.tolist(), "worst_share": float(share.max())}))
    return out


RULES = (bias_saturated, per_tensor_weights, constant_misread, outlier_range, fixed_and_shared_scale, channel_health)


def int16x8_gain(float_model, samples: list, now_db: float | None) -> Cause | None:
    """Re-convert the float model with int16 activations on the same samples and measure."""
    from eightbit.quantize.converter import OpsSet, Optimize, TFLiteConverter

    conv = TFLiteConverter.from_model(act_model(float_model))
    conv.optimizations = [Optimize.DEFAULT]
    conv.representative_dataset = lambda: iter(samples[:100])
    conv.target_spec.supported_ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                                      OpsSet.TFLITE_BUILTINS]
    conv.progress = False
    q16 = conv.convert()
    then = collect(float_model, q16, samples).output_sqnr()
    if now_db is None or then is None or now_db >= POOR_SQNR_DB or then - now_db < 6:
        return None
    return Cause("int16x8", None, None, None,
                 f"the outputs' SQNR is {now_db:.1f} dB with 8-bit activations and {then:.1f} dB with 16-bit ones "
                 "(re-converted on the same samples)",
                 "convert with OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8", {"sqnr_int16x8": then},
                 then - now_db)


def act_model(model):
    from eightbit.debug.engine import load_model

    return load_model(model)[0]


def diagnose(float_model, quant_model, samples: list, measure: bool = True, progress=None,
             activity: Activity | None = None) -> list[Cause]:
    """Every cause found, worst measured gain first. `samples`: a list of per-input lists of
    float arrays (as for the converter's representative dataset). With measure=True the fixes
    that need a re-conversion (int16x8) are measured too. `activity`: what `collect` already
    gathered for these models and samples (it is collected otherwise)."""
    samples = [list(s) if isinstance(s, (list, tuple)) else [s] for s in samples]
    act = activity if activity is not None else collect(float_model, quant_model, samples, progress)
    found = [c for rule in RULES for c in rule(act)]
    if measure and act.pair.qsg.tensors[act.pair.qsg.inputs[0]].type != "INT16":
        quant16 = any(t.type == "INT16" and is_quantized(t) for t in act.pair.qsg.tensors)
        if not quant16:
            c = int16x8_gain(float_model, samples, act.output_sqnr())
            if c is not None:
                found.append(c)
    return sorted(found, key=lambda c: -(c.gain_db or 0.0))


__all__ = ["Cause", "RULES", "diagnose"]
