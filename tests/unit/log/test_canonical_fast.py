"""The fast canonical check (C JSON codec) agrees with the reference RFC 8785 check on every
byte string, canonical or not: it may only ever accept what the reference accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ledger.log import canonical
from ledger.log.canonical import NotCanonicalJson, canonical_bytes, parse_canonical
from ledger.log.chain import Entry, MalformedEntry

SAFE = canonical.MAX_SAFE_INTEGER

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.sampled_from([SAFE, -SAFE, 10**15, 10**15 - 1])
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


def spellings(value: Any) -> list[bytes]:
    """The canonical bytes and the loose spellings other encoders write for ``value``."""
    out = [canonical_bytes(value)]
    for options in (
        {"ensure_ascii": True, "sort_keys": True, "separators": (",", ":")},
        {"ensure_ascii": False, "sort_keys": False, "separators": (",", ":")},
        {"ensure_ascii": False, "sort_keys": True, "separators": (", ", ": ")},
        {"ensure_ascii": False, "sort_keys": True, "separators": (",", ":")},
    ):
        try:
            out.append(json.dumps(value, **options).encode("utf-8"))  # type: ignore[arg-type]
        except UnicodeEncodeError:
            pass  # a lone surrogate: no UTF-8 spelling at all
    return out


def verdict(check: Any, data: bytes) -> object:
    try:
        return check(data)
    except NotCanonicalJson:
        return NotCanonicalJson


@pytest.fixture(params=["msgspec", "standard library"])
def codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each fast codec: msgspec's, and the standard library's that runs without it."""
    if request.param == "standard library":
        monkeypatch.setattr(canonical, "MSGSPEC_CODEC", None)
    else:
        assert canonical.MSGSPEC_CODEC is not None
    return str(request.param)


@given(value=json_values)
def test_the_fast_check_agrees_with_the_reference_on_every_spelling(value: Any) -> None:
    try:
        canonical_bytes(value)
    except (NotCanonicalJson, ValueError):
        return  # e.g. a lone surrogate: RFC 8785 has no spelling for it
    installed = canonical.MSGSPEC_CODEC
    assert installed is not None
    try:
        for codec in (installed, None):  # msgspec's, then the standard library's
            canonical.MSGSPEC_CODEC = codec
            for data in spellings(value):
                reference = verdict(canonical._parse_canonical_fully, data)
                assert verdict(parse_canonical, data) == reference
    finally:
        canonical.MSGSPEC_CODEC = installed


@pytest.mark.parametrize(
    "data",
    [
        # Keys sorted by code point, not by UTF-16 code unit as RFC 8785 sorts them.
        '{"\uff61":1,"\U0001f600":2}'.encode(),
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":-Infinity}',
        b'{"a":9007199254740992}',
        b'{"a":-9007199254740992}',
        b'{"a":1e3}',
        b'{"a":-0}',
        b'{"a":"\\ud800"}',
        b'{"a":"\\ud83d\\ude00"}',
        b'{"a":"\\u0041"}',
        b'{"a":"\\u007f"}',
        b'{"a":"\\u001F"}',
        b'{"a":"\\/"}',
        b'{"a":1,"a":1}',
        b' {"a":1}',
        b'{"a":1} ',
        b"",
    ],
)
@pytest.mark.usefixtures("codec")
def test_loose_spellings_are_refused_on_the_fast_path_too(data: bytes) -> None:
    with pytest.raises(NotCanonicalJson):
        parse_canonical(data)


@pytest.mark.parametrize(
    "data",
    [
        '{"\U0001f600":2,"\uff61":1}'.encode(),
        b'{"a":9007199254740991,"b":-9007199254740991}',
        b'{"a":"\\u001f\\b\\t"}',
        '{"a":"\u007f\u2028"}'.encode(),
        b'"text"',
        b"1234567890123456",
    ],
)
@pytest.mark.usefixtures("codec")
def test_canonical_bytes_outside_the_fast_path_are_still_accepted(data: bytes) -> None:
    assert canonical_bytes(parse_canonical(data)) == data


BODY = (
    b'{"actor":"a","kind":"k","payload":{},"prev_hash":"' + b"ab" * 32 + b'","seq":3,'
    b'"timestamp":"2026-11-28T23:18:20.123456Z","v":1}'
)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"prev_hash":"ab', b'"prev_hash":"AB'),
        (b'"prev_hash":"abab', b'"prev_hash":"ab a'),
        (b'"prev_hash":"abab', b'"prev_hash":"'),
        (b"2026-11-28T23:18:20.123456Z", b"2026-11-28T23:18:20.123Z"),
        (b"2026-11-28T23:18:20.123456Z", b"2026-11-28 23:18:20.123456Z"),
        (b"2026-11-28T23:18:20.123456Z", b"2026-11-28T23:18:20,123456Z"),
        (b"2026-11-28T23:18:20.123456Z", b"0999-11-28T23:18:20.123456Z"),
        (b"2026-11-28T23:18:20.123456Z", b"2026-11-28T23:18:20.12345+00"),
        (b"2026-11-28T23:18:20.123456Z", b"2026-02-30T23:18:20.123456Z"),
        (b"2026-11-28T23:18:20.123456Z", b"20261128T231820.1234567890Z"),
        (b'"seq":3', b'"seq":true'),
        (b'"v":1', b'"v":true'),
        (b'"v":1', b'"v":2'),
        (b'"payload":{}', b'"payload":[]'),
        (b'"timestamp":"2026-11-28T23:18:20.123456Z"', b'"timestamp":1'),
    ],
)
def test_entries_refuse_every_loose_spelling_of_their_fields(old: bytes, new: bytes) -> None:
    assert Entry.from_canonical(BODY).canonical_bytes() == BODY
    with pytest.raises(MalformedEntry):
        Entry.from_canonical(BODY.replace(old, new, 1))


@pytest.mark.usefixtures("codec")
def test_typical_entries_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: bytes) -> Any:
        raise AssertionError(f"the reference check ran for {data!r}")

    monkeypatch.setattr(canonical, "_parse_canonical_fully", refuse)
    assert Entry.from_canonical(BODY).seq == 3
    assert parse_canonical('{"n":-12,"name":"Côte d\'Ivoire"}'.encode()) == {
        "n": -12,
        "name": "Côte d'Ivoire",
    }


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-SAFE, SAFE)
        | st.text(st.characters(codec="utf-8"))
        | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.tuples(children, children)
            | st.dictionaries(st.text(max_size=4), children, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_canonical_bytes_are_the_reference_encoders_bytes(value: Any) -> None:
    assert canonical_bytes(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        {"\U0001f600": 1, "\uffff": 2, "a": 3},  # UTF-16 order differs from code point order
        {"k": '\U0001f600 \u2028 \x7f \x00 \x1f "\\ é'},
        ["\ud800"],  # a lone surrogate: no RFC 8785 encoding
    ],
)
def test_canonical_bytes_outside_the_fast_path_are_the_reference_encoders(value: Any) -> None:
    try:
        expected: bytes | type[Exception] = rfc8785.dumps(value)
    except Exception as exc:
        expected = type(exc)
    try:
        found: bytes | type[Exception] = canonical_bytes(value)
    except Exception as exc:
        found = type(exc)
    assert found == expected
