"""The one error root of Liucheng.

Every error Liucheng raises on purpose is a :class:`LiuchengError`. Each carries a stable ``code``
(dotted, lower case, e.g. ``"bpmn.xml.malformed"``) that callers and the REST API can match on, a
human ``message`` and a ``hint`` that says what to do about it. Errors about a place in a model also
carry the ``file``, ``line`` and ``element_id``.

Parts add their own subclasses next to their code (e.g. FEEL syntax errors) but always below one of
the families defined here, so ``except LiuchengError`` catches everything we raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AuthorizationError",
    "ConcurrencyError",
    "ConfigurationError",
    "DmnError",
    "EngineError",
    "FeelError",
    "LiuchengError",
    "ModelError",
    "ModelProblem",
    "ModelValidationError",
    "NotFoundError",
    "StoreError",
    "ValidationError",
    "XmlSecurityError",
]


class LiuchengError(Exception):
    """Root of every error Liucheng raises on purpose.

    Args:
        message: What went wrong, in one sentence.
        code: Stable machine-readable code; defaults to the class's ``default_code``.
        hint: What the user can do about it.
        file: Source file the problem is in, when there is one.
        line: 1-based line in ``file``.
        element_id: Id of the model element concerned.
        details: Extra structured data (shown by the API as problem-detail extensions).
    """

    default_code: str = "liucheng.error"
    default_hint: str | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        hint: str | None = None,
        file: str | None = None,
        line: int | None = None,
        element_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.code = code or self.default_code
        self.hint = hint if hint is not None else self.default_hint
        self.file = file
        self.line = line
        self.element_id = element_id
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(self.__str__())

    @property
    def location(self) -> str:
        """``file:line`` (with element id) where known, else an empty string."""
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.element_id is not None:
            parts.append(f"element '{self.element_id}'")
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.location
        text = f"{where}: {self.message}" if where else self.message
        text = f"[{self.code}] {text}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the error."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        for key in ("hint", "file", "line", "element_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.details:
            out["details"] = self.details
        return out


class ConfigurationError(LiuchengError):
    """Bad configuration: a setting, a file path, a database URL."""

    default_code = "config.invalid"


class ValidationError(LiuchengError):
    """Input that does not have the required shape (form data, API payload, YAML file)."""

    default_code = "input.invalid"


class ModelError(LiuchengError):
    """A BPMN (or other model) document that cannot be read or is not valid."""

    default_code = "bpmn.invalid"


class XmlSecurityError(ModelError):
    """An XML document refused for safety: entities, DTDs, oversize input."""

    default_code = "xml.refused"
    default_hint = "remove DOCTYPE/ENTITY declarations and keep documents under the size limit"


@dataclass(frozen=True, slots=True)
class ModelProblem:
    """One finding of model validation.

    Attributes:
        code: Stable code, e.g. ``"bpmn.flow.dangling"``.
        message: What is wrong.
        severity: ``"error"`` (blocks deployment) or ``"warning"``.
        element_id: Element the problem is on.
        file: Source file.
        line: 1-based line of the element in the file.
        hint: How to fix it.
    """

    code: str
    message: str
    severity: str = "error"
    element_id: str | None = None
    file: str | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file or "<model>"
        if self.line is not None:
            where += f":{self.line}"
        elem = f" [{self.element_id}]" if self.element_id else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{elem} {self.severity} {self.code}: {self.message}{hint}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the problem."""
        return {
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
            "element_id": self.element_id,
            "file": self.file,
            "line": self.line,
            "hint": self.hint,
        }


class ModelValidationError(ModelError):
    """A model that parsed but has validation errors; ``problems`` lists every one."""

    default_code = "bpmn.validation"

    def __init__(self, problems: list[ModelProblem], *, file: str | None = None) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        first = errors[0] if errors else (self.problems[0] if self.problems else None)
        count = len(errors)
        message = f"{count} validation error{'s' if count != 1 else ''}"
        if first is not None:
            message += f"; first: {first.message}"
        super().__init__(
            message,
            file=file or (first.file if first else None),
            line=first.line if first else None,
            element_id=first.element_id if first else None,
            hint=first.hint if first else None,
            details={"problems": [p.to_dict() for p in self.problems]},
        )


class FeelError(LiuchengError):
    """A FEEL expression that cannot be parsed or evaluated."""

    default_code = "feel.error"


class DmnError(LiuchengError):
    """A DMN model that cannot be read or a decision that cannot be evaluated."""

    default_code = "dmn.error"


class EngineError(LiuchengError):
    """A command the engine cannot carry out (no outgoing flow, unknown task, bad state)."""

    default_code = "engine.error"


class NotFoundError(LiuchengError):
    """Something named by id does not exist (or the caller may not know that it exists)."""

    default_code = "not_found"


class ConcurrencyError(LiuchengError):
    """An optimistic-locking conflict: someone else changed the same state first."""

    default_code = "concurrency.conflict"
    default_hint = "reload and retry the command"


class AuthorizationError(LiuchengError):
    """The caller may not do this."""

    default_code = "auth.forbidden"


class StoreError(LiuchengError):
    """The store (database) failed or is not in the expected schema version."""

    default_code = "store.error"
