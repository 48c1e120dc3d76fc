"""from_torch helpers: convert, run in eightbit and LiteRT, compare with PyTorch itself."""

from __future__ import annotations

import warnings

import numpy as np

from tests.importers.onnx.helpers import assert_close, litert_outputs
from tests.oracle import run_eightbit


def convert(module, example, io_layout="NHWC", dynamic_shapes=None, **settings) -> bytes:
    from eightbit.converter import TFLiteConverter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        conv = TFLiteConverter.from_torch(module, example, dynamic_shapes=dynamic_shapes, io_layout=io_layout)
    for k, v in settings.items():
        setattr(conv, k, v)
    return conv.convert()


def torch_outputs(module, example) -> list:
    import torch

    with torch.no_grad():
        out = module(*example)
    outs = out if isinstance(out, (tuple, list)) else [out]
    return [o.numpy() for o in outs]


def nhwc(x: np.ndarray, wanted_shape) -> np.ndarray:
    """x as the converted model takes it (channel-last when the layout pass moved it)."""
    if tuple(wanted_shape) == x.shape or x.ndim < 3:
        return x
    return np.transpose(x, (0,) + tuple(range(2, x.ndim)) + (1,))


def back(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    if got.shape == want.shape or got.ndim < 3:
        return got
    return np.transpose(got, (0, got.ndim - 1) + tuple(range(1, got.ndim - 1)))


def check_against_torch(module, example, tol=1e-4, litert=True, io_layout="NHWC") -> bytes:
    from eightbit import Interpreter

    example = example if isinstance(example, tuple) else (example,)
    want = torch_outputs(module, example)
    data = convert(module, example, io_layout=io_layout)
    details = Interpreter(model_content=data).get_input_details()
    ins = [nhwc(x.numpy(), d["shape"]) for x, d in zip(example, details)]
    engines = [("eightbit", run_eightbit(data, ins))] + ([("LiteRT", litert_outputs(data, ins))] if litert else [])
    for engine, outs in engines:
        assert len(outs) == len(want), f"{engine}: {len(outs)} outputs, torch {len(want)}"
        for j, (g, w) in enumerate(zip(outs, want)):
            assert_close(back(g, w), w, tol, f"{engine} output {j}")
    return data
