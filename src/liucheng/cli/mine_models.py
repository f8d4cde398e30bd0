"""``liucheng mine discover`` and ``liucheng mine conformance``: model discovery and conformance."""

from __future__ import annotations
