"""The DMN TCK runner: reads ``testCases`` XML files, runs them, compares with the TCK's rules.

Values are compared the way the TCK runners do: numbers by value (a relative tolerance covers
decimal/double noise), dates, times and durations by value, lists element-wise, contexts by their
keys, null against nil. A result node with ``errorResult="true"`` expects null.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from liucheng.errors import DmnError, LiuchengError
from liucheng.feel import BigDate, BigDateTime, FeelFunction, Range, YearsMonthsDuration
from liucheng.feel import evaluate as feel_evaluate

from ._evaluate import DmnModel
from ._load import load_model
from ._parse import MAX_DMN_BYTES
from ._types import DmnType

__all__ = [
    "TckCase",
    "TckResult",
    "TckSummary",
    "parse_tck_value",
    "read_test_cases",
    "run_tck",
    "tck_equal",
]

TC_NS = "http://www.omg.org/spec/DMN/20160719/testcase"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass(frozen=True)
class Untyped:
    """A TCK ``<value>`` without ``xsi:type``: interpreted against the declared type."""

    text: str


@dataclass(frozen=True)
class TckNode:
    """An ``inputNode`` or ``resultNode``."""

    name: str
    value: Any
    namespace: str | None = None
    error_result: bool = False
    has_expected: bool = True


@dataclass(frozen=True)
class TckCase:
    """One ``testCase`` of a TCK file."""

    id: str
    file: str
    model_name: str | None
    inputs: tuple[TckNode, ...]
    results: tuple[TckNode, ...]
    type: str = "decision"
    invocable: str | None = None
    description: str | None = None
    #: Set when the case's XML could not be read (the case then reports an error).
    invalid: str | None = None


@dataclass(frozen=True)
class TckResult:
    """Outcome of one test case (``error`` when it could not be run at all)."""

    model: str
    test: str
    ok: bool
    message: str
    error: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of DESIGN.md."""
        return {"model": self.model, "test": self.test, "ok": self.ok, "message": self.message}


@dataclass
class TckSummary:
    """All results of a TCK run."""

    results: list[TckResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """Cases whose every result matched."""
        return sum(1 for r in self.results if r.ok)

    @property
    def errors(self) -> int:
        """Cases that could not be run (unreadable test file or model)."""
        return sum(1 for r in self.results if r.error)

    @property
    def failed(self) -> int:
        """Cases that ran and did not match."""
        return sum(1 for r in self.results if not r.ok and not r.error)

    def to_dict(self) -> dict[str, Any]:
        """``{"passed", "failed", "errors", "results": [...]}``."""
        return {
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "results": [r.to_dict() for r in self.results],
        }


# ----------------------------------------------------------------------------- reading


def _tc(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and c.tag == f"{{{TC_NS}}}{name}"]


_DURATION_RE = re.compile(
    r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def _duration(text: str) -> Any:
    m = _DURATION_RE.match(text.strip())
    if not m or text.strip() in {"P", "-P"} or text.strip().endswith("T"):
        raise ValueError(f"bad duration {text!r}")
    neg, y, mo, d, h, mi, s = m.groups()
    sign = -1 if neg else 1
    if (y or mo) and not (d or h or mi or s):
        return YearsMonthsDuration(sign * (int(y or 0) * 12 + int(mo or 0)))
    if y or mo:
        raise ValueError(f"mixed duration {text!r}")
    # Digits past microseconds are cut, as FEEL's own duration parsing does (not rounded).
    micros = int(Decimal(s or 0).scaleb(6))
    delta = _dt.timedelta(
        days=int(d or 0), hours=int(h or 0), minutes=int(mi or 0), microseconds=micros
    )
    return -delta if neg else delta


def _tz(text: str) -> tuple[str, _dt.tzinfo | None]:
    """Split a trailing zone (``Z``, ``+01:00``, ``@Europe/Paris``) off a date/time text."""
    if "@" in text:
        from zoneinfo import ZoneInfo

        base, _, zone = text.partition("@")
        return base, ZoneInfo(zone)
    if text.endswith("Z"):
        return text[:-1], _dt.UTC
    m = re.search(r"([+-])(\d\d):(\d\d)(?::(\d\d))?$", text)
    if m and (":" in text[: m.start()] or "T" in text):
        sign = 1 if m.group(1) == "+" else -1
        off = _dt.timedelta(
            hours=int(m.group(2)), minutes=int(m.group(3)), seconds=int(m.group(4) or 0)
        )
        return text[: m.start()], _dt.timezone(sign * off)
    return text, None


def _time(text: str) -> _dt.time:
    base, tz = _tz(text)
    return _dt.time.fromisoformat(base).replace(tzinfo=tz)


def _datetime(text: str) -> _dt.datetime:
    base, tz = _tz(text)
    if "T" not in base:
        d = _dt.date.fromisoformat(base)
        return _dt.datetime(d.year, d.month, d.day, tzinfo=tz)
    return _dt.datetime.fromisoformat(base).replace(tzinfo=tz)


_TEMPORAL_FUNCTIONS = {"date": "date", "dateTime": "date and time", "time": "time"}


def _typed(xsd_type: str, text: str) -> Any:
    kind = xsd_type.rpartition(":")[2]
    if kind in {"decimal", "double", "integer", "int", "long", "float"}:
        t = text.strip()
        if t in {"NaN", "INF", "-INF"}:
            return None
        return Decimal(t)
    if kind == "string":
        return text
    if kind == "boolean":
        return text.strip() in {"true", "1"}
    if kind in _TEMPORAL_FUNCTIONS:
        try:
            if kind == "date":
                return _dt.date.fromisoformat(text.strip())
            return _datetime(text.strip()) if kind == "dateTime" else _time(text.strip())
        except ValueError:
            # Years beyond 1..9999, "24:00:00", zone ids: FEEL's own conversion reads them.
            value = feel_evaluate(f"{_TEMPORAL_FUNCTIONS[kind]}(text)", {"text": text.strip()})
            if value is None:
                raise
            return value
    if kind in {"duration", "dayTimeDuration", "yearMonthDuration"}:
        return _duration(text)
    return Untyped(text)


def parse_tck_value(el: etree._Element) -> Any:
    """A TCK ``valueType`` element (``value`` | ``component``* | ``list``) as a FEEL value."""
    if el.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    values = _tc(el, "value")
    if values:
        v = values[0]
        if v.get(f"{{{XSI_NS}}}nil") == "true":
            return None
        xsd_type = v.get(f"{{{XSI_NS}}}type")
        text = v.text or ""
        if xsd_type is None:
            return Untyped(text)
        return _typed(xsd_type, text)
    lists = _tc(el, "list")
    if lists:
        lst = lists[0]
        if lst.get(f"{{{XSI_NS}}}nil") == "true":
            return None
        return [parse_tck_value(item) for item in _tc(lst, "item")]
    comps = _tc(el, "component")
    if comps:
        return {c.get("name") or "": parse_tck_value(c) for c in comps}
    return None


def _nodes(tc: etree._Element) -> tuple[tuple[TckNode, ...], tuple[TckNode, ...]]:
    inputs = tuple(
        TckNode(n.get("name") or "", parse_tck_value(n), n.get("namespace"))
        for n in _tc(tc, "inputNode")
    )
    results = []
    for n in _tc(tc, "resultNode"):
        expected = _tc(n, "expected")
        results.append(
            TckNode(
                n.get("name") or "",
                parse_tck_value(expected[0]) if expected else None,
                n.get("namespace"),
                error_result=(n.get("errorResult") or "false").strip() == "true",
                has_expected=bool(expected),
            )
        )
    return inputs, tuple(results)


def read_test_cases(path: str | Path) -> tuple[str | None, list[TckCase]]:
    """Read a TCK test-case file: ``(modelName, cases)``.

    Raises:
        DmnError: When the file is not a TCK ``testCases`` document.
    """
    p = Path(path)
    data = p.read_bytes()
    if len(data) > MAX_DMN_BYTES or b"<!DOCTYPE" in data[:4096].upper():
        raise DmnError("test file refused (DTD or too large)", code="dmn.tck.refused", file=str(p))
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise DmnError(f"malformed XML: {exc.msg}", code="dmn.tck.malformed", file=str(p)) from None
    if root.tag != f"{{{TC_NS}}}testCases":
        raise DmnError("not a TCK testCases file", code="dmn.tck.format", file=str(p))
    names = _tc(root, "modelName")
    model_name = (names[0].text or "").strip() if names else None
    cases = []
    for i, tc in enumerate(_tc(root, "testCase")):
        ident = tc.get("id") or str(i + 1)
        desc = _tc(tc, "description")
        try:
            inputs, results = _nodes(tc)
        except (ValueError, ArithmeticError, KeyError) as exc:
            cases.append(
                TckCase(ident, str(p), model_name, (), (), invalid=f"unreadable value: {exc}")
            )
            continue
        cases.append(
            TckCase(
                id=ident,
                file=str(p),
                model_name=model_name,
                inputs=inputs,
                results=results,
                type=tc.get("type") or "decision",
                invocable=tc.get("invocableName"),
                description=(desc[0].text or "").strip() if desc else None,
            )
        )
    return model_name, cases


# ----------------------------------------------------------------------------- comparing


def _num_equal(a: Decimal, b: Decimal) -> bool:
    if a == b:
        return True
    if not (a.is_finite() and b.is_finite()):
        return False
    diff = abs(a - b)
    scale = max(abs(a), abs(b))
    return diff <= Decimal("1e-8") * scale or diff <= Decimal("1e-10")


def _untyped_equal(text: str, actual: Any) -> bool:
    if actual is None:
        return text == ""  # an empty untyped <value/> stands for "no value"
    if isinstance(actual, str):
        return actual == text
    if isinstance(actual, bool):
        return text.strip() == ("true" if actual else "false")
    if isinstance(actual, Decimal):
        try:
            return _num_equal(Decimal(text.strip()), actual)
        except InvalidOperation:
            return False
    conversion = _untyped_conversion(actual)
    if conversion is None:
        return False
    # An untyped temporal text is read the way FEEL reads the same literal.
    expected = feel_evaluate(f"{conversion}(text)", {"text": text.strip()})
    return expected is not None and tck_equal(expected, actual)


def _untyped_conversion(actual: Any) -> str | None:
    """The FEEL conversion function for an actual temporal value (None for other values)."""
    if isinstance(actual, _dt.datetime | BigDateTime):
        return "date and time"
    if isinstance(actual, _dt.date | BigDate):
        return "date"
    if isinstance(actual, _dt.time):
        return "time"
    if isinstance(actual, _dt.timedelta | YearsMonthsDuration):
        return "duration"
    return None


def tck_equal(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` matches the TCK ``expected`` value."""
    if isinstance(expected, Untyped):
        return _untyped_equal(expected.text, actual)
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, Decimal):
        if isinstance(actual, int | float):
            actual = Decimal(str(actual))
        return isinstance(actual, Decimal) and _num_equal(expected, actual)
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return False
        return all(tck_equal(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        if set(expected) != set(actual):
            return False
        return all(tck_equal(expected[k], actual[k]) for k in expected)
    if isinstance(expected, _dt.datetime):
        if not isinstance(actual, _dt.datetime):
            return False
        if (expected.tzinfo is None) != (actual.tzinfo is None):
            return False
        if expected != actual:
            return False
        if expected.tzinfo is not None and actual.tzinfo is not None:
            return expected.utcoffset() == actual.utcoffset()
        return True
    if isinstance(expected, _dt.date):
        return type(actual) is _dt.date and actual == expected
    if isinstance(expected, _dt.time):
        if not isinstance(actual, _dt.time):
            return False
        if (expected.tzinfo is None) != (actual.tzinfo is None):
            return False
        ref = _dt.date(2000, 1, 1)
        ex = _dt.datetime.combine(ref, expected)
        ac = _dt.datetime.combine(ref, actual)
        return ex == ac and ex.utcoffset() == ac.utcoffset()
    if isinstance(expected, _dt.timedelta | YearsMonthsDuration | str):
        return type(actual) is type(expected) and actual == expected
    return bool(expected == actual)


def show(value: Any) -> str:
    """A short readable form of a FEEL value for messages."""
    if isinstance(value, Untyped):
        return repr(value.text)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, FeelFunction):
        return f"function {value.name or ''}"
    if isinstance(value, Range | YearsMonthsDuration):
        return str(value)
    return str(value)


# ----------------------------------------------------------------------------- running


_UNTYPED_KINDS = {
    "number": "decimal",
    "boolean": "boolean",
    "date": "date",
    "date and time": "dateTime",
    "time": "time",
    "days and time duration": "duration",
    "years and months duration": "duration",
}


def _convert_untyped(value: Any, dtype: DmnType | None) -> Any:
    """Interpret untyped TCK text with the declared type (string when unknown)."""
    while dtype is not None and dtype.base is not None:
        dtype = dtype.base
    if isinstance(value, Untyped):
        kind = dtype.builtin if dtype is not None else None
        if kind in _UNTYPED_KINDS:
            try:
                return _typed(_UNTYPED_KINDS[kind], value.text)
            except (ValueError, InvalidOperation):
                return value.text
        return value.text
    if isinstance(value, list):
        element = dtype.element if dtype is not None else None
        return [_convert_untyped(v, element) for v in value]
    if isinstance(value, dict):
        comps = dtype.components if dtype is not None and dtype.components else {}
        return {k: _convert_untyped(v, comps.get(k)) for k, v in value.items()}
    return value


def _model_inputs(
    model: DmnModel, case: TckCase
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``(inputs of the main model, inputs of other models by namespace)``.

    A node with a ``namespace`` goes to that model; a name qualified with import names
    (``"i.input"``, ``"i.j.input"``) is nested under them.
    """
    inputs: dict[str, Any] = {}
    namespaced: dict[str, dict[str, Any]] = {}
    main = model.main
    for node in case.inputs:
        if node.namespace and node.namespace != main.ns and node.namespace in model.scopes:
            scope = model.scopes[node.namespace]
            value = _convert_untyped(node.value, _declared_type(scope, node.name))
            namespaced.setdefault(node.namespace, {})[node.name] = value
            continue
        scope, steps, name = main, [], node.name
        while name not in scope.by_name and "." in name:
            head, _, rest = name.partition(".")
            child = scope.links.get(scope.imports.get(head, "\0"))
            if child is None:
                break
            scope, name = child, rest
            steps.append(head)
        holder = inputs
        for step in steps:
            nested = holder.setdefault(step, {})
            if not isinstance(nested, dict):
                break
            holder = nested
        holder[name] = _convert_untyped(node.value, _declared_type(scope, name))
    return inputs, namespaced


def _declared_type(scope: Any, name: str) -> DmnType:
    data = next((d for d in scope.defs.input_data if d.name == name), None)
    el = data if data is not None else scope.by_name.get(name)
    resolved: DmnType = scope.resolve_type(el.variable.type_ref if el is not None else None)
    return resolved


def run_case(model: DmnModel, case: TckCase, model_label: str) -> TckResult:
    """Run one test case against ``model``."""
    test = f"{Path(case.file).name}:{case.id}"
    if case.invalid is not None:
        return TckResult(model_label, test, False, f"error: {case.invalid}", error=True)
    problems: list[str] = []
    try:
        inputs, namespaced = _model_inputs(model, case)
        service_outputs: dict[str, Any] | None = None
        service_errors: tuple[str, ...] = ()
        if case.type == "decisionService" and case.invocable:
            res = model.invoke_service(case.invocable, inputs)
            # a result node names an output decision, or the service itself (its whole result)
            service_outputs = {**res.outputs, case.invocable: res.value}
            service_errors = res.errors
        elif case.type == "bkm" and case.invocable:
            res = model.invoke_bkm(case.invocable, inputs)
            service_outputs = {node.name: res.value for node in case.results}
            service_errors = res.errors
        for node in case.results:
            if service_outputs is not None:
                actual = service_outputs.get(node.name)
                errors = service_errors
            else:
                try:
                    res = model.decide(node.name, inputs, namespaced=namespaced)
                    actual, errors = res.value, res.errors
                except DmnError as exc:
                    if exc.code != "dmn.decision.unknown":
                        raise
                    actual, errors = None, (exc.message,)  # no such decision: no value
            if node.error_result:
                ok = actual is None or (node.has_expected and tck_equal(node.value, actual))
                if not ok:
                    problems.append(f"{node.name}: expected an error (null), got {show(actual)}")
                continue
            if not tck_equal(node.value, actual):
                extra = f" [{errors[0]}]" if errors else ""
                problems.append(
                    f"{node.name}: expected {show(node.value)}, got {show(actual)}{extra}"
                )
    except LiuchengError as exc:
        return TckResult(model_label, test, False, f"error: {exc}", error=False)
    except RecursionError:
        return TckResult(model_label, test, False, "error: recursion too deep", error=False)
    except Exception as exc:  # a bug must fail the case, not stop the whole run
        return TckResult(model_label, test, False, f"crash: {type(exc).__name__}: {exc}")
    if problems:
        return TckResult(model_label, test, False, "; ".join(problems))
    return TckResult(model_label, test, True, f"{len(case.results)} result(s) ok")


def _test_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.xml")):
        try:
            with path.open("rb") as fh:
                head = fh.read(2048)
        except OSError:
            continue
        if b"testCases" in head:
            yield path


def run_tck(directory: str | Path) -> TckSummary:
    """Run every TCK test-case file under ``directory`` (recursively).

    Each file's model (``modelName``, else the folder's single DMN file) is loaded with the DMN
    files of its folder for imports. A model that cannot be loaded turns each of its cases
    into an ``error`` result; failing cases never raise.

    Raises:
        DmnError: When ``directory`` does not exist.
    """
    root = Path(directory)
    if not root.is_dir():
        raise DmnError(f"{root} is not a directory", code="dmn.tck.dir", hint="give the TCK folder")
    summary = TckSummary()
    models: dict[Path, DmnModel | LiuchengError] = {}
    for test_file in _test_files(root):
        label = str(test_file.parent.relative_to(root)) if test_file.parent != root else root.name
        try:
            model_name, cases = read_test_cases(test_file)
        except (LiuchengError, OSError) as exc:
            summary.results.append(TckResult(label, test_file.name, False, f"error: {exc}", True))
            continue
        dmn_path = _model_path(test_file, model_name)
        if dmn_path is None:
            for case in cases:
                summary.results.append(
                    TckResult(label, f"{test_file.name}:{case.id}", False, "error: no model", True)
                )
            continue
        if dmn_path not in models:
            try:
                models[dmn_path] = load_model(dmn_path)
            except LiuchengError as exc:
                models[dmn_path] = exc
        loaded = models[dmn_path]
        model_label = f"{label}/{dmn_path.name}"
        for case in cases:
            if isinstance(loaded, LiuchengError):
                summary.results.append(
                    TckResult(
                        model_label, f"{test_file.name}:{case.id}", False, f"error: {loaded}", True
                    )
                )
            else:
                summary.results.append(run_case(loaded, case, model_label))
    return summary


def _model_path(test_file: Path, model_name: str | None) -> Path | None:
    if model_name:
        candidate = test_file.parent / model_name
        if candidate.is_file():
            return candidate
    dmns = sorted(test_file.parent.glob("*.dmn"))
    return dmns[0] if len(dmns) == 1 else None


def results_by_model(summary: TckSummary) -> Mapping[str, tuple[int, int]]:
    """``{model: (passed, total)}`` for reports."""
    out: dict[str, tuple[int, int]] = {}
    for r in summary.results:
        p, t = out.get(r.model, (0, 0))
        out[r.model] = (p + (1 if r.ok else 0), t + 1)
    return out
