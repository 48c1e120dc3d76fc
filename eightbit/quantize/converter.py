"""eightbit.TFLiteConverter: tf.lite.TFLiteConverter's post-training quantization, from a .tflite.

    converter = eightbit.TFLiteConverter.from_tflite("model_float.tflite")
    converter.optimizations = [eightbit.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset   # callable -> iterable of samples
    converter.target_spec.supported_ops = [eightbit.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = np.int8
    converter.inference_output_type = np.int8
    tflite_bytes = converter.convert()

The attributes, their defaults and the way they choose the mode are TensorFlow's
(lite.py QuantizationMode): DEFAULT without data is dynamic range, with `supported_types` =
[float16] it is float16, with data it is full integer (int8, or int16 activations with
EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8); TFLITE_BUILTINS in supported_ops
allows float fallback. Additions: calibration_method, percentile, per_channel, denylist,
bias_overflow, dynamic_range_min_elements, graph_passes, progress, calibration_threads (threads
while calibrating: -1, every CPU, by default; the quantized model is the same for any count).

Models with several subgraphs: the operators IF, WHILE and CALL_ONCE run are calibrated and
quantized too, values crossing IF / WHILE as integers keep one set of parameters on both sides;
resource variables stay float unless `_experimental_variable_quantization = True` (TF's private
switch, as streaming wake-word models are converted), which stores them as integers.
"""

from __future__ import annotations

import enum
import logging

import numpy as np

from eightbit.ir import Model, load
from eightbit.passes import optimize
from eightbit.passes.fold_weights import fold_stored_weights
from eightbit.passes.graph import copy_model, prune
from eightbit.passes.shared_constants import share_identical_buffers, split_shared_constants
from eightbit.quantize.calibration import METHODS, calibrate, ranges
from eightbit.quantize.denylist import check_denylist
from eightbit.quantize.metadata import set_conversion_metadata
from eightbit.quantize.notices import float16_losses, merge_repeated
from eightbit.quantize.ptq import QuantizationError, Report, quantize_full_integer
from eightbit.quantize.versions import set_min_runtime_version, update_versions
from eightbit.quantize.weights import quantize_dynamic_range, quantize_float16

log = logging.getLogger("eightbit.quantize")


class Optimize(enum.Enum):
    """tf.lite.Optimize: DEFAULT quantizes weights, and activations given representative data."""

    DEFAULT = "DEFAULT"
    OPTIMIZE_FOR_SIZE = "OPTIMIZE_FOR_SIZE"  # deprecated in TF: same as DEFAULT
    OPTIMIZE_FOR_LATENCY = "OPTIMIZE_FOR_LATENCY"  # deprecated in TF: same as DEFAULT

    def __str__(self):
        return self.value


class OpsSet(enum.Enum):
    """tf.lite.OpsSet."""

    TFLITE_BUILTINS = "TFLITE_BUILTINS"
    SELECT_TF_OPS = "SELECT_TF_OPS"
    TFLITE_BUILTINS_INT8 = "TFLITE_BUILTINS_INT8"
    EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 = "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"

    def __str__(self):
        return self.value


class TargetSpec:
    """tf.lite.TargetSpec: supported_ops (default {TFLITE_BUILTINS}) and supported_types."""

    def __init__(self, supported_ops=None, supported_types=None):
        self.supported_ops = {OpsSet.TFLITE_BUILTINS} if supported_ops is None else supported_ops
        self.supported_types = set() if supported_types is None else supported_types


class RepresentativeDataset:
    """tf.lite.RepresentativeDataset: wraps a callable returning an iterable of samples."""

    def __init__(self, input_gen):
        self.input_gen = input_gen


_TYPE_NAMES = {"float32": "FLOAT32", "float16": "FLOAT16", "int8": "INT8", "uint8": "UINT8", "int16": "INT16",
               "int32": "INT32", "int64": "INT64", "bfloat16": "BFLOAT16", "float64": "FLOAT64"}
_SIZES = {"FLOAT32": 4, "FLOAT16": 2, "BFLOAT16": 2, "INT8": 1, "UINT8": 1, "INT16": 2, "INT32": 4, "INT64": 8,
          "FLOAT64": 8}


def type_name(t) -> str:
    """A dtype given as numpy type, numpy dtype, string, or an object with `as_numpy_dtype`
    (a tf.dtypes.DType) as a TFLite type name."""
    if t is None:
        return "FLOAT32"
    if hasattr(t, "as_numpy_dtype"):
        t = t.as_numpy_dtype
    if isinstance(t, str):
        key = t.lower().replace("tf.", "").replace("np.", "")
    else:
        try:
            key = np.dtype(t).name
        except TypeError:
            raise ValueError(f"not a data type: {t!r}") from None
    if key not in _TYPE_NAMES:
        raise ValueError(f"unsupported data type {t!r}")
    return _TYPE_NAMES[key]


def _ops_set(x) -> OpsSet:
    if isinstance(x, OpsSet):
        return x
    name = getattr(x, "name", None) or str(x).split(".")[-1]
    try:
        return OpsSet[name]
    except KeyError:
        raise ValueError(f"unknown OpsSet {x!r}; use one of {[o.name for o in OpsSet]}") from None


def _optimization(x) -> Optimize:
    if isinstance(x, Optimize):
        return x
    name = getattr(x, "name", None) or str(x).split(".")[-1]
    try:
        return Optimize[name]
    except KeyError:
        raise ValueError(f"unknown optimization {x!r}; use eightbit.Optimize.DEFAULT") from None


class TFLiteConverter:
    """Post-training quantization of a float .tflite model, with tf.lite.TFLiteConverter's API."""

    def __init__(self, model: Model):
        self._model = model
        # tf.lite.TFLiteConverter's attributes, same defaults
        self.optimizations = set()
        self.representative_dataset = None
        self.target_spec = TargetSpec()
        self.inference_input_type = np.float32
        self.inference_output_type = np.float32
        self.allow_custom_ops = False
        self.experimental_new_converter = True
        self.experimental_new_quantizer = True
        # eightbit's additions
        self.calibration_method = "minmax"
        self.percentile = 99.99
        self.per_channel = True
        self.denylist = []
        self.bias_overflow = "widen_weight_scale"
        self.dynamic_range_min_elements = 1024
        self.graph_passes = True
        # TF's private switch (its QuantizeVariablesPass): resource variables hold integers in full-integer modes
        self._experimental_variable_quantization = False
        self.progress = None  # None: a progress bar when stderr is a terminal (and tqdm is installed)
        # Every CPU: the model's bytes do not depend on it (calibration_parallel.py), and a
        # converter is expected to use the machine (TF's calibrating interpreter keeps its default).
        self.calibration_threads = -1
        self.report = Report()
        self._settled = True  # from here on a misspelled attribute is an error (__setattr__)

    # tf.lite.TFLiteConverter attributes that eightbit accepts and ignores (scripts written for TF set them)
    _TF_ONLY = frozenset({
        "post_training_quantize", "inference_type", "experimental_enable_resource_variables",
        "exclude_conversion_metadata", "unfold_batchmatmul", "experimental_lower_tensor_list_ops",
        "legalize_custom_tensor_list_ops", "experimental_new_dynamic_range_quantizer",
        "experimental_enable_mlir_sparsify", "experimental_use_buffer_offset", "saved_model_dir",
    })

    def __setattr__(self, name, value):
        if getattr(self, "_settled", False) and not name.startswith("_") and name not in self.__dict__ \
                and name not in self._TF_ONLY and not hasattr(type(self), name):
            valid = sorted(k for k in self.__dict__ if not k.startswith("_"))
            raise AttributeError(f"TFLiteConverter has no option {name!r}; its options are {valid}")
        object.__setattr__(self, name, value)

    # ---- construction ---------------------------------------------------------------------------
    @classmethod
    def from_tflite(cls, path_or_bytes) -> TFLiteConverter:
        """From a .tflite file path or its bytes."""
        return cls(load(path_or_bytes))

    @classmethod
    def from_model(cls, model: Model) -> TFLiteConverter:
        """From an eightbit Model (it is copied; the original is never modified)."""
        if not isinstance(model, Model):
            raise TypeError(f"from_model expects an eightbit.Model, got {type(model).__name__}")
        return cls(model)

    @classmethod
    def from_saved_model(cls, *_a, **_k):
        raise NotImplementedError("eightbit works without TensorFlow: convert the SavedModel to a float .tflite "
                                  "first, then use TFLiteConverter.from_tflite")

    from_keras_model = from_saved_model
    from_concrete_functions = from_saved_model

    # ---- mode choice (TensorFlow's QuantizationMode) ------------------------------------------
    def _settings(self):
        opts = {_optimization(o) for o in (self.optimizations or ())}
        ops = {_ops_set(o) for o in (self.target_spec.supported_ops or ())}
        types = {type_name(t) for t in (self.target_spec.supported_types or ())}
        return opts, ops, types

    def mode(self) -> str:
        """'float32', 'dynamic_range', 'float16', 'int8' or 'int16x8', chosen as TF chooses."""
        opts, ops, types = self._settings()
        enabled = bool(opts)
        data = self.representative_dataset is not None
        int8_required = OpsSet.TFLITE_BUILTINS_INT8 in ops or types == {"INT8"}
        int16x8 = OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 in ops
        allow_float = bool(ops & {OpsSet.TFLITE_BUILTINS, OpsSet.SELECT_TF_OPS})
        smallest = min((_SIZES.get(t, 4) for t in types), default=1)
        if int8_required:
            if ops == {OpsSet.TFLITE_BUILTINS_INT8} and types not in (set(), {"INT8"}):
                raise ValueError("As full integer quantization has been enabled by setting "
                                 "`target_spec.supported_ops`={OpsSet.TFLITE_BUILTINS_INT8}, thus "
                                 "`target_spec.supported_types` should be left uninitialized or set to {int8}.")
            if types == {"INT8"}:
                ops = {OpsSet.TFLITE_BUILTINS_INT8}
                allow_float = False
            if not data:
                raise ValueError("For full integer quantization, a `representative_dataset` must be specified.")
        if enabled and data and not int16x8 and not allow_float and int8_required:
            return "int8"
        if enabled and data and not int16x8 and allow_float and smallest == 1:
            return "int8"
        if enabled and data and int16x8:
            return "int16x8"
        if enabled and not data and smallest == 1:
            return "dynamic_range"
        if enabled and smallest == 2 and "FLOAT16" in types:
            return "float16"
        return "float32"

    def _allow_float(self) -> bool:
        _, ops, types = self._settings()
        if types == {"INT8"}:
            return False
        return bool(ops & {OpsSet.TFLITE_BUILTINS, OpsSet.SELECT_TF_OPS})

    def _io_types(self, mode: str):
        it, ot = type_name(self.inference_input_type), type_name(self.inference_output_type)
        if mode in ("int8", "int16x8"):
            allowed = ["FLOAT32", "INT16"] if mode == "int16x8" else ["FLOAT32", "INT8", "UINT8", "INT16"]
            if it not in allowed or ot not in allowed:
                raise ValueError("The inference_input_type and inference_output_type must be in "
                                 f"{['tf.' + a.lower() for a in allowed]}.")
        elif it != "FLOAT32" or ot != "FLOAT32":
            raise ValueError("The inference_input_type and inference_output_type must be tf.float32.")
        return it, ot

    # ---- conversion --------------------------------------------------------------------------
    def convert(self) -> bytes:
        """The converted model as .tflite bytes (TF's convert()). `self.report` tells what was done."""
        mode = self.mode()
        it, ot = self._io_types(mode)
        if self.calibration_method not in METHODS:
            raise ValueError(f"calibration_method must be one of {', '.join(METHODS)}; got {self.calibration_method!r}")
        check_denylist(self._model, self.denylist)
        model = copy_model(self._model)
        report = Report(mode=mode)
        self.report = report
        folded = fold_stored_weights(model) if mode != "float32" else 0  # float16/sparse weights
        if self.graph_passes:
            report.passes = optimize(model)
        report.passes["fold_stored_weights"] = folded
        if mode in ("int8", "int16x8"):
            report.passes["split_shared_constants"] = split_shared_constants(model)
        if mode == "dynamic_range":
            quantize_dynamic_range(model, min_elements=int(self.dynamic_range_min_elements),
                                   per_channel=self.per_channel, denylist=self.denylist, report=report)
            if not report.quantized_weights:
                report.warn(f"no weight tensor of a hybrid-capable operator has >= {self.dynamic_range_min_elements} "
                            "elements: " + ("stored weights were only expanded to float32" if folded else
                                            "the model is unchanged") + " (as TensorFlow leaves it)")
        elif mode == "float16":
            report.warnings.extend(filter(None, [float16_losses(model)]))
            quantize_float16(model, denylist=self.denylist, report=report)
        elif mode in ("int8", "int16x8"):
            dataset = self.representative_dataset
            if isinstance(dataset, RepresentativeDataset) or hasattr(dataset, "input_gen"):
                dataset = dataset.input_gen
            observers = calibrate(model, dataset, self.calibration_method, self.percentile, self.progress,
                                  threads=self.calibration_threads, called_subgraphs=True)
            quantize_full_integer(
                model, ranges(observers), activation_type="INT16" if mode == "int16x8" else "INT8",
                per_channel=self.per_channel, input_type=it, output_type=ot, allow_float=self._allow_float(),
                denylist=self.denylist, bias_overflow=self.bias_overflow, report=report,
                variables=bool(self._experimental_variable_quantization))
        report.warnings[:] = merge_repeated(report.warnings)
        for w in report.warnings:
            log.warning(w)
        for i in range(len(model.subgraphs)):
            prune(model, i)
        share_identical_buffers(model)
        if mode != "float32":
            update_versions(model)
            set_min_runtime_version(model)
            set_conversion_metadata(model, mode)
        return model.to_bytes()


__all__ = ["Optimize", "OpsSet", "QuantizationError", "RepresentativeDataset", "TFLiteConverter", "TargetSpec"]
