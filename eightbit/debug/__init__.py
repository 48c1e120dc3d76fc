"""Finding where a quantized model loses accuracy.

- compare_models(float_model, quant_model, inputs) -> ComparisonReport: per-tensor error figures
  (SQNR, RMSE, bias, saturation...) against the float model and per layer, plus the outputs'
  top-1 agreement (compare.py).
- QuantizationDebugger / QuantizationDebugOptions: tf.lite.experimental.QuantizationDebugger's
  API and statistics (debugger.py).
- match_models: which quantized tensor stands for which float tensor (matching.py).
- spec_warnings: quantization parameters that break what TFLite's kernels assume (checks.py).
- extract_op_model: cut one operator out into a model of its own (extract.py).
- check_spec: every violation of TFLite's quantization spec, any producer's model (spec.py;
  `eightbit verify`).
- Editor: model surgery (find, read/replace constants and parameters, rename, remove/insert
  ops with rewiring, save re-verified) (surgery.py).
- apply_encodings: parameters from another tool's (AIMET's) encodings file (encodings.py).
- diagnose: the causes of the error (outliers, per-tensor weights, fixed/shared scales, clipped
  or dead channels, saturated biases, misread constants, int16x8 measured), each with its
  numbers and a fix (causes.py).
- sensitivity / suggest_denylist: each operator kept float in turn, measured; the smallest
  denylist reaching a target SQNR (sensitivity.py).
"""

from eightbit.debug.causes import Cause, diagnose
from eightbit.debug.checks import spec_warnings
from eightbit.debug.compare import ComparisonReport, OutputReport, TensorReport, WeightReport, compare_models
from eightbit.debug.debugger import QuantizationDebugger, QuantizationDebugOptions
from eightbit.debug.encodings import apply_encodings, parse_encodings
from eightbit.debug.extract import extract_op_model, op_tensor_map
from eightbit.debug.matching import Matching, match_models
from eightbit.debug.sensitivity import DenylistPlan, Sensitivity, sensitivity, suggest_denylist
from eightbit.debug.spec import Violation, check_spec
from eightbit.debug.surgery import Editor, TensorRef

__all__ = [
    "Cause", "DenylistPlan", "Sensitivity", "diagnose", "sensitivity", "suggest_denylist", "Editor", "TensorRef", "Violation", "apply_encodings", "check_spec", "parse_encodings",
    "ComparisonReport", "Matching", "OutputReport", "QuantizationDebugOptions", "QuantizationDebugger", "TensorReport",
    "WeightReport", "compare_models", "extract_op_model", "match_models", "op_tensor_map", "spec_warnings",
]
