"""Reading a journal: an array read a value at a time, names given twice, enum fields."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import json_values

from partnership_ledger import journal
from partnership_ledger.domain.values import Money
from partnership_ledger.errors import JournalError
from partnership_ledger.journal import FieldError, Validator, iter_raw, journal_text, read_raw


def test_an_enum_field_gives_the_member_or_the_full_message() -> None:
    parse = journal.enum_of(journal.Vote)
    assert parse("for") is journal.Vote.FOR
    for bad in ("For", None, 1, ["for"]):
        with pytest.raises(FieldError, match="must be one of for, against, abstain"):
            parse(bad)


@given(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 3)), max_size=8))
def test_an_object_with_a_name_twice_is_marked(pairs: list[tuple[str, int]]) -> None:
    made = journal._pairs(pairs)
    assert made == dict(pairs)
    names = [k for k, _ in pairs]
    repeats = [k for i, k in enumerate(names) if k in names[:i]]
    assert isinstance(made, journal._DuplicateKeys) == bool(repeats)
    assert getattr(made, "duplicates", []) == repeats


SPACES = st.sampled_from(["", " ", "\n", "\r\n\t ", "  "])


@given(st.lists(json_values(3), max_size=6), st.lists(SPACES, min_size=40, max_size=40), st.booleans())
@settings(max_examples=200)
def test_an_array_read_a_value_at_a_time_is_the_array_read_at_once(
    items: list[Any], spaces: list[str], break_it: bool
) -> None:
    gaps = iter(spaces)
    text = next(gaps) + "[" + next(gaps)
    text += ("," + next(gaps)).join(json.dumps(item) + next(gaps) for item in items)
    text += ("," if break_it and items else "") + "]" + next(gaps)

    def read(how: Callable[[], list[Any]]) -> Any:
        try:
            return ("ok", json.dumps(how(), default=lambda v: ("marker", type(v).__name__, v.text)))
        except JournalError as e:
            return ("error", str(e))

    assert read(lambda: list(iter_raw(journal_text(text, "j"), "j"))) == read(lambda: read_raw(text, "j"))


def test_each_field_says_what_is_wrong_with_its_value() -> None:
    # Money, keys and dates good for one field: another field's own checks (more than zero,
    # a year) still apply, each problem named by its operation and field.
    register = {"op": "register_party", "key": "p", "name": "P", "sector": "npo"}
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
        "sector": journal.Sector.NPO,
        "capacity": Money(Decimal(0), "JPY"),
    }
