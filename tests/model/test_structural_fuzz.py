"""Structural fuzz: valid models with random damage load or are refused, never crash.

Each example takes a well-formed model (the rich sample or a vendor fixture), applies a few
random structural mutations on its XML tree (attributes removed or garbled, references pointed
nowhere or at the wrong kind of element, unknown or renamed elements, duplicated ids, garbage
text, elements deleted or moved) and checks that parsing gives a model or a ``LiuchengError``,
that validation runs, and that the model survives a write/parse cycle with the same ids.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from liucheng.errors import LiuchengError
from liucheng.model import parse_bpmn, validate, write_bpmn
from liucheng.model._base import REGISTRY
from tests.model.samples import RICH

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES: list[bytes] = [RICH.encode()] + [
    (FIXTURES / name).read_bytes()
    for name in (
        "camunda7_extensions_colors.bpmn",
        "jbpm_drools_itemdefs_assignments.bpmn",
        "yaoqiang_root_event_definitions_cdata_docs.bpmn",
        "enterprise_architect_visual_paradigm_misc.bpmn",
        "zeebe8_collapsed_subprocess_planes.bpmn",
    )
]
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
TAGS = sorted(
    {f"{{{cls.NS}}}{cls.TAG}" for cls in REGISTRY.values() if "TAG" in cls.__dict__ and cls.TAG}
)
GARBAGE = st.one_of(
    st.sampled_from(["", " ", "x y", "-1", "NaN", "inf", "1e400", "True", "=", "tns:", "#"]),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe"),
        max_size=12,
    ),
)
MUTATION = st.tuples(
    st.sampled_from(
        [
            "remove_attr",
            "garble_attr",
            "wrong_ref",
            "unknown_element",
            "duplicate",
            "garbage_text",
            "delete",
            "move",
            "rename",
        ]
    ),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    GARBAGE,
)


def _mutate(root: Any, kind: str, a: int, b: int, text: str) -> None:
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    el = elements[a % len(elements)]
    other = elements[b % len(elements)]
    ids = [e.get("id") for e in elements if e.get("id")]
    try:
        if kind == "remove_attr" and el.attrib:
            del el.attrib[sorted(el.attrib)[b % len(el.attrib)]]
        elif kind == "garble_attr" and el.attrib:
            el.set(sorted(el.attrib)[b % len(el.attrib)], text)
        elif kind == "wrong_ref":
            refs = [k for k in el.attrib if k.endswith("Ref") or k in ("bpmnElement", "default")]
            target = ids[b % len(ids)] if ids and b % 3 else "Missing_" + text
            if refs:
                el.set(refs[b % len(refs)], target)
            elif el.text and el.text.strip() and not len(el):
                el.text = target
        elif kind == "unknown_element":
            tag = f"{{{BPMN_NS}}}unknownThing" if b % 2 else "{urn:vendor}thing"
            etree.SubElement(el, tag, {"id": ids[b % len(ids)] if ids else "x"}).text = text
        elif kind == "duplicate" and el is not root:
            parent = other if b % 2 else el.getparent()
            parent.append(copy.deepcopy(el))
        elif kind == "garbage_text":
            if b % 2:
                el.text = text
            else:
                el.tail = text
        elif kind == "delete" and el is not root:
            el.getparent().remove(el)
        elif kind == "move" and el is not root:
            other.append(el)
        elif kind == "rename":
            el.tag = TAGS[b % len(TAGS)]
    except ValueError:
        pass  # lxml refuses some edits (e.g. moving an element into itself): no mutation


def _check(data: bytes) -> None:
    try:
        defs = parse_bpmn(data)
    except LiuchengError:
        return
    problems = validate(defs)
    assert all(p.code and p.message for p in problems)
    again = parse_bpmn(write_bpmn(defs))
    assert [e.id for e in again.all_elements()] == [e.id for e in defs.all_elements()]


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.integers(0, len(SOURCES) - 1), st.lists(MUTATION, min_size=1, max_size=6))
def test_structural_mutations_never_crash(
    source: int, mutations: list[tuple[str, int, int, str]]
) -> None:
    root = etree.fromstring(SOURCES[source])
    for kind, a, b, text in mutations:
        _mutate(root, kind, a, b, text)
    _check(etree.tostring(root))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SOURCES) - 1), st.integers(0, 10_000), st.integers(0, 10_000))
def test_random_subsets_of_a_model_never_crash(source: int, keep_seed: int, salt: int) -> None:
    # Keep a random subset of the elements: each removal decision comes from the seeds.
    root = etree.fromstring(SOURCES[source])
    elements = [e for e in root.iter() if isinstance(e.tag, str) and e is not root]
    for n, el in enumerate(elements):
        if (keep_seed * (n + 1) + salt) % 5 == 0 and el.getparent() is not None:
            el.getparent().remove(el)
    _check(etree.tostring(root))


ALL_FIXTURES = [p.read_bytes() for p in sorted(FIXTURES.glob("*.bpmn"))]
TOKENS = [b"<", b">", b"&", b'"', b"xmlns:q='u'", b'xmlns="rel/x"', b"<x:y/>", b"xsi:", b"]]>"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, len(ALL_FIXTURES) - 1),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 2), st.sampled_from(TOKENS), st.binary()),
        min_size=1,
        max_size=6,
    ),
)
def test_byte_edits_of_vendor_files_never_crash(
    source: int, edits: list[tuple[int, int, bytes, bytes]]
) -> None:
    # Found real bugs: namespace URIs or "p:name" attributes that libxml2 lets through but
    # that cannot be written back.
    data = bytearray(ALL_FIXTURES[source])
    for pos, op, token, junk in edits:
        at = pos % len(data)
        if op == 0:
            data[at : at + 1] = junk[:1]
        elif op == 1:
            del data[at : at + 1 + pos % 40]
        else:
            data[at:at] = token
    _check(bytes(data))
