"""The fast XES reader's gzip stream and date parsing: equal to the reference, or handed over."""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import polars as pl
import pytest

import liucheng.history._xes_fast as fast_mod
from liucheng.history import EventLogError, parse_timestamps, read_log
from tests.history._pm4py import LOGS, log_path
from tests.history.test_io_xes_fast import _fast, _lxml, _same

DATES = [
    "2011-10-01T00:38:44.546+02:00",
    "2011-10-01T00:38:44.5-02:30",
    "2011-10-01T00:38:44.123456789Z",
    "2011-10-01T00:38:44.000Z",
    "2011-10-01T00:38:44Z",
    "2011-10-01T00:38:44+0100",
    "2011-10-01T00:38:44",
    "2011-10-01T00:38:44.25",
    "2011-10-01T00:38:44 ",
    "2011-12-31T23:59:60",  # a leap second
    "2011-12-31T23:59:60.500+01:00",
    "2012-02-29T12:00:00.001+14:00",
    None,
]


def test_fast_dates_equal_the_reference_parser() -> None:
    text = pl.Series("time:timestamp", DATES * 3, dtype=pl.Utf8)
    got = fast_mod.fast_dates(text, parse_timestamps)
    assert got is not None
    want = parse_timestamps(text)
    assert got.dtype == want.dtype and got.name == want.name
    assert got.equals(want, null_equal=True)
    assert got[1] == want[1] and got.null_count() == 3


@pytest.mark.parametrize(
    "values",
    [
        ["2011-10-01T00:38:44Z", ""],  # blank: the reference takes it as null
        ["2011-10-01 00:38:44Z"],  # another head: the reference tries its other formats
        ["2011-02-30T00:00:00Z"],  # no such day
        ["2011-10-01T00:38:44 yesterday"],  # a tail that is no date ending
        [" 2011-10-01T00:38:44Z"],
        [None, None],
    ],
)
def test_fast_dates_hand_over(values: list[str | None]) -> None:
    assert fast_mod.fast_dates(pl.Series(values, dtype=pl.Utf8), parse_timestamps) is None


def test_fast_dates_hand_over_past_too_many_tails(monkeypatch: pytest.MonkeyPatch) -> None:
    text = pl.Series(["2011-10-01T00:38:44.1Z", "2011-10-01T00:38:44.2Z"])
    assert fast_mod.fast_dates(text, parse_timestamps) is not None
    monkeypatch.setattr(fast_mod, "_MAX_TAILS", 1)
    assert fast_mod.fast_dates(text, parse_timestamps) is None


def _log_text() -> bytes:
    return log_path("running-example.xes").read_bytes()


@pytest.mark.parametrize("name", [n for n in LOGS if n.endswith(".gz")])
def test_gzip_and_plain_give_equal_frames(name: str, tmp_path: Path) -> None:
    gz = log_path(name)
    plain = tmp_path / name.removesuffix(".gz")
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    from_gz, from_plain = _fast(gz), _fast(plain)
    assert from_gz is not None and from_plain is not None
    _same(from_gz, from_plain)


def test_gzip_members_and_small_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _log_text()
    cut = len(text) // 3
    p = tmp_path / "members.xes.gz"
    # Three members, as concatenated gzip files are: one stream to the gzip module.
    p.write_bytes(
        b"".join(gzip.compress(x) for x in (text[:cut], text[cut : 2 * cut], text[cut * 2 :]))
    )
    want = _lxml(p, monkeypatch)
    for raw, block in ((1 << 20, 1 << 20), (7, 64)):
        monkeypatch.setattr(fast_mod, "_RAW_BLOCK", raw)
        monkeypatch.setattr(fast_mod, "_BLOCK", block)
        got = _fast(p)
        assert got is not None
        _same(got, want)


def test_zlib_inflates_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    data = gzip.compress(_log_text()) + gzip.compress(b"tail\n")
    fast = b"".join(fast_mod._gunzip(io.BytesIO(data)))
    monkeypatch.setattr(fast_mod, "_inflate", zlib)
    assert b"".join(fast_mod._gunzip(io.BytesIO(data))) == fast == _log_text() + b"tail\n"


def test_zero_padding_is_left_to_the_gzip_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "padded.xes.gz"
    p.write_bytes(gzip.compress(_log_text()) + b"\0" * 16)
    assert _fast(p) is None
    _same(read_log(p), _lxml(p, monkeypatch))


@pytest.mark.parametrize("damage", ["truncated", "checksum", "garbage after"])
def test_damaged_gzip_is_reported_by_the_lxml_reader(damage: str, tmp_path: Path) -> None:
    data = bytearray(gzip.compress(_log_text()))
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "checksum":
        data[-6] ^= 0xFF  # the CRC-32 in the trailer
    else:
        data += b"not gzip"
    p = tmp_path / "damaged.xes.gz"
    p.write_bytes(bytes(data))
    assert _fast(p) is None
    with pytest.raises(EventLogError) as info:
        read_log(p)
    assert info.value.file == str(p)


@pytest.mark.parametrize("name", ["running-example.xes", "repairExample.xes.gz"])
def test_lookup_tables_and_their_fallbacks_agree(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Category ids past the table sizes take the hash lookups: the same frame.
    path = log_path(name)
    want = _fast(path)
    assert want is not None
    monkeypatch.setattr(fast_mod, "_LUT_MAX", 0)
    monkeypatch.setattr(fast_mod, "_SHAPE_IDS", 1)
    got = _fast(path)
    assert got is not None
    _same(got, want)
