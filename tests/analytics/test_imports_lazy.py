"""``import liucheng.analytics`` is cheap: its submodules load on first use (PEP 562)."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import liucheng.analytics
import liucheng.analytics.mining

# polars and numpy would be fine; these cost seconds (sqlalchemy: the engine's store)
HEAVY = ("matplotlib", "networkx", "scipy", "lxml", "pandas", "sqlalchemy", "pm4py")
PACKAGES = [liucheng.analytics, liucheng.analytics.mining]


def _loaded_after(code: str) -> list[str]:
    """Top-level packages and ``liucheng.*`` modules loaded by ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_the_packages_loads_no_heavy_module() -> None:
    mods = _loaded_after("import liucheng.analytics, liucheng.analytics.mining")
    tops = {m.split(".")[0] for m in mods}
    assert not tops & set(HEAVY), sorted(tops & set(HEAVY))
    assert not [m for m in mods if m.startswith("liucheng.analytics.") and m.count(".") > 2]
    assert "liucheng.history" not in mods


def test_discovery_does_not_load_the_alignment_solver() -> None:
    mods = _loaded_after("from liucheng.analytics import discover_inductive, discover_dfg")
    tops = {m.split(".")[0] for m in mods}
    assert "scipy" not in tops  # the LP heuristic of the alignments is the only scipy user
    assert "liucheng.analytics.mining.discovery_inductive" in mods
    assert "liucheng.analytics.mining.alignments" not in mods


@pytest.mark.parametrize("pkg", PACKAGES, ids=lambda p: p.__name__)
def test_every_public_name_resolves_from_its_module(pkg: ModuleType) -> None:
    exports: dict[str, str] = pkg._EXPORTS
    assert set(exports) == set(pkg.__all__)
    for name, module in exports.items():
        value = getattr(pkg, name)
        assert value is getattr(importlib.import_module(module, pkg.__name__), name)
    assert set(pkg.__all__) <= set(dir(pkg))
    with pytest.raises(AttributeError):
        _ = pkg.no_such_name


@pytest.mark.parametrize("pkg", PACKAGES, ids=lambda p: p.__name__)
def test_type_checking_imports_match_the_lazy_table(pkg: ModuleType) -> None:
    """The imports mypy sees and the table used at run time name the same modules."""
    tree = ast.parse(Path(str(pkg.__file__)).read_text())
    guard = next(
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    seen: dict[str, str] = {}
    for node in guard.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                seen[alias.asname or alias.name] = f".{node.module}"
    assert seen == pkg._EXPORTS


def test_submodules_are_reachable_as_attributes() -> None:
    code = (
        "import liucheng.analytics as a\n"
        "assert a.mining.process_tree.tau().is_tau\n"
        "assert a.kpi.kpi_summary is a.kpi_summary"
    )
    _loaded_after(code)  # raises on failure


def test_functions_win_over_same_named_submodules() -> None:
    """``mining.conformance`` and ``analytics.variants`` are functions, as with eager imports,
    even when their submodule was loaded first by a direct import."""
    code = (
        "from liucheng.analytics.mining.conformance import precision_etc\n"
        "import liucheng.analytics.variants\n"
        "from liucheng.analytics.mining import conformance\n"
        "from liucheng.analytics import variants\n"
        "import liucheng.analytics as a\n"
        "assert callable(conformance) and callable(variants), (conformance, variants)\n"
        "assert a.mining.conformance is conformance and a.variants is variants"
    )
    _loaded_after(code)
    import liucheng.analytics.mining.conformance  # the submodule loads here too

    assert callable(liucheng.analytics.mining.conformance)


def test_star_import_gives_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from liucheng.analytics import *", namespace)  # noqa: S102  (fixed test text)
    assert set(liucheng.analytics.__all__) <= set(namespace)
