"""Loading DMN files with the models they import, and the one-call ``decide`` API."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from liucheng.errors import DmnError

from ._evaluate import DecisionResult, DmnModel, is_dmn_import
from ._parse import parse_dmn_file
from .model import Definitions

__all__ = ["decide", "load_model"]

_CACHE: dict[str, tuple[tuple[int, int], DmnModel]] = {}
_CACHE_SIZE = 32


def _cached(path: Path) -> DmnModel:
    """``load_model`` with a small cache keyed by path, modification time and size."""
    try:
        st = path.stat()
    except OSError:
        return load_model(path)
    key = str(path.resolve())
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    model = load_model(path)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (stamp, model)
    return model


def _local_location(folder: Path, uri: str | None) -> Path | None:
    """The file a relative ``locationURI`` names, if it stays inside ``folder``'s tree."""
    if not uri or ":" in uri or uri.startswith(("/", "\\")):
        return None  # URLs and absolute paths are never followed
    candidate = (folder / uri).resolve()
    if not candidate.is_relative_to(folder.resolve()) or not candidate.is_file():
        return None
    return candidate


class _Folder:
    """The DMN files of one folder, parsed on first need, by namespace (broken files skipped)."""

    def __init__(self) -> None:
        self._by_folder: dict[Path, dict[str, tuple[Definitions, Path]]] = {}

    def find(self, folder: Path, ns: str, exclude: Path) -> tuple[Definitions, Path] | None:
        index = self._by_folder.get(folder)
        if index is None:
            index = {}
            for f in sorted(folder.glob("*.dmn")):
                if f.resolve() == exclude.resolve():
                    continue
                try:
                    defs = parse_dmn_file(f)
                except DmnError:
                    continue  # a broken sibling only matters if it is the one imported
                index.setdefault(defs.namespace, (defs, f))
            self._by_folder[folder] = index
        return index.get(ns)


def load_model(path: str | Path) -> DmnModel:
    """Load the DMN file at ``path`` with the models it imports.

    An import is found by its relative ``locationURI`` (inside the model's folder tree) or else
    among the DMN files of the importing model's folder, by namespace.

    Raises:
        DmnError: When a file cannot be read or parsed, or an import is missing.
    """
    p = Path(path)
    nodes: list[tuple[Definitions, Path]] = [(parse_dmn_file(p), p)]
    index_of: dict[Path, int] = {p.resolve(): 0}
    links: dict[int, dict[str, int]] = {}
    folders = _Folder()
    todo = [0]
    while todo:
        current = todo.pop()
        defs, where = nodes[current]
        for imp in defs.imports:
            if not is_dmn_import(imp.import_type):
                continue
            found: tuple[Definitions, Path] | None = None
            located = _local_location(where.parent, imp.location_uri)
            if located is not None:
                found = (parse_dmn_file(located), located)
            if found is None:
                found = folders.find(where.parent, imp.namespace, where)
            if found is None:
                continue  # reported by DmnModel with the importing file named
            key = found[1].resolve()
            if key not in index_of:
                index_of[key] = len(nodes)
                nodes.append(found)
                todo.append(index_of[key])
            links.setdefault(current, {})[imp.namespace] = index_of[key]
    return DmnModel(nodes[0][0], [d for d, _ in nodes[1:]], links=links)


def decide(
    model: DmnModel | Definitions | str | Path,
    decision_id: str,
    inputs: Mapping[str, Any] | None = None,
) -> DecisionResult:
    """Evaluate one decision.

    Args:
        model: A loaded :class:`DmnModel`, parsed :class:`Definitions` or a DMN file path
            (loaded once and cached while the file does not change).
        decision_id: The decision's (or decision service's) id or name.
        inputs: Input data values by name; plain Python values (``int``, ``float``, ``dict``,
            ``list``...) are converted to FEEL values.

    Returns:
        A :class:`DecisionResult`; ``.value`` is the decision's value.

    Raises:
        DmnError: Unknown decision, unreadable model, requirement cycle.
    """
    if isinstance(model, str | Path):
        model = _cached(Path(model))
    elif isinstance(model, Definitions):
        model = DmnModel(model)
    return model.decide(decision_id, inputs)
