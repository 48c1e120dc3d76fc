"""Keras tests run on the torch backend (the importer reads configs and weights, not backend tensors)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

try:  # one thread: the machine's cores are shared, and torch's thread pool oversubscribes them
    import torch

    torch.set_num_threads(1)
except ImportError:
    pass
