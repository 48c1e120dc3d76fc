"""Keras 3 models (Sequential, Functional, .keras and .h5 files) as TFLite builtins, in NHWC.

    imported = import_keras(model)          # an ImportedGraph (docs/design/importers.md)
    imported = import_keras_file("m.keras")

Keras is imported only when a file is loaded; a model object brings its own keras. The mapping
reads layer configs and numpy weights, so it does not depend on the Keras backend.
"""

from __future__ import annotations

from eightbit.importers.common import ImportedGraph
from eightbit.importers.keras.files import import_keras_file, load_keras_file
from eightbit.importers.keras.graph import UnsupportedLayerError, import_model


def import_keras(model) -> ImportedGraph:
    """A Sequential or Functional Keras 3 model as an NHWC graph of TFLite builtins."""
    return import_model(model)


__all__ = ["UnsupportedLayerError", "import_keras", "import_keras_file", "load_keras_file"]
