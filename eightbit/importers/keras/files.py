"""Loading .keras and legacy .h5 files with Keras 3 (imported here, on demand)."""

from __future__ import annotations

import os

from eightbit.errors import ModelError


def load_keras_file(path):
    """The Keras model in a .keras or .h5 file, loaded without compiling it."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ModelError(f"{path}: no such file")
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".keras", ".h5", ".hdf5"):
        raise ModelError(f"{path}: expected a .keras or .h5 Keras model file (TF SavedModels need TensorFlow; "
                         "export from Keras as .keras, or convert through ONNX)")
    try:
        import keras
    except ImportError:
        raise ModelError("reading Keras files needs keras 3: pip install 'eightbit[keras]'") from None
    try:
        return keras.models.load_model(path, compile=False)
    except (ValueError, TypeError, OSError, KeyError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError(f"{path}: Keras could not load it: {first}") from None


def import_keras_file(path):
    """The model in a .keras / .h5 file as an ImportedGraph."""
    from eightbit.importers.keras import import_keras

    return import_keras(load_keras_file(path))
