"""Custom operators: kernels a user registers for a CUSTOM op's `custom_code`.

    eightbit.register_custom_op("MyOp", MyKernel)

`MyKernel` follows the builtin kernel contract (kernels/base.py): `prepare(op: OpContext) ->
params` once per allocation (op.custom_options holds the op's raw custom_options bytes, often a
FlexBuffer), and `eval(params, *inputs) -> array or tuple` per invoke, returning arrays of the
output tensors' dtypes. `types` (optional) lists what it runs, for `eightbit ops`.

eightbit ships MediaPipe's Convolution2DTransposeBias (kernels/mediapipe.py) and TFLite's own
TFLite_Detection_PostProcess (kernels/detection_postprocess.py), registered here.
"""

from __future__ import annotations

from eightbit.kernels import detection_postprocess, mediapipe

_BUILTIN_CUSTOM = {
    # custom_code -> kernel class shipped with eightbit
    "Convolution2DTransposeBias": mediapipe.Convolution2DTransposeBias,
    "TFLite_Detection_PostProcess": detection_postprocess.DetectionPostProcess,  # LiteRT registers it too
}
_REGISTERED: dict = {}


def register_custom_op(name: str, kernel, replace: bool = False) -> None:
    """Run CUSTOM operators whose custom_code is `name` with `kernel` (prepare/eval, see above)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"custom op name must be a non-empty string, got {name!r}")
    missing = [m for m in ("prepare", "eval") if not callable(getattr(kernel, m, None))]
    if missing:
        raise TypeError(f"custom op {name!r}: the kernel has no callable {' or '.join(missing)}; it needs "
                        "prepare(op) -> params and eval(params, *inputs) -> outputs")
    if (name in _REGISTERED or name in _BUILTIN_CUSTOM) and not replace:
        raise ValueError(f"custom op {name!r} is already registered; pass replace=True to override it")
    _REGISTERED[name] = kernel


def unregister_custom_op(name: str) -> None:
    _REGISTERED.pop(name, None)


def get_custom_kernel(name: str):
    """The kernel registered for a custom_code, or None."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    return _BUILTIN_CUSTOM.get(name)


def custom_ops() -> dict:
    """custom_code -> kernel for every custom op eightbit can run (shipped and registered)."""
    out = {name: get_custom_kernel(name) for name in _BUILTIN_CUSTOM}
    out.update(_REGISTERED)
    return out
