"""`convert`: a trained QAT model -> a fully quantized .tflite with the trained ranges as they are.

In eval mode every quantization point of the prepared model is a `torch.fake_quantize_*` call
with TF's nudged scale and zero point; the PyTorch importer turns those into QUANTIZE /
DEQUANTIZE with exactly those parameters and `fold_qdq` into integer operators. Nothing is
recalibrated: the exported model computes what the eval-mode forward simulated.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import torch

from eightbit.qat.modules import ActQuant
from eightbit.qat.patterns import restore_hard_swish


def convert(qat_model: torch.nn.Module, example_inputs, inference_input_type=None,
            inference_output_type=None, scheme: str | None = None) -> bytes:
    """The .tflite bytes of `qat_model` (from eightbit.qat.prepare), quantized with its trained
    ranges. `inference_input_type` / `inference_output_type`: np.float32 (QUANTIZE / DEQUANTIZE
    at the edges), np.int8 / np.uint8 / np.int16 (the integer tensors themselves), as in
    TFLiteConverter; the default is np.float32, and np.uint8 for scheme "tf1_uint8" (TOCO's legacy
    uint8 model, inputs described by the config's quantized_input_stats).
    `scheme` defaults to the one the model was prepared with. Layers in the config's keep_float
    stay float operators between DEQUANTIZE / QUANTIZE."""
    from eightbit.converter import TFLiteConverter
    from eightbit.importers.torch import import_torch
    from eightbit.passes import fuse_activations

    config = getattr(qat_model, "qat_config", None)
    if config is None:
        raise ValueError("convert takes a model returned by eightbit.qat.prepare")
    scheme = scheme or config.scheme
    if scheme != config.scheme:
        raise ValueError(f"the model was prepared for scheme {config.scheme!r}, not {scheme!r}; "
                         "prepare and convert with the same scheme")
    model = copy.deepcopy(qat_model).eval()
    for name, m in model.named_modules():
        if isinstance(m, ActQuant):
            if not bool(m.initialized):
                raise ValueError(f"quantization point {name!r} never saw data: train the model before converting")
            m.freeze()
    example_inputs = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imported = import_torch(model, example_inputs)
    # TFLite fuses RELU / RELU6 into the producing CONV_2D / FULLY_CONNECTED / ADD: the simulation
    # quantizes only after the activation, so the fusion must happen before the QDQ fold.
    restore_hard_swish(imported.model)
    fuse_activations(imported.model)
    legacy = scheme == "tf1_uint8"
    edge = np.uint8 if legacy else np.float32
    conv = TFLiteConverter.from_imported(imported, legacy_uint8=legacy, keep_float_weights=True)
    conv.inference_input_type = edge if inference_input_type is None else inference_input_type
    conv.inference_output_type = edge if inference_output_type is None else inference_output_type
    if np.dtype(conv.inference_input_type) in (np.uint8, np.int8):
        conv.quantized_input_stats = dict(config.quantized_input_stats) or None
    return conv.convert()
