from __future__ import annotations

from pathlib import Path

import pytest

from liucheng.dmn import decide, load_model

PRIORITY = Path(__file__).resolve().parents[2] / "processes" / "service_desk" / "priority.dmn"

MATRIX = {
    ("high", "high"): "critical",
    ("high", "medium"): "high",
    ("high", "low"): "medium",
    ("medium", "high"): "high",
    ("medium", "medium"): "medium",
    ("medium", "low"): "low",
    ("low", "high"): "medium",
    ("low", "medium"): "low",
    ("low", "low"): "low",
}


@pytest.mark.parametrize(("impact", "urgency"), list(MATRIX))
def test_priority_matrix(impact: str, urgency: str) -> None:
    res = decide(PRIORITY, "priority", {"impact": impact, "urgency": urgency})
    assert res.ok
    assert res.value == MATRIX[(impact, urgency)]


def test_priority_rejects_unknown_levels() -> None:
    res = decide(PRIORITY, "priority", {"impact": "extreme", "urgency": "high"})
    assert res.value is None and res.errors


@pytest.mark.parametrize(
    ("category", "group"),
    [
        ("hardware", "second-level-hardware"),
        ("software", "second-level-software"),
        ("network", "second-level-network"),
        ("printer", "first-level"),
        (None, "first-level"),
    ],
)
def test_routing(category: str | None, group: str) -> None:
    model = load_model(PRIORITY)
    assert model.decide("routing", {"category": category}).value == group
