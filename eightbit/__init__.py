"""eightbit: TensorFlow Lite's fixed-point quantization system, without TensorFlow."""

from eightbit.converter import OpsSet, Optimize, TFLiteConverter
from eightbit.errors import ModelError, UnsupportedOpError
from eightbit.interpreter import Interpreter
from eightbit.ir import Model, load

__version__ = "0.1.0"

__all__ = ["Interpreter", "Model", "ModelError", "Optimize", "OpsSet", "TFLiteConverter", "UnsupportedOpError", "load",
           "__version__"]
