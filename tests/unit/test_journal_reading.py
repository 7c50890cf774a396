"""Reading a journal a chunk at a time, as ``json.loads`` reads it whole; names given twice; enum fields."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import json_values

from partnership_ledger import journal
from partnership_ledger.domain.values import Money, Sector, Vote
from partnership_ledger.errors import JournalError
from partnership_ledger.journal import FieldError, Validator, iter_raw
from partnership_ledger.journal.fields import DuplicateKeys
from partnership_ledger.journal.readers import loads


def test_an_enum_field_gives_the_member_or_the_full_message() -> None:
    parse = journal.enum_of(Vote)
    assert parse("for") is Vote.FOR
    for bad in ("For", None, 1, ["for"]):
        with pytest.raises(FieldError, match="must be one of for, against, abstain"):
            parse(bad)


@given(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 3)), max_size=8))
def test_an_object_with_a_name_twice_is_marked(pairs: list[tuple[str, int]]) -> None:
    text = "{" + ", ".join(f'"{k}": {v}' for k, v in pairs) + "}"
    made = loads(text)
    assert made == dict(pairs)
    names = [k for k, _ in pairs]
    repeats = [k for i, k in enumerate(names) if k in names[:i]]
    assert isinstance(made, DuplicateKeys) == bool(repeats)
    assert getattr(made, "duplicates", []) == repeats


SPACES = st.sampled_from(["", " ", "\n", "\r\n\t ", "  "])


def outcome(read: Callable[[], list[Any]]) -> Any:
    """What reading gives: the values (markers as their text), or the error's words."""
    try:
        return ("ok", json.dumps(read(), default=lambda v: ("marker", type(v).__name__, v.text)))
    except JournalError as e:
        return ("error", str(e))


def whole(text: str) -> Any:
    """What ``json.loads`` says of the whole text, in the reader's terms."""
    try:
        value = loads(text)
    except json.JSONDecodeError as e:
        line, column = e.lineno, e.colno
        msg = e.msg[: -len(" at")] + " there" if e.msg.endswith(" at") else e.msg
        return ("error", f"j: is not valid JSON at line {line}, column {column}: {msg}")
    assert isinstance(value, list)
    return ("ok", json.dumps(value, default=lambda v: ("marker", type(v).__name__, v.text)))


@given(
    st.lists(json_values(3), max_size=6),
    st.lists(SPACES, min_size=40, max_size=40),
    st.sampled_from(["", ",", "x", " ]", "[", '{"a": ', "1 2"]),
    st.integers(0, 12),
    st.sampled_from([1, 2, 3, 7, 64, 1 << 20]),
)
@settings(max_examples=200)
def test_an_array_read_a_chunk_at_a_time_reads_as_json_loads_reads_it_whole(
    items: list[Any], spaces: list[str], fault: str, where: int, chunk: int
) -> None:
    gaps = iter(spaces)
    text = next(gaps) + "[" + next(gaps)
    text += ("," + next(gaps)).join(json.dumps(item, ensure_ascii=False) + next(gaps) for item in items)
    text += "]" + next(gaps)
    opening = text.index("[") + 1  # a fault before it would make JSON Lines of the text
    cut = min(opening + where, len(text) - 1) if fault else len(text)
    text = text[:cut] + fault + text[cut:]
    expected = whole(text)
    assert outcome(lambda: list(iter_raw(text, "j", chunk_size=chunk))) == expected
    data = text.encode("utf-8")  # bytes: a character may be cut between two chunks
    assert outcome(lambda: list(iter_raw(data, "j", chunk_size=chunk))) == expected


@given(st.lists(st.dictionaries(st.text(max_size=3), json_values(2), max_size=3), max_size=8), st.integers(1, 9))
def test_json_lines_read_a_chunk_at_a_time_are_read_line_by_line(values: list[Any], chunk: int) -> None:
    text = "\n".join(json.dumps(v, ensure_ascii=False) for v in values) + "\r\n\n"
    if not values:
        return
    lines = [loads(json.dumps(v, ensure_ascii=False)) for v in values]
    read = list(iter_raw(text.encode("utf-8"), "j", chunk_size=chunk))
    assert outcome(lambda: read) == outcome(lambda: lines)


def test_a_journal_is_read_as_it_is_consumed_not_whole(tmp_path: Any) -> None:
    op = {"op": "register_party", "key": "p", "name": "人形劇" * 60, "sector": "npo"}
    path = tmp_path / "big.json"
    lines = [json.dumps({**op, "key": f"p{i}"}, ensure_ascii=False) for i in range(20_000)]
    path.write_text("[\n" + ",\n".join(lines) + ",\n{broken", encoding="utf-8")
    size = path.stat().st_size
    reading = iter_raw(path, "big.json", chunk_size=1 << 16)
    # Lazily: the first operation comes before the end of the file (which is broken) is read.
    assert next(reading)["key"] == "p0"
    tracemalloc.start()
    try:
        keys: list[str] = []
        with pytest.raises(JournalError, match="at line 20002, column 2: Expecting property name"):
            keys.extend(raw["key"] for raw in reading)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert keys == [f"p{i}" for i in range(1, 20_000)]
    assert size > 10_000_000
    assert peak < 3_000_000  # a few chunks of text and the keys, never the journal (its text is 4x that)


def test_each_field_says_what_is_wrong_with_its_value() -> None:
    # Money, keys and dates good for one field: another field's own checks (more than zero,
    # a year) still apply, each problem named by its operation and field.
    register: dict[str, Any] = {"op": "register_party", "key": "p", "name": "P", "sector": "npo"}
    register["capacity"] = {"amount": "0", "currency": "JPY"}
    deliver = {"op": "deliver", "contribution": "c", "value": {"amount": "0", "currency": "JPY"}, "on": "2024-01-01"}
    pledge = {
        "op": "pledge",
        "key": "c",
        "partnership": "x",
        "party": "p",
        "kind": "money",
        "value": {"amount": "5", "currency": "JPY"},
        "fiscal_year": True,
    }
    validator = Validator()
    ops = [validator.add(raw) for raw in [register, deliver, pledge, {**deliver, "on": "2024-02-30"}]]
    error = validator.error("j")
    assert error is not None
    assert [(p.index, p.field) for p in error.problems] == [(1, "value"), (2, "fiscal_year"), (3, "value"), (3, "on")]
    assert ops[0] is not None
    assert ops[0].fields == {
        "key": "p",
        "name": "P",
        "sector": Sector.NPO,
        "capacity": Money(Decimal(0), "JPY"),
    }


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 20])
def test_a_byte_that_is_not_utf8_is_named_by_its_offset_and_operation(chunk: int) -> None:
    good = '{"op": "register_party", "key": "p1", "name": "人形劇の森", "sector": "npo"}'
    bad = '{"op": "register_party", "key": "p2", "name": "X", "sector": "npo"}'
    for opening, separator, closing in (("\ufeff[", ",\n", "]"), ("", "\n", "\n")):
        data = (opening + good + separator + bad + closing).encode("utf-8").replace(b'"X"', b'"\xe4\xba"')
        with pytest.raises(JournalError) as info:
            list(iter_raw(data, "j", chunk_size=chunk))
        (problem,) = info.value.problems
        assert (problem.index, problem.op, problem.field, problem.rule) == (1, "register_party", "name", "encoding")
        offset = data.index(b'\xe4\xba"')
        assert problem.message == f"is not valid UTF-8 (byte {offset})"
