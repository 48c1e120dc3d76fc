"""Which operators cost the most accuracy: keep each in float in turn, and measure.

    rows = eightbit.debug.sensitivity(float_model, make_converter, samples)
    plan = eightbit.debug.suggest_denylist(float_model, make_converter, samples, target_sqnr=40)
    print(plan.converter_call)

`make_converter(model_bytes)` returns a configured eightbit.TFLiteConverter (mode, calibration
data, I/O types), so every variant is converted exactly as the user's model was, and only the
denylist changes. Each operator is named by its output tensor (an exact, glob-escaped pattern
in the denylist), so one CONV_2D of many can stay float.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field

from eightbit.debug.activity import collect
from eightbit.debug.engine import load_model
from eightbit.passes import copy_model, optimize


@dataclass
class Sensitivity:
    op_index: int  # in the float model after the converter's graph passes
    op: str
    output: str  # the operator's output tensor (its denylist entry, unescaped)
    sqnr_db: float  # output SQNR with this operator kept float
    gain_db: float  # over the fully quantized model

    def __str__(self) -> str:
        return f"op {self.op_index} {self.op} {self.output.split(';')[0]!r}: {self.sqnr_db:.1f} dB ({self.gain_db:+.1f})"


@dataclass
class DenylistPlan:
    baseline_db: float
    target_db: float
    reached_db: float
    denylist: list = field(default_factory=list)  # glob-escaped output names
    ops: list = field(default_factory=list)  # Sensitivity rows, in the order they were added

    @property
    def reached(self) -> bool:
        return self.reached_db >= self.target_db

    @property
    def converter_call(self) -> str:
        return f"converter.denylist = {self.denylist!r}"


def candidates(float_model) -> list[tuple[int, str, str]]:
    """(op index, op type, output name) of every operator the converter would see."""
    model = copy_model(load_model(float_model)[0])
    optimize(model)
    sg = model.main
    out = []
    for k, op in enumerate(sg.operators):
        if op.outputs and op.outputs[0] >= 0 and sg.tensors[op.outputs[0]].type == "FLOAT32":
            out.append((k, op.name, sg.tensors[op.outputs[0]].name))
    return out


def _score(float_model, make_converter, samples, denylist) -> float:
    conv = make_converter(float_model)
    conv.denylist = list(denylist)
    conv.progress = False
    sqnr = collect(float_model, conv.convert(), samples).output_sqnr()
    return float("-inf") if sqnr is None else sqnr


def sensitivity(float_model, make_converter, samples: list, ops=None, progress=None) -> list[Sensitivity]:
    """Output SQNR with each operator (or each of `ops`, from `candidates`) kept float, best first."""
    data = float_model if isinstance(float_model, bytes) else load_model(float_model)[0].to_bytes()
    samples = [list(s) if isinstance(s, (list, tuple)) else [s] for s in samples]
    base = _score(data, make_converter, samples, [])
    rows = []
    todo = list(ops if ops is not None else candidates(data))
    for n, (k, op, name) in enumerate(todo):
        s = _score(data, make_converter, samples, [glob.escape(name)])
        rows.append(Sensitivity(k, op, name, s, s - base))
        if progress is not None:
            progress(n + 1, len(todo))
    return sorted(rows, key=lambda r: -r.gain_db)


def suggest_denylist(float_model, make_converter, samples: list, target_sqnr: float, max_ops: int = 8,
                     progress=None) -> DenylistPlan:
    """The smallest denylist (greedy, most sensitive operator first) whose output SQNR reaches
    `target_sqnr` dB, or the best found with at most `max_ops` operators kept float."""
    data = float_model if isinstance(float_model, bytes) else load_model(float_model)[0].to_bytes()
    samples = [list(s) if isinstance(s, (list, tuple)) else [s] for s in samples]
    base = _score(data, make_converter, samples, [])
    plan = DenylistPlan(base, float(target_sqnr), base)
    if base >= target_sqnr:
        return plan
    ranked = [r for r in sensitivity(data, make_converter, samples, progress=progress) if r.gain_db > 0]
    for row in ranked[:max_ops]:
        plan.denylist.append(glob.escape(row.output))
        plan.ops.append(row)
        plan.reached_db = _score(data, make_converter, samples, plan.denylist)
        if plan.reached:
            break
    return plan


__all__ = ["DenylistPlan", "Sensitivity", "candidates", "sensitivity", "suggest_denylist"]
