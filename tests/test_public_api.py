"""The top-level re-exports resolve to the parts' objects."""

from __future__ import annotations

import importlib

import pytest

import liucheng


@pytest.mark.parametrize("name", [n for n in liucheng.__all__ if n not in {"__version__"}])
def test_every_export_resolves(name: str) -> None:
    value = getattr(liucheng, name)
    if name == "LiuchengError":
        assert value is liucheng.errors.LiuchengError
        return
    module = importlib.import_module(liucheng._EXPORTS[name])
    assert value is getattr(module, name)
    assert name in getattr(module, "__all__", [name])


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = liucheng.no_such_thing  # type: ignore[attr-defined]
