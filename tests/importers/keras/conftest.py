"""Keras tests run on the torch backend (the importer reads configs and weights, not backend tensors)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
