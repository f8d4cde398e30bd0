"""Task forms: Camunda Forms (form-js) schemas and JSON Schemas, validated on the server.

A form-js schema (``{"components": [...], "type": "default"}``) is translated into checks per
field: ``textfield``/``textarea`` (string; ``minLength``/``maxLength``/``pattern``,
``validationType`` ``email``/``phone``), ``number`` (number; ``min``/``max``), ``checkbox``
(boolean), ``checklist`` and ``taglist`` (lists of allowed values), ``select``/``radio`` (one
of the static ``values``), ``datetime`` (ISO date, time or date-time per ``subtype``);
``validate.required`` everywhere. Nested ``group``/``dynamiclist`` components contribute their
children. A JSON Schema (anything else) is checked with :mod:`jsonschema`. Every field error is
reported at once.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from liucheng.errors import ValidationError

__all__ = ["form_errors", "is_form_js", "load_form", "validate_form"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()/.-]{5,}$")
_INPUTS = frozenset(
    {
        "textfield",
        "textarea",
        "number",
        "checkbox",
        "checklist",
        "taglist",
        "select",
        "radio",
        "datetime",
        "expression",
        "filepicker",
    }
)


def load_form(text: str | bytes | Mapping[str, Any], *, name: str) -> dict[str, Any]:
    """Parse a form document (JSON text) into a schema mapping.

    Raises:
        ValidationError: Not a JSON object.
    """
    if isinstance(text, Mapping):
        return dict(text)
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"form '{name}' is not valid JSON: {exc}", code="engine.form.invalid"
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(f"form '{name}' is not a JSON object", code="engine.form.invalid")
    return data


def is_form_js(schema: Mapping[str, Any]) -> bool:
    """Whether ``schema`` is a Camunda Forms (form-js) schema rather than a JSON Schema."""
    return isinstance(schema.get("components"), list)


def _fields(components: Any) -> Iterator[dict[str, Any]]:
    for c in components or ():
        if not isinstance(c, dict):
            continue
        if c.get("components"):
            yield from _fields(c["components"])
        if c.get("type") in _INPUTS and c.get("key"):
            yield c


def _get(data: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    cur: Any = data
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return False, None
        cur = cur[part]
    return True, cur


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _datetime_ok(value: Any, subtype: str) -> bool:
    if not isinstance(value, str):
        return False
    try:
        if subtype == "date":
            _dt.date.fromisoformat(value)
        elif subtype == "time":
            _dt.time.fromisoformat(value)
        else:
            _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _field_errors(c: Mapping[str, Any], present: bool, value: Any) -> list[str]:
    kind = c.get("type")
    v = c.get("validate") or {}
    label = c.get("label") or c["key"]
    if _empty(value):
        return [f"{label} is required"] if v.get("required") else []
    out: list[str] = []
    allowed = [o.get("value") for o in c.get("values") or () if isinstance(o, Mapping)]
    if kind in ("textfield", "textarea"):
        if not isinstance(value, str):
            return [f"{label} must be text"]
        if v.get("minLength") is not None and len(value) < int(v["minLength"]):
            out.append(f"{label} must have at least {v['minLength']} characters")
        if v.get("maxLength") is not None and len(value) > int(v["maxLength"]):
            out.append(f"{label} must have at most {v['maxLength']} characters")
        if v.get("pattern") and re.fullmatch(str(v["pattern"]), value) is None:
            out.append(f"{label} must match the pattern {v['pattern']}")
        vt = v.get("validationType")
        if vt == "email" and not _EMAIL.match(value):
            out.append(f"{label} must be an e-mail address")
        if vt == "phone" and not _PHONE.match(value):
            out.append(f"{label} must be a phone number")
    elif kind == "number":
        n = _number(value)
        if n is None:
            return [f"{label} must be a number"]
        if v.get("min") is not None and n < float(v["min"]):
            out.append(f"{label} must be at least {v['min']}")
        if v.get("max") is not None and n > float(v["max"]):
            out.append(f"{label} must be at most {v['max']}")
        decimals = c.get("decimalDigits")
        if decimals == 0 and n != int(n):
            out.append(f"{label} must be a whole number")
    elif kind == "checkbox":
        if not isinstance(value, bool):
            out.append(f"{label} must be true or false")
    elif kind in ("select", "radio"):
        if allowed and value not in allowed:
            out.append(f"{label} must be one of {', '.join(map(str, allowed))}")
    elif kind in ("checklist", "taglist"):
        if not isinstance(value, list):
            return [f"{label} must be a list"]
        bad = [x for x in value if allowed and x not in allowed]
        if bad:
            out.append(f"{label}: {', '.join(map(str, bad))} not allowed")
    elif kind == "datetime":
        subtype = str(c.get("subtype") or "date")
        if not _datetime_ok(value, subtype):
            out.append(f"{label} must be an ISO 8601 {subtype}")
    return out


def form_errors(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every problem of ``data`` against the form: ``[{"field", "message"}]`` (empty: valid)."""
    errors: list[dict[str, str]] = []
    if is_form_js(schema):
        for c in _fields(schema.get("components")):
            if c.get("disabled") or c.get("readonly") is True:
                continue
            present, value = _get(data, str(c["key"]))
            for message in _field_errors(c, present, value):
                errors.append({"field": str(c["key"]), "message": message})
        return errors
    import jsonschema

    try:
        validator_cls = jsonschema.validators.validator_for(schema)
        validator_cls.check_schema(dict(schema))
    except jsonschema.SchemaError as exc:
        raise ValidationError(
            f"the task's form is not a valid JSON Schema: {exc.message}",
            code="engine.form.invalid",
        ) from None
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    for err in sorted(validator.iter_errors(dict(data)), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in err.absolute_path)
        if not path and err.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", err.message)
            path = missing[0] if missing else ""
        errors.append({"field": path, "message": err.message})
    return errors


def validate_form(schema: Mapping[str, Any], data: Mapping[str, Any], *, task_id: str) -> None:
    """Refuse ``data`` unless it satisfies the form.

    Raises:
        ValidationError: ``engine.form.rejected`` with ``details["errors"]`` listing every field
            error.
    """
    errors = form_errors(schema, data)
    if errors:
        listing = "; ".join(f"{e['field'] or '(form)'}: {e['message']}" for e in errors)
        raise ValidationError(
            f"the form of task '{task_id}' is not filled in correctly: {listing}",
            code="engine.form.rejected",
            hint="correct every listed field and submit again",
            details={"task_id": task_id, "errors": errors},
        )
