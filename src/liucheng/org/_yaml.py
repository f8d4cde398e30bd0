"""Safe YAML loading that remembers the line of every key and list item (for error messages)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from liucheng.errors import LiuchengError, ValidationError

__all__ = ["MAX_FILE_BYTES", "YamlDocument", "line_of", "load_yaml_document", "read_text"]

MAX_FILE_BYTES = 20 * 1024 * 1024

Path_ = tuple[str | int, ...]
YamlDocument = tuple[Any, dict[Path_, int]]


def read_text(path: str | Path, error: type[LiuchengError] = ValidationError) -> str:
    """Read a UTF-8 text file with a size limit, turning I/O problems into ``error``."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise error(
                f"file is {size} bytes, more than the {MAX_FILE_BYTES} allowed", file=str(path)
            )
        return file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error("file not found", file=str(path), code="file.not_found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read file: {exc}", file=str(path), code="file.unreadable") from exc


def load_yaml_document(
    text: str, *, file: str | None = None, error: type[LiuchengError] = ValidationError
) -> YamlDocument:
    """Parse one YAML document with the safe loader.

    Returns:
        The data and a mapping from each key/item path (e.g. ``("people", 3, "superior")``) to its
        1-based line.

    Raises:
        error: The text is not well-formed YAML (with file and line).
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"not valid YAML: {problem}", file=file, line=line, code="yaml.syntax") from exc
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    if node is not None:
        _walk(node, (), lines, set())
    return data, lines


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], seen: set[int]) -> None:
    # Aliases share nodes; visiting each node once keeps "billion laughs" documents linear.
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            lines[(*path, index)] = child.start_mark.line + 1
            _walk(child, (*path, index), lines, seen)


def line_of(lines: Mapping[Path_, int], path: Path_) -> int | None:
    """The line of ``path`` or of its nearest ancestor that has one."""
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return None
