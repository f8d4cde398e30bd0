"""Damaged real-world files: every outcome is a model or a LiuchengError, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liucheng.errors import LiuchengError
from liucheng.model import parse_bpmn, validate, write_bpmn
from tests.model.samples import RICH

SOURCE = RICH.encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, len(SOURCE) - 1), st.integers(0, 255)), min_size=1, max_size=8
    )
)
def test_byte_flips_never_crash(flips: list[tuple[int, int]]) -> None:
    data = bytearray(SOURCE)
    for pos, value in flips:
        data[pos] = value
    try:
        defs = parse_bpmn(bytes(data))
    except LiuchengError:
        return
    validate(defs)
    again = parse_bpmn(write_bpmn(defs))
    assert [e.id for e in again.all_elements()] == [e.id for e in defs.all_elements()]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(SOURCE)), st.integers(0, len(SOURCE)))
def test_cut_out_ranges_never_crash(start: int, end: int) -> None:
    data = SOURCE[: min(start, end)] + SOURCE[max(start, end) :]
    try:
        defs = parse_bpmn(data)
    except LiuchengError:
        return
    validate(defs)
    write_bpmn(defs)
