"""eightbit.TFLiteConverter: tf.lite.TFLiteConverter's API from ONNX, Keras 3 and .tflite models.

    converter = eightbit.TFLiteConverter.from_onnx("model.onnx")          # or from_keras_model(model)
    converter.optimizations = [eightbit.Optimize.DEFAULT]                 # optional: quantize (PTQ)
    converter.representative_dataset = representative_dataset
    tflite_bytes = converter.convert()
    print(converter.summary())                                            # what the import kept/changed

Each `from_*` builds the importer's ImportedGraph (docs/design/importers.md), moves a channel-first
graph to NHWC (passes/layout.py), folds an already quantized graph (QDQ / QOperator) into integer
operators keeping its parameters (quantize/qdq.py), names the `serving_default` signature after
the source's inputs and outputs, then runs the same pipeline as `from_tflite`.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import sys
from dataclasses import dataclass, field, fields

import numpy as np

from eightbit.ir import Model
from eightbit.passes.layout import to_nhwc
from eightbit.quantize import converter as _base
from eightbit.quantize.metadata import set_conversion_metadata
from eightbit.quantize.ptq import Report
from eightbit.quantize.versions import set_min_runtime_version, update_versions

Optimize = _base.Optimize
OpsSet = _base.OpsSet

IO_LAYOUTS = ("NHWC", "keep")


class ImporterUnavailableError(RuntimeError):
    """The importer for a source format is missing (not built yet, or its optional extra absent)."""


@dataclass
class ImportReport(Report):
    """Report plus the importer's notes: what was kept, changed (old -> new parameters), left float."""

    notes: list = field(default_factory=list)


def _importer(module: str, extra: str, hint: str = ""):
    """The importer module, or one clear error naming what to install (or do) instead."""
    try:
        return importlib.import_module(f"eightbit.importers.{module}")
    except ModuleNotFoundError as e:
        if e.name == f"eightbit.importers.{module}":
            raise ImporterUnavailableError(hint or f"the {module} importer is not available") from None
        if e.name and e.name.split(".")[0] == extra:
            raise ImporterUnavailableError(f"importing {module} models needs the '{extra}' package: "
                                           f"pip install 'eightbit[{extra}]'") from None
        raise


def release_freed_memory() -> None:
    """Collect garbage and, on glibc, return freed heap pages to the system: reading a large
    protobuf leaves hundreds of MB of freed-but-kept heap that would add to the writer's peak."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl...): nothing to trim
            pass


def serving_signature(model: Model) -> None:
    """One `serving_default` signature over subgraph 0, named after its input and output tensors."""
    sg = model.main
    model.signature_defs = [{
        "signature_key": "serving_default", "subgraph_index": 0,
        "inputs": [{"name": sg.tensors[i].name, "tensor_index": i} for i in sg.inputs],
        "outputs": [{"name": sg.tensors[i].name, "tensor_index": i} for i in sg.outputs],
    }]


def integer_edges(model: Model, input_type: str, output_type: str) -> Model:
    """For an already quantized model: a copy whose float inputs / outputs become the integer
    tensors behind their QUANTIZE / DEQUANTIZE (TF's inference_input_type / inference_output_type
    on a quantized model), keeping the edge names. The model itself when both types are float32."""
    if input_type == output_type == "FLOAT32":
        return model
    from eightbit.passes.graph import copy_model, prune

    model = copy_model(model)
    sg = model.main
    readers = {}
    for op in sg.operators:
        for t in op.inputs:
            readers.setdefault(t, []).append(op)
    drop = []
    for k, t in enumerate(sg.inputs if input_type != "FLOAT32" else []):
        ops = readers.get(t, [])
        q = ops[0] if len(ops) == 1 and ops[0].op_type == "QUANTIZE" else None
        if q is None or sg.tensors[q.outputs[0]].type != input_type or t in sg.outputs:
            raise ValueError(f"inference_input_type {input_type.lower()}: input {sg.tensors[t].name!r} is not "
                             f"quantized to {input_type.lower()} by the model; keep float32 inputs")
        _take_name(sg, t, q.outputs[0])
        sg.inputs[k] = q.outputs[0]
        drop.append(q)
    producers = {o: op for op in sg.operators for o in op.outputs}
    for k, t in enumerate(sg.outputs if output_type != "FLOAT32" else []):
        dq = producers.get(t)
        if dq is None or dq.op_type != "DEQUANTIZE" or sg.tensors[dq.inputs[0]].type != output_type:
            raise ValueError(f"inference_output_type {output_type.lower()}: output {sg.tensors[t].name!r} is not "
                             f"{output_type.lower()} before its DEQUANTIZE; keep float32 outputs")
        _take_name(sg, t, dq.inputs[0])
        sg.outputs[k] = dq.inputs[0]
        drop.append(dq)
    sg.operators = [op for op in sg.operators if all(op is not d for d in drop)]
    serving_signature(model)
    prune(model)
    return model


def _take_name(sg, old: int, new: int) -> None:
    name = sg.tensors[old].name
    sg.tensors[old].name = name + "/float"
    sg.tensors[new].name = name


def stats_params(mean: float, std: float, type_: str) -> tuple[float, int]:
    """(scale, zero point) of an integer input described by mean / std (real = (q - mean) / std),
    as TOCO derived them: the range [(qmin - mean) / std, (qmax - mean) / std] nudged so that 0
    is exact, i.e. scale 1 / std and the zero point mean rounded half away from zero."""
    if not std > 0:
        raise ValueError(f"quantized_input_stats: std must be > 0, got {std}")
    qmin, qmax = {"UINT8": (0, 255), "INT8": (-128, 127)}[type_]
    zp = int(np.floor(float(mean) + 0.5))
    if not qmin <= zp <= qmax:
        raise ValueError(f"quantized_input_stats: mean {mean} is outside {type_.lower()}'s range {qmin}..{qmax}")
    return float(np.float32(1.0 / std)), zp


def pin_input_stats(data: bytes, stats: dict) -> bytes:
    """Each integer input named in `stats` ({name: (mean, std)}) gets scale 1/std and zero point
    mean; where the model was quantized for other parameters a QUANTIZE after the input
    requantizes (TOCO's --mean_values / --std_dev_values)."""
    from eightbit.ir import QuantParams, load
    from eightbit.passes.graph import add_tensor, new_op

    model = load(data)
    sg = model.main
    names = {sg.tensors[t].name: k for k, t in enumerate(sg.inputs)}
    unknown = sorted(set(stats) - set(names))
    if unknown:
        raise ValueError(f"quantized_input_stats names {unknown}, which are not inputs; the inputs are {sorted(names)}")
    for name, (mean, std) in stats.items():
        k = names[name]
        t = sg.inputs[k]
        tensor = sg.tensors[t]
        if tensor.type not in ("INT8", "UINT8"):
            raise ValueError(f"quantized_input_stats: input {name!r} is {tensor.type}; mean/std describe an integer "
                             "input (set inference_input_type to np.uint8 or np.int8)")
        scale, zp = stats_params(mean, std, tensor.type)
        qp = QuantParams(np.array([scale], np.float32), np.array([zp], np.int64))
        if tensor.quantization == qp:
            continue
        readers = [op for op in sg.operators if t in op.inputs]
        if readers and all(op.op_type == "QUANTIZE" for op in readers):
            tensor.quantization = qp  # the QUANTIZE already after it requantizes
            continue
        new = add_tensor(sg, tensor.name + "/pinned", tensor.shape, tensor.type, qp, like=tensor)
        sg.tensors[new].name, tensor.name = tensor.name, tensor.name + "/requantized"
        sg.operators.insert(0, new_op("QUANTIZE", [new], [t]))
        sg.inputs[k] = new
        for sd in model.signature_defs:
            for e in sd["inputs"]:
                if e["tensor_index"] == t:
                    e["tensor_index"] = new
    update_versions(model)
    set_min_runtime_version(model)
    return model.to_bytes()


class TFLiteConverter(_base.TFLiteConverter):
    """tf.lite.TFLiteConverter without TensorFlow: from_onnx, from_torch, from_keras_model(_file),
    from_tflite; convert() gives a float .tflite, or a quantized one as the attributes choose."""

    def __init__(self, model: Model, import_notes=None, quantized_import: bool = False):
        super().__init__(model)
        self._settled = False  # this class's own attributes, then misspelled ones are errors again
        self.import_notes = list(import_notes or [])  # the importer's lines, also in report.notes
        self.quantized_import = bool(quantized_import)  # the source was already quantized (QDQ, QOperator)
        self.report = ImportReport(notes=list(self.import_notes))
        self.source_input_shapes = {}  # input name -> shape in the source's layout (before to_nhwc)
        # TF1's quantized_input_stats / TOCO's --mean_values --std_dev_values: {input name: (mean, std)}
        # for integer inputs, real = (q - mean) / std
        self.quantized_input_stats = None
        self._settled = True

    # ---- construction ---------------------------------------------------------------------------
    @classmethod
    def from_imported(cls, imported, io_layout: str = "NHWC", **fold_options) -> TFLiteConverter:
        """From an ImportedGraph (what every importer returns); its model is used in place.
        fold_options go to quantize.qdq.fold_qdq for a quantized import (legacy_uint8: keep uint8
        activations and asymmetric uint8 weights, TOCO's legacy model; keep_float_weights: ops
        whose weights the source left float stay float)."""
        if io_layout not in IO_LAYOUTS:
            raise ValueError(f"io_layout must be one of {IO_LAYOUTS}, got {io_layout!r}")
        model = imported.model
        notes = list(imported.notes)
        sg = model.main
        source_shapes = {sg.tensors[i].name: tuple(sg.tensors[i].shape) for i in sg.inputs}
        if imported.layout == "NCHW":
            inserted = to_nhwc(model, io_layout=io_layout)
            if inserted:
                notes.append(f"layout: NCHW -> NHWC with {inserted} TRANSPOSE operator(s) where the layout changes")
        if imported.quantized:
            from eightbit.quantize.qdq import fold_qdq

            notes.extend(fold_qdq(model, **fold_options))
        serving_signature(model)
        conv = cls(model, notes, imported.quantized)
        conv.source_input_shapes = source_shapes
        return conv

    @classmethod
    def from_onnx(cls, model, input_shapes=None, io_layout: str = "NHWC") -> TFLiteConverter:
        """From an ONNX model: a path, bytes or onnx.ModelProto (opsets 11-21). input_shapes:
        {input name: shape} for dynamic dimensions. io_layout="NHWC" gives image inputs and outputs
        in TFLite's NHWC; "keep" keeps ONNX's layouts at the model's edges."""
        if io_layout not in IO_LAYOUTS:
            raise ValueError(f"io_layout must be one of {IO_LAYOUTS}, got {io_layout!r}")
        onnx_importer = _importer("onnx", "onnx")
        imported = onnx_importer.import_onnx(model, input_shapes=input_shapes)
        release_freed_memory()  # the parsed protobuf and its numpy copies are gone: give their pages back
        return cls.from_imported(imported, io_layout)

    @classmethod
    def from_torch(cls, module, example_inputs, dynamic_shapes=None, io_layout: str = "NHWC") -> TFLiteConverter:
        """From a torch.nn.Module and example inputs (a tuple of tensors)."""
        if io_layout not in IO_LAYOUTS:
            raise ValueError(f"io_layout must be one of {IO_LAYOUTS}, got {io_layout!r}")
        torch_importer = _importer("torch", "torch", "PyTorch import is not available yet; export to ONNX with "
                                   "torch.onnx.export and use TFLiteConverter.from_onnx")
        imported = torch_importer.import_torch(module, example_inputs, dynamic_shapes=dynamic_shapes)
        return cls.from_imported(imported, io_layout)

    @classmethod
    def from_keras_model(cls, model) -> TFLiteConverter:
        """From a Keras 3 Sequential or Functional model (any backend; no TensorFlow)."""
        return cls.from_imported(_importer("keras", "keras").import_keras(model))

    @classmethod
    def from_keras_model_file(cls, path) -> TFLiteConverter:
        """From a .keras file or a legacy .h5 file that Keras 3 loads."""
        return cls.from_imported(_importer("keras", "keras").import_keras_file(path))

    @classmethod
    def from_saved_model(cls, *_a, **_k):
        raise ImporterUnavailableError("TensorFlow SavedModels need TensorFlow to read; export the model from Keras "
                                       "(from_keras_model / a .keras file) or to ONNX (from_onnx) instead")

    from_concrete_functions = from_saved_model

    # ---- conversion --------------------------------------------------------------------------
    def convert(self) -> bytes:
        """The .tflite bytes. A quantized import converts quantized without `optimizations`;
        `self.report` (an ImportReport) lists what the import and the quantizer did."""
        saved, saved_model = self.optimizations, self._model
        saved_io = (self.inference_input_type, self.inference_output_type)
        if self.quantized_import:
            self.optimizations = set()  # already integer: the given parameters are kept, not recalibrated
            self._model = integer_edges(saved_model, *(_base.type_name(t) for t in saved_io))
            self.inference_input_type = self.inference_output_type = np.float32
        try:
            if self.mode() == "float32":
                # the base pipeline versions only what it quantized; TF versions every model it writes
                update_versions(self._model)
                set_min_runtime_version(self._model)
                set_conversion_metadata(self._model, None)
            data = super().convert()
        finally:
            self.optimizations, self._model = saved, saved_model
            self.inference_input_type, self.inference_output_type = saved_io
        base = self.report
        self.report = ImportReport(**{f.name: getattr(base, f.name) for f in fields(Report)},
                                   notes=list(self.import_notes))
        if self.quantized_input_stats:
            data = pin_input_stats(data, self.quantized_input_stats)
        if self.quantized_import and saved:
            self.report.warn("the model was already quantized: optimizations were ignored and its own "
                             "quantization parameters kept")
        return data

    def summary(self) -> str:
        """The import notes and the conversion report, one line each."""
        rep = self.report
        lines = [f"mode: {rep.mode or 'not converted yet'}"]
        if rep.quantized_ops:
            lines.append("quantized operators: " + ", ".join(f"{k} x{v}" for k, v in sorted(rep.quantized_ops.items())))
        floats = sorted({f"{name} ({why})" for _, name, why in rep.float_ops
                         if why != "already a (de)quantization operator"})
        if floats:
            lines.append("kept in float: " + ", ".join(floats))
        lines += [f"import: {n}" for n in self.import_notes]
        lines += [f"warning: {w}" for w in rep.warnings]
        return "\n".join(lines)


__all__ = ["ImportReport", "ImporterUnavailableError", "Optimize", "OpsSet", "TFLiteConverter", "serving_signature"]
