"""Runs a float model and its quantized version side by side, sample by sample.

`ModelPair` loads both models, pairs their tensors (eightbit.debug.matching), and per sample
returns every paired tensor's value in both models plus, for each quantized operator with a float
counterpart, the *layer reference*: the float operator run on the quantized model's dequantized
inputs. The difference between a quantized tensor and its layer reference is the error that
operator adds by itself; the difference to the float model's tensor is the error accumulated
from the input up to it.
"""

from __future__ import annotations

import os

import numpy as np

from eightbit.debug.extract import extract_op_model, op_tensor_map
from eightbit.debug.matching import Matching, match_models
from eightbit.debug.metrics import dequantize, is_quantized, quantize
from eightbit.interpreter import Interpreter
from eightbit.ir import Model, load


def load_model(model) -> tuple[Model, str]:
    """(Model, label) from a path, bytes or a Model."""
    if isinstance(model, Model):
        return model, "<model>"
    if isinstance(model, (bytes, bytearray, memoryview)):
        return load(bytes(model)), "<bytes>"
    if isinstance(model, (str, os.PathLike)):
        return load(os.fspath(model)), os.fspath(model)
    raise TypeError(f"a model is a path, bytes or an eightbit Model, not {type(model).__name__}")


def to_input(value: np.ndarray, tensor, what: str) -> np.ndarray:
    """A float-domain value as the model input `tensor` takes it (quantized when it is integer)."""
    value = np.asarray(value)
    if value.size != int(np.prod(tensor.shape, dtype=np.int64)):
        raise ValueError(f"{what}: a sample has shape {list(value.shape)} ({value.size} values); the model "
                         f"input {tensor.name!r} has shape {list(tensor.shape)}")
    value = value.reshape(tuple(tensor.shape))
    want = tensor.dtype
    if value.dtype == want:
        return value
    if is_quantized(tensor) and value.dtype.kind == "f":
        return quantize(value, tensor)
    if want.kind == "f" and value.dtype.kind in "fiub":
        return value.astype(want)
    if want.kind in "iub" and value.dtype.kind in "iub":
        return value.astype(want)
    if want.kind in "iu" and value.dtype.kind == "f" and np.all(value == np.round(value)):
        return value.astype(want)  # ids given as floats
    raise ValueError(f"{what}: cannot feed {value.dtype} values to input {tensor.name!r} ({want})")


def _quantized_activations(sg) -> int:
    return sum(1 for t in sg.tensors if not t.is_constant and is_quantized(t))


class _LayerOp:
    """One float operator cut out of the float model, fed with the quantized model's values."""

    def __init__(self, float_model: Model, fk: int, qop, fop):
        self.model = extract_op_model(float_model, fk)
        ins, _ = op_tensor_map(float_model, fk)
        sg = self.model.main
        self.feeds = []
        for j, fi in enumerate(ins):
            pos = list(fop.inputs).index(fi)
            if pos >= len(qop.inputs) or qop.inputs[pos] < 0:
                raise ValueError("inputs differ")
            self.feeds.append((sg.inputs[j], qop.inputs[pos]))
        self.outputs = [(lo, qo) for lo, qo in zip(sg.outputs, qop.outputs) if qo >= 0]
        self.interp = Interpreter(model_content=self.model)
        self.interp.allocate_tensors()

    def run(self, qvals: dict, qtensors: list) -> dict:
        sg = self.model.main
        for li, qi in self.feeds:
            v = dequantize(qvals[qi], qtensors[qi]).astype(sg.tensors[li].dtype)
            self.interp.set_tensor(li, v.reshape(tuple(sg.tensors[li].shape)))
        self.interp.invoke()
        return {qo: self.interp.get_tensor(lo) for lo, qo in self.outputs}


class Sample:
    """One sample's values: `fvals` float model (by float tensor index), `qvals` quantized model
    (by quantized tensor index, as stored), `layer` layer references (by quantized tensor index)."""

    def __init__(self, fvals, qvals, layer):
        self.fvals, self.qvals, self.layer = fvals, qvals, layer


def _interface(sg, which: str) -> list:
    return [(sg.tensors[i].name, tuple(int(d) for d in sg.tensors[i].shape)) for i in getattr(sg, which)]


def check_same_interface(fsg, qsg) -> None:
    """A quantized model keeps its float model's input and output shapes: two models that do not
    are unrelated, and a comparison of them would be a report about nothing."""
    for which in ("inputs", "outputs"):
        f, q = _interface(fsg, which), _interface(qsg, which)
        if [s for _, s in f] != [s for _, s in q]:
            raise ValueError(f"the models' {which} do not match: the first has "
                             f"{[f'{n}{list(s)}' for n, s in f]}, the second {[f'{n}{list(s)}' for n, s in q]}; "
                             "compare a float model with its own quantized version")


class ModelPair:
    def __init__(self, float_model, quant_model, layerwise: bool = True):
        self.float_model, self.float_label = load_model(float_model)
        self.quant_model, self.quant_label = load_model(quant_model)
        self.fsg, self.qsg = self.float_model.main, self.quant_model.main
        if _quantized_activations(self.fsg) and not _quantized_activations(self.qsg):
            raise ValueError("the first model has quantized activations and the second has none: give the float "
                             "model first, then the quantized one")
        check_same_interface(self.fsg, self.qsg)
        self.matching: Matching = match_models(self.float_model, self.quant_model)
        self.notes: list = []
        self.fint = Interpreter(model_content=self.float_model, experimental_preserve_all_tensors=True)
        self.qint = Interpreter(model_content=self.quant_model, experimental_preserve_all_tensors=True)
        self.fint.allocate_tensors()
        self.qint.allocate_tensors()
        self.q_producers = self.qsg.producers()
        self.rows = self._rows()
        # which float input feeds each quantized-model input
        self.input_feed = []
        for qi in self.qsg.inputs:
            fi = self.matching.float_of(qi)
            if fi is None or fi not in self.fsg.inputs:
                raise ValueError(f"cannot tell which float-model input feeds the quantized model's input "
                                 f"{self.qsg.tensors[qi].name!r}: the models' inputs differ")
            self.input_feed.append((qi, self.fsg.inputs.index(fi)))
        self.layer_ops: dict = {}
        if layerwise:
            wanted_ops = {self.q_producers[qi] for qi in self.rows if qi in self.q_producers}
            for qk in sorted(wanted_ops):
                fk = self.matching.ops.get(qk)
                if fk is None:
                    continue
                try:
                    self.layer_ops[qk] = _LayerOp(self.float_model, fk, self.qsg.operators[qk], self.fsg.operators[fk])
                except Exception as e:  # noqa: BLE001 - a layer we cannot isolate only loses its layer figures
                    self.notes.append(f"operator {qk} ({self.qsg.operators[qk].name}): no layer reference "
                                      f"({type(e).__name__}: {e})")
        self.q_needed = set(self.rows) | set(self.qsg.outputs)
        for op in self.layer_ops.values():
            self.q_needed.update(qi for _, qi in op.feeds)
        for qi in self.rows:
            k = self.q_producers.get(qi)
            if k is not None and self.qsg.operators[k].op_type == "QUANTIZE":
                self.q_needed.add(self.qsg.operators[k].inputs[0])
        self.f_needed = {self.matching.float_of(qi) for qi in self.q_needed if self.matching.float_of(qi) is not None}

    def _rows(self) -> list:
        """The quantized model's tensors to report: every paired non-constant tensor, except
        float model inputs (fed identically) and DEQUANTIZE outputs (their input is reported)."""
        qsg = self.qsg
        rows = []
        for qi, t in enumerate(qsg.tensors):
            if t.is_constant or qi not in self.matching.tensors:
                continue
            k = self.q_producers.get(qi)
            if k is None:
                if qi not in qsg.inputs or not is_quantized(t):
                    continue
            elif qsg.operators[k].op_type == "DEQUANTIZE" and not qsg.tensors[qsg.operators[k].inputs[0]].is_constant:
                continue
            rows.append(qi)
        order = {qi: (-1 if self.q_producers.get(qi) is None else self.q_producers[qi]) for qi in rows}
        return sorted(rows, key=lambda qi: (order[qi], qi))

    def unmatched(self) -> list:
        """Quantized activations (non-constant) that have no float counterpart."""
        return [qi for qi, t in enumerate(self.qsg.tensors)
                if not t.is_constant and is_quantized(t) and qi not in self.matching.tensors]

    def run(self, float_sample: list) -> Sample:
        fsg, qsg = self.fsg, self.qsg
        if len(float_sample) != len(fsg.inputs):
            raise ValueError(f"{len(float_sample)} input values for a model with {len(fsg.inputs)} inputs")
        fed = []
        for pos, (fi, v) in enumerate(zip(fsg.inputs, float_sample)):
            x = to_input(v, fsg.tensors[fi], f"input {pos} ({fsg.tensors[fi].name!r})")
            self.fint.set_tensor(fi, x)
            fed.append(x)
        self.fint.invoke()
        for qi, pos in self.input_feed:
            self.qint.set_tensor(qi, to_input(fed[pos], qsg.tensors[qi], f"quantized input {qsg.tensors[qi].name!r}"))
        self.qint.invoke()
        fvals = {fi: self.fint.get_tensor(fi) for fi in self.f_needed}
        qvals = {qi: self.qint.get_tensor(qi) for qi in self.q_needed}
        layer = {}
        for qi in self.rows:
            k = self.q_producers.get(qi)
            if k is None:  # a quantized model input: its reference is the float input
                layer[qi] = fvals[self.matching.float_of(qi)].astype(np.float64)
            elif qsg.operators[k].op_type == "QUANTIZE":
                src = qsg.operators[k].inputs[0]
                layer[qi] = dequantize(qvals[src], qsg.tensors[src])
        for qk, op in list(self.layer_ops.items()):
            try:
                layer.update(op.run(qvals, qsg.tensors))
            except Exception as e:  # noqa: BLE001
                self.notes.append(f"operator {qk} ({qsg.operators[qk].name}): layer reference failed "
                                  f"({type(e).__name__}: {e})")
                del self.layer_ops[qk]
        return Sample(fvals, qvals, layer)

    # ---- inputs --------------------------------------------------------------------------
    def input_names(self) -> list:
        return [self.fsg.tensors[i].name for i in self.fsg.inputs]

    def stack_inputs(self, inputs) -> list:
        """Per-input arrays with samples on axis 0 (a list in the float model's input order, a
        dict by input name / `input_<i>` / signature input name, or one array for one input)."""
        fsg = self.fsg
        names = self.input_names()
        if isinstance(inputs, np.ndarray):
            if len(fsg.inputs) != 1:
                raise ValueError(f"one array for a model with {len(fsg.inputs)} inputs {names}: give a list or a dict")
            inputs = [inputs]
        if isinstance(inputs, dict) or hasattr(inputs, "files"):
            keys = list(inputs.files) if hasattr(inputs, "files") else list(inputs)
            sig = {}
            for sd in self.float_model.signature_defs:
                if sd.get("subgraph_index", 0) == 0:
                    sig.update({t["name"]: t["tensor_index"] for t in sd["inputs"]})
            arrays = []
            for pos, fi in enumerate(fsg.inputs):
                aliases = [names[pos], f"input_{pos}"] + [n for n, i in sig.items() if i == fi]
                hit = next((k for k in aliases if k in keys), None)
                if hit is None:
                    raise ValueError(f"no data for model input {names[pos]!r}: give an array named {names[pos]!r} "
                                     f"or 'input_{pos}' (got {sorted(keys)})")
                arrays.append(np.asarray(inputs[hit]))
            unknown = [k for k in keys if not any(k in (names[p], f"input_{p}") for p in range(len(names)))
                       and k not in sig]
            if unknown:
                raise ValueError(f"data names no model input: {unknown}; the inputs are {names}")
        else:
            arrays = [np.asarray(a) for a in inputs]
            if len(arrays) != len(fsg.inputs):
                raise ValueError(f"{len(arrays)} input arrays for a model with {len(fsg.inputs)} inputs {names}")
        counts = {a.shape[0] if a.ndim else 0 for a in arrays}
        if len(counts) != 1 or 0 in counts:
            raise ValueError(f"every input needs the same number (>= 1) of samples on axis 0; got shapes "
                             f"{[list(a.shape) for a in arrays]}")
        for pos, (fi, a) in enumerate(zip(fsg.inputs, arrays)):
            want = int(np.prod(fsg.tensors[fi].shape, dtype=np.int64))
            if a[0].size != want:
                raise ValueError(f"input {names[pos]!r}: samples of shape {list(a.shape[1:])} do not fit the model "
                                 f"input shape {list(fsg.tensors[fi].shape)} (samples go on axis 0)")
        return arrays


__all__ = ["ModelPair", "Sample", "load_model", "to_input"]
