"""The orjson transcoder writes the very bytes eventsourcing's ``JSONTranscoder`` writes: the
stored bytes are what the hash chain covers (and ledgers written before hold them)."""

from __future__ import annotations

import enum
import json
import math
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding, TranscodingNotRegisteredError
from hypothesis import given
from hypothesis import strategies as st
from strategies import event_values

from partnership_ledger.domain.values import ENUMS, Money, OpMeta
from partnership_ledger.snapshots import register_snapshot_transcodings
from partnership_ledger.storage.transcodings import OrjsonTranscoder, register_transcodings


def _registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    Application.register_transcodings(Application, transcoder)  # type: ignore[arg-type]
    register_transcodings(transcoder)
    register_snapshot_transcodings(transcoder)
    return transcoder


PLAIN = _registered(JSONTranscoder())
FAST = _registered(OrjsonTranscoder())


class Word(str):
    """A subclass of a JSON type: json writes it as the text it is."""


class Level(enum.IntEnum):
    LOW = 1


texts = st.text(max_size=12)
values = event_values()
odd = st.one_of(
    st.floats(),  # json and orjson write floats differently: json's bytes are kept
    st.integers(min_value=2**63, max_value=2**70) | st.integers(max_value=-(2**63), min_value=-(2**70)),
    texts.map(Word),
    st.just(Level.LOW),
    st.tuples(st.integers(), texts),
)


def _same_both_ways(state: Any) -> None:
    assert FAST.encode(state) == PLAIN.encode(state)


@given(st.dictionaries(texts, values, max_size=8))
def test_the_same_bytes_as_the_json_transcoder(state: dict[str, Any]) -> None:
    _same_both_ways(state)
    assert FAST.decode(FAST.encode(state)) == state


@given(st.dictionaries(texts, st.one_of(values, odd), max_size=6))
def test_values_orjson_would_write_otherwise_are_written_as_json_writes_them(state: dict[str, Any]) -> None:
    _same_both_ways(state)


def test_every_code_point_is_escaped_as_json_escapes_it() -> None:
    # All of Unicode but the surrogates, in pieces: control characters, quotes and
    # backslashes, DEL, U+2028/9, astral planes.
    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for start in range(0, len(points), 4096):
        text = "".join(map(chr, points[start : start + 4096]))
        _same_both_ways({"text": text, text[:50]: [text[-50:]]})


@pytest.mark.parametrize("number", [1e16, 1e22, 1e-7, 5e-324, -0.0, math.nan, math.inf, -math.inf])
def test_floats_are_written_as_json_writes_them(number: float) -> None:
    _same_both_ways({"a": number, "b": [number], "c": Money(Decimal(1), "JPY")})


def test_a_registered_subclass_of_a_json_type_is_written_as_json_writes_it() -> None:
    # json writes a subclass of str as text, never asking its transcoding.
    class WordAsUpper(Transcoding):
        type = Word
        name = "word"

        def encode(self, obj: Word) -> str:
            return obj.upper()

        def decode(self, data: str) -> Word:
            return Word(data)

    plain, fast = _registered(JSONTranscoder()), _registered(OrjsonTranscoder())
    for transcoder in (plain, fast):
        transcoder.register(WordAsUpper())
    state = {"w": Word("quiet"), "m": Money(Decimal(1), "JPY")}
    money = b'{"_type_":"money","_data_":{"amount":{"_type_":"decimal_str","_data_":"1"},"currency":"JPY"}}'
    assert fast.encode(state) == plain.encode(state) == b'{"w":"quiet","m":' + money + b"}"


def test_keys_that_are_not_text_are_written_as_json_writes_them() -> None:
    _same_both_ways({"scores": {1: 2, None: 3, False: 4, 2.5: 5}})


def test_an_unregistered_type_is_refused_as_the_json_transcoder_refuses_it() -> None:
    for transcoder in (PLAIN, FAST):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.encode({"a": {1, 2}})


def test_a_lone_surrogate_cannot_be_stored_either_way() -> None:
    for transcoder in (PLAIN, FAST):
        with pytest.raises(UnicodeEncodeError):
            transcoder.encode({"a": "\ud800"})


def test_an_events_state_as_stored() -> None:
    state = {
        "timestamp": datetime(2024, 4, 1, 9, 30, 0, 123, tzinfo=UTC),
        "value": Money(Decimal("1.50"), "JPY"),
        "on": date(2024, 4, 1),
        "kind": ENUMS[0]("npo"),
        "id": uuid.UUID(int=5),
        "meta": OpMeta("a" * 32 + "-0", None, "ノート"),
        "ratio": math.pi,
    }
    assert FAST.encode(state) == PLAIN.encode(state)
    assert FAST.decode(PLAIN.encode(state)) == state


# -- reading: orjson gives exactly what JSONTranscoder.decode gives ---------------------------


def _outcome(transcoder: JSONTranscoder, data: bytes) -> tuple[str, str]:
    """What decoding ``data`` gives, as text that tells types apart (1, 1.0 and True; -0.0 and
    0.0; NaN equals itself), or the error it raises."""
    try:
        return "value", repr(transcoder.decode(data))
    except Exception as e:
        return type(e).__name__, str(e)


def _reads_the_same(data: bytes) -> None:
    assert _outcome(FAST, data) == _outcome(PLAIN, data)


@given(st.dictionaries(texts, st.one_of(values, odd), max_size=6))
def test_stored_states_are_read_as_the_json_transcoder_reads_them(state: dict[str, Any]) -> None:
    _reads_the_same(PLAIN.encode(state))


#: Any JSON, with tagged objects among it: registered names (given data of any shape), a name
#: not registered, names that are not text, and extra keys beside the tags.
_names = st.sampled_from([*sorted(PLAIN.names), "unknown"]) | st.integers() | st.none()
json_trees = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(texts, inner, max_size=3),
        st.builds(lambda name, data: {"_type_": name, "_data_": data}, _names, inner),
        st.builds(lambda name, data, extra: {"_type_": name, "_data_": data, "x": extra}, _names, inner, inner),
    ),
    max_leaves=12,
)


@given(json_trees, st.booleans())
def test_any_json_is_read_as_the_json_transcoder_reads_it(tree: Any, ascii_only: bool) -> None:
    _reads_the_same(json.dumps(tree, ensure_ascii=ascii_only).encode())


@pytest.mark.parametrize(
    "data",
    [
        b'{"n":123456789012345678901234567890,"m":-9223372036854775809,"k":18446744073709551616}',
        b'{"a":[9223372036854775807,-9223372036854775808]}',
        b'{"a":1e400,"b":-1e400}',
        b'{"a":NaN,"b":Infinity,"c":-Infinity}',
        b'{"a":0.1,"b":-0.0,"c":1E5,"d":5e-324,"e":1.0000000000000002}',
        b'{"a":"\\ud800","b":"\\udc00x"}',
        b'{"a":"\\ud83d\\ude00","b":"\\u2028\\u0000","c":"\xe3\x83\x8e\xf0\x9f\x98\x80"}',
        b'{"a":1,"a":2}',
        b'{"a":"\xff"}',
        b'{"a":1} x',
        b'{"_type_":"date_iso","_data_":"2024-04-01"}',
        b'[{"_type_":"money","_data_":{"amount":{"_type_":"decimal_str","_data_":"1.50"},"currency":"JPY"}}]',
        b'{"t":{"_type_":"terms","_data_":{"start":{"_type_":"date_iso","_data_":"2024-04-01"},"end":null,'
        b'"shares":{"a":{"_type_":"decimal_str","_data_":"0.5"}},"annual_caps":{},"max_years":null,'
        b'"fiscal_year_start":4}}}',
        b'{"_type_":"nope","_data_":1}',
        b'{"_type_":{"_type_":"date_iso","_data_":"2024-04-01"},"_data_":1}',
        b'{"_type_":"date_iso","_data_":1.5}',
        b'{"_type_":"decimal_str","_data_":"1.5","x":1}',
        b'{"_data_":"1.5","_type_":"decimal_str"}',
        b'{"a":' + b"[" * 2000 + b"]" * 2000 + b"}",
    ],
)
def test_edge_cases_are_read_as_the_json_transcoder_reads_them(data: bytes) -> None:
    _reads_the_same(data)
