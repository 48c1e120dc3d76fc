"""Suite-wide checks."""

from __future__ import annotations

import pytest

from tests.converted import check_written


@pytest.fixture(autouse=True)
def _every_converted_file_is_valid(monkeypatch):
    """Each TFLiteConverter.convert() result is read back by our verifier and run by LiteRT."""
    from eightbit.quantize import converter

    original = converter.TFLiteConverter.convert

    def checked(self):
        out = original(self)
        check_written(out)
        return out

    monkeypatch.setattr(converter.TFLiteConverter, "convert", checked)
