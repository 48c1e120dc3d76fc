"""The float model a published int8 model was quantized from, as near as its file tells: every
quantized activation becomes float32, weights and biases are dequantized, QUANTIZE operators go.

Used to run our PTQ on a real streaming model (okay_nabu, converted by TF with
`_experimental_variable_quantization`) and compare what we write with what TF wrote."""

from __future__ import annotations

import numpy as np

from eightbit.ir import Model
from eightbit.passes.graph import prune

_QUANTIZED = ("INT8", "UINT8", "INT16")


def _real(t) -> np.ndarray:
    """A quantized constant's real values (per channel on its quantized dimension)."""
    q = t.quantization
    data = t.data.astype(np.float64)
    shape = [1] * data.ndim
    if q.scale.size > 1:
        shape[q.quantized_dimension] = -1
    scale, zp = q.scale.reshape(shape), q.zero_point.reshape(shape)
    return ((data - zp) * scale).astype(np.float32)


def floatify(model: Model) -> Model:
    """`model` (a copy is edited in place and returned) with its quantization undone."""
    for s, sg in enumerate(model.subgraphs):
        for t in sg.tensors:
            if not t.quantized:
                continue
            if t.is_constant and (t.type in _QUANTIZED or t.type == "INT32"):
                t.set_data(_real(t))
                t.quantization = None
            elif not t.is_constant and t.type in _QUANTIZED:
                t.type, t.quantization = "FLOAT32", None
        keep = []
        for op in sg.operators:
            if op.op_type in ("QUANTIZE", "DEQUANTIZE"):
                src, dst = op.inputs[0], op.outputs[0]
                for other in sg.operators:
                    other.outputs = [dst if o == src else o for o in other.outputs]
                    other.inputs = [dst if i == src else i for i in other.inputs]
                continue
            keep.append(op)
        sg.operators = keep
        prune(model, s)
    return model
