"""The journal's quick paths give what its full checks give.

Field parsers keep the values they found good, and look them up next time; text, money and
objects without a repeated name have a shortcut; an array is read a value at a time with
the decoder's own scanner. Each answer (value or message) must be the full check's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Op, invalid_operations, json_values, operation_like, valid_journals

from partnership_ledger import journal
from partnership_ledger.domain.values import Money
from partnership_ledger.errors import JournalError
from partnership_ledger.journal import FieldError, Validator, iter_raw, journal_text, read_raw

PAIRS: list[tuple[Callable[[Any], Any], Callable[[Any], Any]]] = [
    (journal.key, journal._checked_key),
    (journal.text, journal._checked_text),
    (journal.decimal, journal._checked_decimal),
    (journal.a_date, journal._checked_date),
    (journal.money, journal._checked_money),
]


def outcome(parse: Callable[[Any], Any], value: Any) -> tuple[Any, ...]:
    try:
        result = parse(value)
    except FieldError as e:
        return ("error", str(e))
    return ("ok", type(result), result)


@pytest.fixture(autouse=True)
def forget() -> Iterator[None]:
    """Each test starts with nothing known, and leaves nothing known behind."""
    forget_known()
    yield
    forget_known()


def forget_known() -> None:
    for known in (journal._known_keys, journal._known_dates, journal._known_decimals, journal._known_moneys):
        known.clear()


KEYS = st.sampled_from(["c-000001", "party-000", "a", "A.b:c_d-e", "-x", "x y", "x\n", "é", "a" * 129, "a" * 128])
DATES = st.sampled_from(["2024-02-29", "2023-02-29", "1899-12-31", "2200-12-31", "2024-1-01", "2024-01-01\n"])
NUMBERS = st.sampled_from(
    ["100", "-5", " 7 ", "1.50", "0.0000000001", "0.00000000001", "1" * 30, "1" * 31, "1e3", "", "-", "٣"]
)
TEXTS = st.sampled_from(["ok", " ", "", "\t\n", "a\x00b", "a\x7f", "a\ud800", "tab\tand\nline", "x" * 20_001])
CURRENCIES = st.sampled_from(["JPY", "EUR", "jpy", "JP", "JPYY", ""])


def moneys() -> st.SearchStrategy[Any]:
    pieces = {"amount": NUMBERS | st.integers(-(10**31), 10**31) | json_values(2), "currency": CURRENCIES}
    usual = st.fixed_dictionaries(pieces)
    odd = st.fixed_dictionaries(pieces, optional={"extra": st.none(), "amount ": NUMBERS})
    short = st.dictionaries(st.sampled_from(["amount", "currency"]), NUMBERS | CURRENCIES, max_size=2)
    return usual | odd | short | st.builds(duplicated, usual)


def duplicated(obj: dict[str, Any]) -> dict[str, Any]:
    return journal._pairs([*obj.items(), ("currency", "JPY")])


values = st.one_of(KEYS, DATES, NUMBERS, TEXTS, CURRENCIES, moneys(), json_values(4), st.text(max_size=12))


@given(st.lists(values, max_size=12))
@settings(max_examples=400)
def test_a_quick_parser_answers_as_its_full_check_does(items: list[Any]) -> None:
    for quick, full in PAIRS:
        for value in items * 2:  # twice: the second time, what the first kept is used
            assert outcome(quick, value) == outcome(full, value), (quick.__name__, value)


def test_a_full_store_of_known_values_starts_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal, "_KNOWN_MAX", 3)
    for n in range(10):
        assert journal.key(f"k{n}") == f"k{n}"
        assert journal.decimal(str(n)) == n
        assert len(journal._known_keys) <= 3
        assert len(journal._known_decimals) <= 3
    with pytest.raises(FieldError, match="must be a key"):
        journal.key("k 1")
    monkeypatch.setattr(journal, "_KNOWN_CURRENCIES", 2)
    for currency in ("JPY", "EUR", "USD"):
        for n in range(10):
            money = {"amount": str(n), "currency": currency}
            assert journal.money(money) == journal.money(money) == Money(Decimal(n), currency)
    assert list(journal._known_moneys) == ["JPY", "EUR"]
    assert all(len(known) <= 3 for known in journal._known_moneys.values())


def test_an_enum_field_gives_the_member_or_the_full_message() -> None:
    parse = journal.enum_of(journal.Vote)
    assert parse("for") is journal.Vote.FOR
    for bad in ("For", None, 1, ["for"]):
        with pytest.raises(FieldError, match="must be one of for, against, abstain"):
            parse(bad)


def report(raws: list[Any]) -> tuple[Any, ...]:
    validator = Validator()
    ops = [validator.add(raw) for raw in raws]
    error = validator.error("j")
    return (
        [op if op is None else (op.op, op.fields, op.meta, op.index) for op in ops],
        None if error is None else (str(error), [p.to_dict() for p in error.problems]),
    )


@given(
    st.lists(
        st.one_of(
            operation_like(),
            invalid_operations(),
            valid_journals(max_ops=4).flatmap(lambda ops: st.sampled_from(ops)),
        ),
        max_size=12,
    )
)
@settings(max_examples=150, deadline=None)
def test_validating_with_values_known_gives_what_validating_afresh_gives(raws: list[Op]) -> None:
    forget_known()
    afresh = report(raws)
    assert report(raws) == afresh  # everything known now
    forget_known()
    assert report(raws) == afresh


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


@given(
    st.one_of(
        operation_like(),
        invalid_operations(),
        valid_journals(max_ops=4).flatmap(lambda ops: st.sampled_from(ops)),
        st.builds(lambda op, meta: {**op, **meta}, operation_like(), st.fixed_dictionaries({}, optional={"by": TEXTS})),
    )
)
@settings(max_examples=400, deadline=None)
def test_an_operations_quick_check_gives_its_full_checks_fields_or_leaves_it_to_it(raw: Op) -> None:
    name, fields, meta, problems = journal._check(raw, 0)
    quick = journal._QUICK_CHECKS.get(raw.get("op"))  # type: ignore[arg-type]
    found = quick(raw) if quick is not None else None
    if found is not None:
        assert not problems
        assert meta == {"by": None, "note": None, "id": None}
        assert list(found.items()) == list(fields.items())  # the same values, in the same order
    elif not problems and quick is not None and set(raw) <= set(journal.OPS[name]) | {"op"}:
        pytest.fail("a good operation without metadata went the long way")


def test_a_quick_check_refuses_a_known_value_its_field_does_not_take() -> None:
    # Money, keys and dates already known good for another field: the operation's own checks
    # (more than zero, a key, a year) still apply, and the full check says what is wrong.
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
    _, errors = report([register, deliver, pledge, {**deliver, "on": "2024-02-30"}])
    assert errors is not None
    assert [(p["index"], p["field"]) for p in errors[1]] == [(1, "value"), (2, "fiscal_year"), (3, "value"), (3, "on")]
    assert journal._QUICK_CHECKS["deliver"](deliver) is None
    assert journal._QUICK_CHECKS["register_party"](register) == {
        "key": "p",
        "name": "P",
        "sector": journal.Sector.NPO,
        "capacity": Money(Decimal(0), "JPY"),
    }
