"""DMN types: resolving ``typeRef`` to a checker, and coercing values to a declared type.

A value that does not conform to its declared type becomes null (DMN 1.5 §7.3.2 / §10.3.2.9):
:meth:`DmnType.coerce` returns ``(value, ok)`` so the caller can record the problem. Singleton
lists and single values convert into each other where the declared type asks for it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from liucheng.feel import FeelFunction, Range, YearsMonthsDuration

__all__ = ["ANY", "DmnType", "conforms_builtin"]

_Check = Callable[[Any], bool]


class _Tests(Protocol):
    """Compiled unary tests (``liucheng.feel.UnaryTests`` or a stand-in)."""

    def test(self, value: Any, context: Any = None) -> bool:
        """Whether ``value`` passes."""


def _is_date(v: Any) -> bool:
    return isinstance(v, _dt.date) and not isinstance(v, _dt.datetime)


def _is_number(v: Any) -> bool:
    return isinstance(v, Decimal | int | float) and not isinstance(v, bool)


_BUILTIN: dict[str, _Check] = {
    "number": _is_number,
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "date": _is_date,
    "time": lambda v: isinstance(v, _dt.time),
    "date and time": lambda v: isinstance(v, _dt.datetime),
    "days and time duration": lambda v: isinstance(v, _dt.timedelta),
    "years and months duration": lambda v: isinstance(v, YearsMonthsDuration),
    "context": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "range": lambda v: isinstance(v, Range),
    "function": lambda v: isinstance(v, FeelFunction),
    "any": lambda v: True,
}

_ALIASES = {
    "dateTime": "date and time",
    "dayTimeDuration": "days and time duration",
    "yearMonthDuration": "years and months duration",
    "decimal": "number",
    "double": "number",
    "integer": "number",
    "int": "number",
    "long": "number",
    "Any": "any",
    "interval": "range",
}


def builtin_name(ref: str) -> str | None:
    """The FEEL built-in type named by ``ref`` (``feel:number``, ``xsd:string``, ``Any``...)."""
    name = ref.strip()
    if ":" in name:
        prefix, _, rest = name.partition(":")
        if prefix in {"feel", "xsd", "xs", "FEEL"}:
            name = rest
    name = _ALIASES.get(name, name)
    return name if name in _BUILTIN else None


def conforms_builtin(name: str, value: Any) -> bool:
    """Whether ``value`` is an instance of built-in type ``name``."""
    return _BUILTIN[name](value)


@dataclass(eq=False)
class DmnType:
    """A resolved DMN type.

    Attributes:
        name: Display name.
        builtin: The FEEL base type name, for simple types.
        components: Component types, for structured types.
        element: Element type, for collections (``isCollection`` or ``list<T>``).
        allowed: Allowed-values unary tests (applied to each element of a collection).
        function: True for function types.
    """

    name: str
    builtin: str | None = None
    components: dict[str, DmnType] | None = None
    element: DmnType | None = None
    allowed: _Tests | None = None
    function: bool = False
    base: DmnType | None = field(default=None, repr=False)
    #: For function types: the declared output type.
    output: DmnType | None = field(default=None, repr=False)
    #: DMN 1.5 ``typeConstraint``: tests the whole value (a collection itself, not its items).
    constraint: _Tests | None = field(default=None, repr=False)

    @property
    def is_any(self) -> bool:
        return (
            self.builtin == "any"
            and self.allowed is None
            and self.constraint is None
            and self.base is None
            and self.element is None
            and self.components is None
        )

    @property
    def is_collection(self) -> bool:
        return self.element is not None or self.builtin == "list"

    def instance(self, value: Any) -> bool:
        """FEEL ``instance of`` for this type (allowed values are not considered)."""
        if value is None:
            return False
        if self.builtin == "any" and self.element is None and self.base is None:
            return self.components is None or self._components_ok(value)
        if self.element is not None:
            return isinstance(value, list) and all(
                v is None or self.element.instance(v) for v in value
            )
        if self.base is not None:
            return self.base.instance(value)
        if self.components is not None:
            return self._components_ok(value)
        if self.function:
            return isinstance(value, FeelFunction)
        if self.builtin is not None:
            return bool(_BUILTIN[self.builtin](value))
        return True

    def _components_ok(self, value: Any) -> bool:
        if not isinstance(value, dict) or self.components is None:
            return False
        return all(
            k in value and (value[k] is None or t.instance(value[k]))
            for k, t in self.components.items()
        )

    def coerce(self, value: Any) -> tuple[Any, bool]:
        """``(value converted to this type, True)``, or ``(None, False)`` when not conforming."""
        if value is None or self.is_any:
            return value, True
        conv, ok = self._coerce(value)
        if (
            ok
            and conv is not None
            and self.constraint is not None
            and not self.constraint.test(conv)
        ):
            return None, False
        return conv, ok

    def _coerce(self, value: Any) -> tuple[Any, bool]:
        if self.is_collection:
            if not isinstance(value, list):
                value = [value]  # singleton -> list conversion
            if self.element is None:
                return value, True
            out = []
            for item in value:
                conv, ok = self.element.coerce(item)
                if not ok:
                    return None, False
                out.append(conv)
            return out, True
        if isinstance(value, list) and len(value) == 1 and self.builtin != "any":
            value = value[0]  # list -> singleton conversion
            if value is None:
                return None, True
        return self._coerce_single(value)

    def _coerce_single(self, value: Any) -> tuple[Any, bool]:
        if self.base is not None:
            value, ok = self.base.coerce(value)
            if not ok or value is None:
                return value, ok
        elif self.components is not None:
            if not isinstance(value, dict):
                return None, False
            out = dict(value)
            for key, ctype in self.components.items():
                if key not in value:
                    return None, False
                conv, ok = ctype.coerce(value[key])
                if not ok:
                    return None, False
                out[key] = conv
            value = out
        elif self.function:
            if not isinstance(value, FeelFunction):
                return None, False
        elif self.builtin is not None:
            if self.builtin == "date and time" and _is_date(value):
                value = _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.UTC)
            if not _BUILTIN[self.builtin](value):
                return None, False
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = Decimal(str(value))
        if self.allowed is not None and not self.allowed.test(value):
            return None, False
        return value, True


ANY = DmnType("Any", builtin="any")


def parse_type_ref(ref: str) -> tuple[str, str | None]:
    """Split ``list<T>`` into ``("list", "T")``; other refs give ``(ref, None)``."""
    text = ref.strip()
    if text.startswith("list<") and text.endswith(">"):
        return "list", text[5:-1].strip()
    return text, None


def lookup_builtin(ref: str, cache: Mapping[str, DmnType]) -> DmnType | None:
    """A built-in :class:`DmnType` for ``ref`` (from ``cache`` when already made)."""
    name = builtin_name(ref)
    if name is None:
        return None
    got = cache.get(name)
    return got if got is not None else DmnType(name, builtin=name)
