"""Every file a converter writes is checked the same way: our verifier reads it back and LiteRT's
reference kernels load and run it. `check_written` is that one check; tests/conftest.py applies it
to every TFLiteConverter.convert() any test makes, so no converter test can skip it."""

from __future__ import annotations

import numpy as np

import eightbit
from eightbit.tflite import read_flatbuffer, write_flatbuffer

# LiteRT's BUILTIN_REF resolver registers these at lower versions than TF (and we) write; the
# oracle run relabels them, our output keeps the right version.
_REF_MAX_VERSION = {"DEPTH_TO_SPACE": 1}
_NOT_IN_REF = {"ELU"}  # builtins LiteRT 2.3.0's BUILTIN_REF resolver does not register


def for_reference_resolver(model_bytes: bytes) -> bytes:
    """The model with versions the BUILTIN_REF resolver registers (only for running it there)."""
    from eightbit.schema import OPERATOR_NAMES

    d = read_flatbuffer(model_bytes)
    changed = False
    for code in d.get("operator_codes") or []:
        c = max(code.get("builtin_code") or 0, code.get("deprecated_builtin_code") or 0)
        cap = _REF_MAX_VERSION.get(OPERATOR_NAMES.get(c))
        if cap is not None and (code.get("version") or 1) > cap:
            code["version"] = cap
            changed = True
    return write_flatbuffer(d) if changed else model_bytes


def neutral_inputs(details) -> list:
    out = []
    for d in details:
        shape = [max(int(s), 1) for s in d["shape"]]
        qp = d["quantization_parameters"]
        fill = int(qp["zero_points"][0]) if qp["zero_points"].size else 0
        out.append(np.full(shape, fill, d["dtype"]))
    return out


def check_written(model_bytes: bytes) -> None:
    """Raise AssertionError unless eightbit and LiteRT's reference kernels both read and run it."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    model = eightbit.load(model_bytes)  # the verifier: raises ModelError on a malformed file
    if any(op.op_type == "CUSTOM" for sg in model.subgraphs for op in sg.operators):
        return  # LiteRT has no kernel for a custom op: the verifier is all we can ask
    # LiteRT's BUILTIN_REF resolver lacks a few builtins (ELU): those models run in the default one.
    names = {op.op_type for sg in model.subgraphs for op in sg.operators}
    resolver = (OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if names & _NOT_IN_REF
                else OpResolverType.BUILTIN_REF)
    try:
        it = Interpreter(model_content=for_reference_resolver(model_bytes), experimental_op_resolver_type=resolver)
        it.allocate_tensors()
        for d, x in zip(it.get_input_details(), neutral_inputs(it.get_input_details())):
            if list(d["shape"]) != list(x.shape):
                it.resize_tensor_input(d["index"], list(x.shape))
        it.allocate_tensors()
        for d, x in zip(it.get_input_details(), neutral_inputs(it.get_input_details())):
            it.set_tensor(d["index"], x)
        it.invoke()
    except (RuntimeError, ValueError) as e:
        raise AssertionError(f"LiteRT cannot run the converted model: {e}") from e
