"""FEEL against the DMN TCK, without the DMN layer.

Picks the TCK decisions that are a single literal expression with no inputs, and whose expected
result is a plain boolean, number, string or null, and evaluates their FEEL text directly. The
full TCK (with models, inputs and every value type) runs through ``liucheng dmn tck``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from liucheng.errors import LiuchengError
from liucheng.feel import evaluate
from tests.conftest import require_shared

XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
FOLDERS = ("*feel*", "0099-arithmetic-negation", "0100-arithmetic")
# Need the DMN layer: item definitions as types, typeRef coercion of results.
DMN_LEVEL = ("0082-feel-coercion",)
DMN_TYPES = re.compile(r"instance of (list<)?t\w")

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _cases(folder: Path) -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    texts: dict[str, str] = {}
    for dmn in folder.glob("*.dmn"):
        root = etree.parse(str(dmn), _PARSER).getroot()
        for dec in root:
            if _local(dec.tag) != "decision":
                continue
            if any(_local(c.tag) == "informationRequirement" for c in dec):
                continue
            lits = [c for c in dec if _local(c.tag) == "literalExpression"]
            if len(lits) != 1:
                continue
            text = next((t.text for t in lits[0] if _local(t.tag) == "text"), None)
            if text:
                texts[dec.get("name", "")] = text
    for xml in folder.glob("*test*.xml"):
        root = etree.parse(str(xml), _PARSER).getroot()
        for case in root:
            if _local(case.tag) != "testCase":
                continue
            if any(_local(c.tag) == "inputNode" for c in case):
                continue
            for node in case:
                if _local(node.tag) != "resultNode" or node.get("name") not in texts:
                    continue
                expected = _expected(node)
                if expected is not _SKIP:
                    out.append(
                        (f"{folder.name}:{case.get('id')}", texts[node.get("name")], expected)
                    )
    return out


_SKIP = object()


def _expected(node: Any) -> Any:
    if node.get("errorResult") == "true":
        return None
    values = [v for v in node.iter() if _local(v.tag) == "value"]
    if len(values) != 1 or values[0].getparent() is None:
        return _SKIP
    v = values[0]
    if _local(v.getparent().tag) != "expected":
        return _SKIP
    if v.get(XSI + "nil") == "true":
        return None
    kind = (v.get(XSI + "type") or "").split(":")[-1]
    text = v.text or ""
    if kind == "boolean":
        return text.strip() == "true"
    if kind == "decimal":
        return Decimal(text.strip())
    if kind == "string":
        return text
    return _SKIP


def _all_cases() -> list[tuple[str, str, Any]]:
    try:
        base = require_shared("conformance", "dmn-tck", "compliance-level-3")
    except BaseException:  # skipped outside CI when shared material is absent
        return []
    cases: list[tuple[str, str, Any]] = []
    for pattern in FOLDERS:
        for folder in sorted(base.glob(pattern)):
            if folder.name not in DMN_LEVEL:
                cases.extend(
                    c for c in _cases(folder) if not DMN_TYPES.search(c[1].replace("&lt;", "<"))
                )
    return cases


CASES = _all_cases()


def test_tck_material_present() -> None:
    require_shared("conformance", "dmn-tck", "compliance-level-3")
    assert len(CASES) > 100


def _param(case: tuple[str, str, Any]) -> Any:
    return pytest.param(*case, id=case[0])


@pytest.mark.parametrize(("case_id", "text", "expected"), [_param(c) for c in CASES])
def test_tck_literal(case_id: str, text: str, expected: Any) -> None:
    try:
        result = evaluate(text)
    except LiuchengError:
        result = None
    if isinstance(expected, Decimal) and isinstance(result, Decimal):
        assert abs(result - expected) <= abs(expected) * Decimal("1e-8") + Decimal("1e-12")
    else:
        assert result == expected
        assert type(result) is type(expected)
