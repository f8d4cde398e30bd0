"""Reading YAML/JSON input files and turning pydantic errors into errors with a key path."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from ._errors import ScenarioError, SimulationInputError

__all__ = ["InputValueError", "checked", "load_document", "validate_model"]

MAX_FILE_BYTES = 32 * 1024 * 1024


class _Loader(yaml.SafeLoader):
    """YAML safe loader without YAML 1.1's base-60 numbers.

    PyYAML reads an unquoted ``17:00`` as the integer 1020 (and ``8:30`` as 510); times of day
    and shift lengths are written exactly like that, so they must stay strings.
    """


_INT = re.compile(
    r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"
)
_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))

M = TypeVar("M", bound=pydantic.BaseModel)
T = TypeVar("T")


class InputValueError(ValueError):
    """Carries a :class:`SimulationInputError` through pydantic (which only catches ValueError)."""

    def __init__(self, inner: SimulationInputError) -> None:
        super().__init__(inner.reason)
        self.inner = inner


def checked(build: Callable[[], T]) -> T:
    """Run ``build`` in a pydantic validator; our errors are re-raised so pydantic adds the path."""
    try:
        return build()
    except SimulationInputError as exc:
        raise InputValueError(exc) from None


def load_document(path: str | Path, *, error: type[SimulationInputError] = ScenarioError) -> Any:
    """Parse a YAML or JSON file (JSON is YAML, but JSON files are read with ``json`` for speed).

    Raises:
        SimulationInputError: (of class ``error``) when the file is missing, too large or malformed.
    """
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise error(f"cannot read {file}: {exc.strerror or exc}", file=str(file)) from None
    if size > MAX_FILE_BYTES:
        raise error(f"{file} is larger than {MAX_FILE_BYTES} bytes", file=str(file))
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {file}: {exc}", file=str(file)) from None
    if file.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(f"malformed JSON: {exc.msg}", file=str(file), line=exc.lineno) from None
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader derives from SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"malformed YAML: {problem}", file=str(file), line=line) from None


def _loc_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validate_model(
    model: type[M],
    data: Any,
    *,
    file: str | None = None,
    error: type[SimulationInputError] = ScenarioError,
    prefix: str = "",
) -> M:
    """Validate ``data`` into ``model``; the first problem becomes an error naming its key path.

    Errors our own validators raise (:class:`SimulationInputError` with a relative path) get the
    model path prepended.
    """
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = exc.errors(include_url=False)
        first = problems[0]
        # Drop pydantic's union/function tags ("function-after[...]") from the path.
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and "[" in p))
        path = _loc_path(loc)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        ctx_error = (first.get("ctx") or {}).get("error")
        if isinstance(ctx_error, InputValueError):
            inner_error = ctx_error.inner
            inner = inner_error.path or ""
            sep = "" if inner.startswith("[") else "."
            full = f"{path}{sep}{inner}" if path and inner else (path or inner)
            raise error(
                inner_error.reason,
                path=full or None,
                file=file,
                hint=inner_error.hint,
                details={"problems": len(problems)},
            ) from None
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif first["type"] == "missing":
            message = "required key is missing"
        raise error(
            message,
            path=path or None,
            file=file,
            details={"problems": len(problems)},
        ) from None
