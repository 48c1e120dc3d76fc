"""Sequence layers: attention and recurrent layers."""

from __future__ import annotations

RULES = {}
