"""Round-trip: parse → write keeps every element, attribute, extension and DI bound."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from liucheng.model import parse_bpmn, write_bpmn
from tests.conftest import SHARED, require_shared
from tests.model.xmlcompare import by_id, differences, load

MIWG = SHARED / "conformance" / "bpmn-miwg"
MIWG_FILES = sorted(MIWG.glob("*.bpmn")) if MIWG.exists() else []
OTHER_FILES = (
    sorted((SHARED / "conformance" / "scenarios").rglob("*.bpmn"))
    + sorted((SHARED / "bench").rglob("*.bpmn"))
    if SHARED.exists()
    else []
)


def _ids(paths: list[Path]) -> list[str]:
    return [p.name if p.parent == MIWG else str(p.relative_to(SHARED)) for p in paths]


def test_miwg_suite_present() -> None:
    folder = require_shared("conformance", "bpmn-miwg")
    assert len(list(folder.glob("*.bpmn"))) >= 10


@pytest.mark.parametrize("path", MIWG_FILES, ids=_ids(MIWG_FILES))
def test_miwg_roundtrip_is_semantically_identical(path: Path) -> None:
    before = path.read_bytes()
    after = write_bpmn(parse_bpmn(before, filename=str(path)))
    assert differences(before, after) == []


@pytest.mark.parametrize("path", MIWG_FILES, ids=_ids(MIWG_FILES))
def test_miwg_roundtrip_keeps_ids_types_names_di(path: Path) -> None:
    # Explicit counts on top of the whole-tree comparison, so a failure says what was lost.
    before, after = load(path.read_bytes()), load(write_bpmn(parse_bpmn(path)))
    ids_before, ids_after = by_id(before), by_id(after)
    assert ids_before.keys() == ids_after.keys()
    for key, el in ids_before.items():
        other = ids_after[key]
        assert other.tag == el.tag, key
        assert other.get("name") == el.get("name"), key
        assert other.get("sourceRef") == el.get("sourceRef"), key
        assert other.get("targetRef") == el.get("targetRef"), key

    def tag_counts(root: object) -> Counter[str]:
        return Counter(e.tag for e in root.iter() if isinstance(e.tag, str))  # type: ignore[attr-defined]

    assert tag_counts(before) == tag_counts(after)
    bounds_b = [
        tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
        for b in before.iter("{*}Bounds")
    ]
    bounds_a = [
        tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
        for b in after.iter("{*}Bounds")
    ]
    assert sorted(bounds_b) == sorted(bounds_a)
    assert len(bounds_b) > 0


@pytest.mark.parametrize("path", MIWG_FILES, ids=_ids(MIWG_FILES))
def test_miwg_model_equal_after_second_parse(path: Path) -> None:
    defs = parse_bpmn(path)
    again = parse_bpmn(write_bpmn(defs))
    assert again == defs
    assert again.namespace_map().items() >= defs.namespace_map().items()


@pytest.mark.parametrize("path", OTHER_FILES, ids=_ids(OTHER_FILES))
def test_engine_scenarios_and_bench_roundtrip(path: Path) -> None:
    before = path.read_bytes()
    after = write_bpmn(parse_bpmn(before, filename=str(path)))
    assert differences(before, after) == []


def test_prefixes_are_kept(tmp_path: Path) -> None:
    path = require_shared("conformance", "bpmn-miwg", "C.4.0.bpmn")
    out = write_bpmn(parse_bpmn(path))
    root = load(out)
    assert root.prefix == "semantic"
    assert root.nsmap["triso"] == "http://www.trisotech.com/2015/triso/modeling"


@pytest.mark.parametrize("path", MIWG_FILES + OTHER_FILES, ids=_ids(MIWG_FILES + OTHER_FILES))
def test_shared_models_have_no_validation_errors(path: Path) -> None:
    # The engine validates before deploying: models that engines run must not be refused.
    from liucheng.model import validate

    errors = [p for p in validate(parse_bpmn(path)) if p.severity == "error"]
    assert errors == []
