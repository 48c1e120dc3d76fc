"""Suite-wide checks."""

from __future__ import annotations

import os

import pytest

# The fast kernels run on numba's JIT throughout the suite, and no test process records or builds
# the ahead-of-time kernel library in the user's cache (tests/kernels/test_aot_library.py builds
# its own in a temp dir). EIGHTBIT_AOT=1 with a built library runs the suite through it instead.
os.environ.setdefault("EIGHTBIT_AOT", "0")
os.environ.setdefault("EIGHTBIT_AOT_BUILD", "0")
# Nor the prepared-params cache (tests/unit/test_prepared_cache.py turns it on in a temp
# dir): every test prepares its kernels.
os.environ.setdefault("EIGHTBIT_PREPARED_CACHE", "0")

# Imported after the variables above: importing eightbit loads the kernel library (fast.preload).
from tests.converted import check_written  # noqa: E402


@pytest.fixture(autouse=True)
def _every_converted_file_is_valid(monkeypatch, request):
    """Each TFLiteConverter.convert() result is read back by our verifier and run by LiteRT.

    A test marked `no_litert_check` opts out: it converts inputs LiteRT may abort the whole
    process on (ONNX's ~1000 per-operator cases, compared with ONNX's expected outputs instead)."""
    from eightbit.quantize import converter

    if request.node.get_closest_marker("no_litert_check"):
        return

    original = converter.TFLiteConverter.convert

    def checked(self):
        out = original(self)
        check_written(out)
        return out

    monkeypatch.setattr(converter.TFLiteConverter, "convert", checked)
