"""Hostile and broken input: every case is a LiuchengError with a clear message."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from liucheng.errors import LiuchengError, ModelError, XmlSecurityError
from liucheng.model import DEFAULT_MAX_BYTES, parse_bpmn, validate, write_bpmn

NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<definitions xmlns="{NS}" id="d"><documentation>&lol9;</documentation></definitions>
""".encode()


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(XmlSecurityError) as info:
        parse_bpmn(BILLION_LAUGHS, filename="bomb.bpmn")
    assert info.value.code == "xml.doctype"
    assert info.value.file == "bomb.bpmn"
    assert info.value.line == 2
    assert "DOCTYPE" in info.value.message


def test_external_entity_is_refused_and_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        f'<definitions xmlns="{NS}" id="d"><documentation>&x;</documentation></definitions>'
    ).encode()
    with pytest.raises(XmlSecurityError) as info:
        parse_bpmn(doc)
    assert "TOP-SECRET" not in str(info.value)


def test_doctype_after_comment_is_refused() -> None:
    doc = f'<!-- hi --><!DOCTYPE definitions SYSTEM "x.dtd"><definitions xmlns="{NS}"/>'
    with pytest.raises(XmlSecurityError):
        parse_bpmn(doc.encode())


def test_undeclared_entity_is_malformed() -> None:
    with pytest.raises(ModelError) as info:
        parse_bpmn(f'<definitions xmlns="{NS}">&nope;</definitions>'.encode())
    assert info.value.code == "bpmn.xml.malformed"


def test_malformed_xml_names_line() -> None:
    doc = f'<definitions xmlns="{NS}">\n<process id="p">\n<task id="t">\n</process></definitions>'
    with pytest.raises(ModelError) as info:
        parse_bpmn(doc.encode(), filename="broken.bpmn")
    err = info.value
    assert err.code == "bpmn.xml.malformed"
    assert err.file == "broken.bpmn"
    assert err.line == 4
    assert err.hint


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_bytes_give_model_error(seed: int) -> None:
    data = random.Random(seed).randbytes(20_000)
    with pytest.raises(LiuchengError) as info:
        parse_bpmn(data)
    assert info.value.code.startswith(("bpmn.", "xml."))


@pytest.mark.parametrize(
    "data",
    [b"", b"   ", b"hello world", b"\x00\x01\x02", b'{"json": true}', b"<a>", "<<<"],
)
def test_non_xml_gives_model_error(data: bytes | str) -> None:
    with pytest.raises(ModelError):
        parse_bpmn(data)


def test_non_bpmn_root_is_refused_with_hint() -> None:
    with pytest.raises(ModelError) as info:
        parse_bpmn(b'<?xml version="1.0"?>\n<html><body/></html>')
    assert info.value.code == "bpmn.root"
    assert info.value.line == 2
    assert info.value.hint is not None and NS in info.value.hint


def test_bpmn_wrong_namespace_is_refused() -> None:
    with pytest.raises(ModelError) as info:
        parse_bpmn(b'<definitions xmlns="http://example.org/other"/>')
    assert info.value.code == "bpmn.root"


def test_bad_attribute_value_loads_and_is_reported() -> None:
    doc = f'<definitions xmlns="{NS}">\n<process id="p" isExecutable="maybe"/></definitions>'
    defs = parse_bpmn(doc.encode(), filename="f.bpmn")
    process = defs.process("p")
    assert process.is_executable is None
    assert process.attr("isExecutable") == "maybe"
    assert b'isExecutable="maybe"' in write_bpmn(defs)
    (problem,) = [p for p in validate(defs) if p.code == "bpmn.attribute.invalid"]
    assert problem.element_id == "p"
    assert problem.line == 2
    assert problem.file == "f.bpmn"


def test_deep_nesting_is_refused() -> None:
    doc = f'<definitions xmlns="{NS}"><extension>' + "<a>" * 5000 + "</a>" * 5000
    doc += "</extension></definitions>"
    with pytest.raises(ModelError):
        parse_bpmn(doc.encode())


def _big_document(size: int) -> bytes:
    head = f'<?xml version="1.0"?><definitions xmlns="{NS}" id="d"><process id="p">'.encode()
    chunk = b'<task id="t%d" name="A task with a name"/>\n'
    parts = [head]
    total = len(head)
    i = 0
    while total < size:
        piece = chunk % i
        parts.append(piece)
        total += len(piece)
        i += 1
    parts.append(b"</process></definitions>")
    return b"".join(parts)


def test_fifty_megabytes_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.bpmn"
    with big.open("wb") as fh:
        fh.write(f'<definitions xmlns="{NS}">'.encode())
        fh.write(b" " * DEFAULT_MAX_BYTES)
        fh.write(b"</definitions>")
    with pytest.raises(XmlSecurityError) as info:
        parse_bpmn(big)
    assert info.value.code == "xml.too_large"
    assert info.value.file == str(big)
    task = b'<task id="t" name="A task with a name"/>\n'
    data = b"".join(
        [f'<definitions xmlns="{NS}"><process id="p">'.encode()]
        + [task] * (50 * 1024 * 1024 // len(task))
        + [b"</process></definitions>"]
    )
    with pytest.raises(XmlSecurityError):
        parse_bpmn(data)


def test_size_limit_is_configurable() -> None:
    data = _big_document(200_000)
    with pytest.raises(XmlSecurityError):
        parse_bpmn(data, max_bytes=100_000)
    defs = parse_bpmn(data, max_bytes=1_000_000)
    assert len(defs.process("p").flow_nodes) > 1000


def test_missing_file_is_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        parse_bpmn(tmp_path / "nope.bpmn")
    assert info.value.code == "bpmn.file.unreadable"


def test_str_source_with_encoding_declaration() -> None:
    doc = f'<?xml version="1.0" encoding="ISO-8859-1"?><definitions xmlns="{NS}" name="Prüfung"/>'
    assert parse_bpmn(doc).name == "Prüfung"


def test_file_name_given_as_str_gets_a_hint() -> None:
    with pytest.raises(ModelError) as info:
        parse_bpmn("processes/order.bpmn")
    assert info.value.hint is not None and "Path" in info.value.hint
