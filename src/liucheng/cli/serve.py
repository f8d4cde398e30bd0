"""``liucheng serve``: the REST API server."""

from __future__ import annotations
