"""Lazy public names for :mod:`liucheng.analytics` and :mod:`liucheng.analytics.mining`.

Each package keeps an ``_EXPORTS`` table (public name -> defining submodule) and loads a
submodule on first access of one of its names (PEP 562), so that importing the package costs
nothing: the submodules pull in numpy, pyarrow, the log readers (and through them the engine's
store) and scipy.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any

__all__ = ["LazyPackage", "load"]


class LazyPackage(ModuleType):
    """A package module whose public functions win over same-named submodules.

    The import system binds every loaded submodule as an attribute of its package. Where a
    public function is named like its submodule (``mining.conformance``, ``variants``), the
    eager ``from .conformance import conformance`` rebound the name to the function right
    after; lazily, the submodule may be loaded later (or by someone else), so the binding is
    redirected here.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        exports: dict[str, str] = self.__dict__.get("_EXPORTS", {})
        if isinstance(value, ModuleType) and exports.get(name) == f".{name}":
            value = getattr(value, name)
        super().__setattr__(name, value)


def load(package: ModuleType, name: str) -> Any:
    """The public name (or submodule) ``name`` of ``package``, imported and cached.

    Raises:
        AttributeError: ``package`` has no such name or submodule.
    """
    exports: dict[str, str] = package.__dict__["_EXPORTS"]
    module = exports.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, package.__name__), name)
    elif not name.startswith("__") and importlib.util.find_spec(f"{package.__name__}.{name}"):
        value = importlib.import_module(f"{package.__name__}.{name}")  # submodule as attribute
    else:
        raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}")
    setattr(package, name, value)  # later look-ups skip __getattr__
    return value
