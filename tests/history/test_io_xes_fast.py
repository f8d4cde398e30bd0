"""The vectorised XES reader gives exactly the lxml reader's frame, or hands over to it."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

import liucheng.history._xes_fast as fast_mod
import liucheng.history.xes as xes_mod
from liucheng.history import EventLogError, read_log
from tests.history._pm4py import BIG, LOGS, log_path
from tests.history.test_io_xes import MINI


def _lxml(path: Path, monkeypatch: pytest.MonkeyPatch) -> pl.DataFrame:
    with monkeypatch.context() as m:
        m.setattr(xes_mod, "_read_fast", lambda *_: None)
        return xes_mod.read_xes(path)


def _fast(path: Path) -> pl.DataFrame | None:
    return xes_mod._read_fast(path, str(path))


def _same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.schema == b.schema
    assert a.equals(b, null_equal=True)


def _write(tmp_path: Path, text: str, name: str = "t.xes") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


def _log(*events: str, trace_attrs: str = "") -> str:
    body = "".join(f"    <event>\n{e}    </event>\n" for e in events)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<log xes.version="1849.2016" xmlns="http://www.xes-standard.org/">\n'
        f"  <trace>\n{trace_attrs}{body}  </trace>\n</log>\n"
    )


def _ev(name: str, ts: str = "2024-01-01T00:00:00Z", extra: str = "") -> str:
    return (
        f'      <string key="concept:name" value="{name}"/>\n'
        f'      <date key="time:timestamp" value="{ts}"/>\n{extra}'
    )


@pytest.mark.parametrize("name", LOGS)
def test_shared_logs_take_the_fast_path_and_equal_lxml(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = log_path(name)
    got = _fast(path)
    assert got is not None, "the common layout must not fall back"
    _same(got, _lxml(path, monkeypatch))


@pytest.mark.slow
def test_bpic2012_fast_equals_lxml(monkeypatch: pytest.MonkeyPatch) -> None:
    path = log_path(BIG)
    got = _fast(path)
    assert got is not None
    _same(got, _lxml(path, monkeypatch))


def test_mini_log_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Lists with members, a global block, typed values, a trace without a name, naive dates.
    # (MINI's <global> holds its attribute on the same line: the fast path hands over.)
    assert _fast(_write(tmp_path, MINI, "one-line.xes")) is None
    one_per_line = MINI.replace(
        '<global scope="event"><string key="concept:name" value="x"/></global>',
        '<global scope="event">\n    <string key="concept:name" value="x"/>\n  </global>',
    )
    one_per_line = one_per_line.replace(
        '<list key="tags"><string key="t" value="ignored"/></list>',
        '<list key="tags">\n        <string key="t" value="ignored"/>\n      </list>',
    )
    assert one_per_line.count("\n") == MINI.count("\n") + 4
    p = _write(tmp_path, one_per_line)
    got = _fast(p)
    assert got is not None
    _same(got, _lxml(p, monkeypatch))
    assert "t" not in got.columns and "tags" not in got.columns


@pytest.mark.parametrize("blocks", [64, 200, 1 << 20])
@pytest.mark.parametrize("gz", [False, True])
def test_block_boundaries_and_gzip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blocks: int, gz: bool
) -> None:
    text = log_path("running-example.xes").read_bytes()
    p = tmp_path / ("r.xes.gz" if gz else "r.xes")
    p.write_bytes(gzip.compress(text) if gz else text)
    want = _lxml(p, monkeypatch)
    monkeypatch.setattr(fast_mod, "_BLOCK", blocks)
    got = _fast(p)
    assert got is not None
    _same(got, want)


def test_entities_value_first_crlf_bom_and_comments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _log(
        _ev(
            "a &amp; b", extra='      <string key="note" value="&lt;x&gt; &quot;q&quot; &apos;"/>\n'
        ),
        '      <string value="B" key="concept:name"/>\n'
        '      <date value="2024-01-02T00:00:00+01:00" key="time:timestamp"/>\n'
        "      <!-- one-line comment -->\n"
        '      <string key="empty" value=""/>\n'
        '      <string key="novalue"/>\n',
        trace_attrs='    <string key="concept:name" value="c&amp;1"/>\n',
    )
    p = tmp_path / "e.xes"
    p.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    got = _fast(p)
    assert got is not None
    _same(got, _lxml(p, monkeypatch))
    assert got["activity"].to_list() == ["a & b", "B"]
    assert got["note"][0] == '<x> "q" \''
    assert got["case_id"][0] == "c&1"
    assert got["empty"].to_list() == [None, ""]
    assert got["novalue"].to_list() == [None, None]


def test_nested_attributes_and_odd_elements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        '<?xml version="1.0"?>\n<log>\n'
        '  <extension name="Concept" prefix="concept" uri="http://x/concept.xesext"/>\n'
        '  <global scope="event">\n    <string key="concept:name" value="g"/>\n  </global>\n'
        '  <string key="log-level" value="not a column"/>\n'
        "  <trace>\n"
        '    <list key="l">\n      <values>\n        <int key="x" value="1"/>\n'
        "      </values>\n    </list>\n"
        "    <event>\n"
        '      <string key="concept:name" value="A">\n'
        '        <string key="meta" value="nested, not a column"/>\n'
        "      </string>\n"
        '      <int key="n" value=" 7"/>\n'
        '      <float value="3.5"/>\n'
        '      <boolean key="b" value="TRUE"/>\n'
        "    </event>\n"
        "    <foo>\n      <event>\n"
        '        <string key="concept:name" value="not an event of the trace"/>\n'
        "      </event>\n    </foo>\n"
        "  </trace>\n"
        "  <trace>\n  </trace>\n"
        "</log>\n"
    )
    p = _write(tmp_path, text)
    got = _fast(p)
    assert got is not None
    _same(got, _lxml(p, monkeypatch))
    assert got.height == 1 and got["n"].to_list() == [7] and got["b"].to_list() == [True]
    assert "meta" not in got.columns and "" not in got.columns and "x" not in got.columns


def test_empty_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _write(tmp_path, '<?xml version="1.0"?>\n<log>\n  <trace>\n  </trace>\n</log>\n')
    got = _fast(p)
    assert got is not None
    _same(got, _lxml(p, monkeypatch))


FALLBACKS = {
    "two elements on a line": _log(
        '      <string key="concept:name" value="A"/><string key="x" value="1"/>\n'
    ),
    "multi-line comment": _log(_ev("A", extra="      <!-- a\n      b -->\n")),
    "character reference": _log(_ev("A&#66;")),
    "text content": _log(_ev("A", extra="      some text\n")),
    "cdata": _log(_ev("A", extra="      <![CDATA[x]]>\n")),
    "tab in value": _log(_ev("A\tB")),
    "single quotes": _log("      <string key='concept:name' value='A'/>\n"),
    "key with two types": _log(
        _ev("A", extra='      <int key="k" value="1"/>\n'),
        _ev("B", extra='      <string key="k" value="x"/>\n'),
    ),
    "same key twice": _log(_ev("A", extra='      <string key="concept:name" value="B"/>\n')),
    "other encoding": _log(_ev("A")).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'),
    "self-closing event": _log(_ev("A")).replace("  </trace>", "    <event/>\n  </trace>"),
    "many attributes": _log(_ev("A")).replace("<log ", '<log a="1" b="2" c="3" d="4" e="5" f="6" '),
    "child on an opening line": _log(_ev("A")).replace(
        "  <trace>", '  <x a="1"><trace/>\n  </x>\n  <trace>'
    ),
    "prefixed element": _log(_ev("A"))
    .replace("<trace>", '<x:trace xmlns:x="urn:x">')
    .replace("</trace>", "</x:trace>"),
}


@pytest.mark.parametrize("case", sorted(FALLBACKS))
def test_layouts_it_cannot_prove_fall_back_to_lxml(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = _write(tmp_path, FALLBACKS[case])
    assert _fast(p) is None
    _same(read_log(p), _lxml(p, monkeypatch))


@pytest.mark.parametrize(
    ("case", "text"),
    [
        ("mismatched close", _log(_ev("A")).replace("    </event>", "    </trace>", 1)),
        ("unclosed", _log(_ev("A")).replace("</log>\n", "")),
        ("bare ampersand", _log(_ev("A & B"))),
        ("non-XML space in a tag", _log('      <string key="concept:name"\u00a0value="A"/>\n')),
        ("bad int", _log(_ev("A", extra='      <int key="n" value="seven"/>\n'))),
        ("bad date", _log(_ev("A", ts="yesterday"))),
    ],
)
def test_bad_files_still_raise_with_a_line(case: str, text: str, tmp_path: Path) -> None:
    p = _write(tmp_path, text)
    assert _fast(p) is None, case
    with pytest.raises(EventLogError) as info:
        read_log(p)
    assert info.value.line is not None and info.value.line > 1
