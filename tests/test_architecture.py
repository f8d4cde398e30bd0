"""The import rules of DESIGN.md, pinned.

Each part may import only the parts DESIGN.md lets it (closed transitively) and ``errors``; the pure
parts and the engine may not import SQL, web or HTTP libraries.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "liucheng"

# Direct permissions from DESIGN.md's table. ``org`` may also use FEEL/DMN for assignment rules;
# ``engine`` may use the pure ``org`` part (assignment strategies, calendars, SLA clocks, the
# authorisation policy: issue 6 puts the user-task side in the engine; org does no I/O);
# ``simulation`` runs the engine's own behaviours and calibrates from event logs (issue 9), so it
# may use ``engine``, ``history`` and ``analytics`` too.
DIRECT: dict[str, set[str]] = {
    "model": set(),
    "feel": set(),
    "dmn": {"feel"},
    "engine": {"model", "feel", "dmn", "org"},
    "store": {"engine"},
    "jobs": {"engine", "store"},
    "org": {"model", "feel", "dmn"},
    "history": {"store"},
    "analytics": {"model", "history"},
    "simulation": {"model", "feel", "org", "engine", "history", "analytics"},
    "api": {
        "model",
        "feel",
        "dmn",
        "engine",
        "store",
        "jobs",
        "org",
        "history",
        "analytics",
        "simulation",
    },
    "cli": {
        "model",
        "feel",
        "dmn",
        "engine",
        "store",
        "jobs",
        "org",
        "history",
        "analytics",
        "simulation",
        "api",
    },
}

FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {
    part: {
        "sqlalchemy",
        "alembic",
        "psycopg",
        "fastapi",
        "starlette",
        "uvicorn",
        "httpx",
        "requests",
        "urllib",
        "socket",
        "http",
    }
    for part in ("model", "feel", "dmn", "engine")
}


def _closure(part: str) -> set[str]:
    seen: set[str] = set()
    todo = [part]
    while todo:
        for dep in DIRECT[todo.pop()]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def _imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    package = path.relative_to(SRC.parent).with_suffix("").parts
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level])
                if path.name == "__init__.py":
                    base = list(package[: len(package) - node.level + 1])
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def _part_files() -> list[tuple[str, Path]]:
    return [(part, path) for part in DIRECT for path in sorted((SRC / part).rglob("*.py"))]


def test_every_part_has_a_package() -> None:
    for part in DIRECT:
        assert (SRC / part / "__init__.py").is_file(), part


@pytest.mark.parametrize(("part", "path"), _part_files(), ids=str)
def test_import_rules(part: str, path: Path) -> None:
    allowed = _closure(part) | {part, "errors"}
    bad: list[str] = []
    for line, name in _imports(path):
        top = name.split(".")
        if top[0] == "liucheng":
            if len(top) == 1:
                bad.append(f"{path.name}:{line} imports the liucheng root package")
            elif top[1] not in allowed:
                bad.append(f"{path.name}:{line} imports liucheng.{top[1]}")
        elif top[0] in FORBIDDEN_THIRD_PARTY.get(part, set()):
            bad.append(f"{path.name}:{line} imports {name}")
    assert not bad, f"{part} breaks the import rules: {bad}"


def test_rules_catch_a_violation() -> None:
    """The checker itself must see forbidden imports, relative ones too (so the rule test can fail)."""
    fake = SRC / "model" / "_probe_violation.py"
    source = "from liucheng.engine import x\nimport sqlalchemy\nfrom ..store import y\n"
    names = [name for _, name in _imports(fake, source)]
    assert names == ["liucheng.engine", "sqlalchemy", "liucheng.store"]


def test_no_eval_or_exec_in_source() -> None:
    offenders: list[str] = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"eval", "exec", "compile", "__import__"}
            ):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {node.func.id}()")
    assert not offenders, offenders
