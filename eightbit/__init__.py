"""eightbit: TensorFlow Lite's fixed-point quantization system, without TensorFlow."""

from eightbit.converter import OpsSet, Optimize, TFLiteConverter
from eightbit.errors import ModelError, UnsupportedOpError
from eightbit.interpreter import Interpreter
from eightbit.ir import Model, load
from eightbit.kernels.custom import register_custom_op, unregister_custom_op

__version__ = "0.1.0"

__all__ = ["Interpreter", "Model", "ModelError", "Optimize", "OpsSet", "TFLiteConverter", "UnsupportedOpError", "load",
           "register_custom_op", "unregister_custom_op", "__version__"]
