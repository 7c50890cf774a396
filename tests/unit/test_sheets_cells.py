"""Cells to journal values: what a clerk types is normalised when the meaning is sure, and
refused when it may have changed (an inexact float); text round-trips through CSV's guard
against formulas."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partnership_ledger import journal
from partnership_ledger.spreadsheets import columns_of, sheet_ops
from partnership_ledger.spreadsheets.cells import (
    CellError,
    needs_neutralising,
    neutralise,
    read_cell,
    unneutralise,
)
from partnership_ledger.spreadsheets.columns import Kind

AMOUNT = Kind("decimal")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1000000", "1000000"),
        ("1,000,000", "1000000"),
        ("１，０００，０００", "1000000"),
        ("1,000,000円", "1000000"),
        ("¥1,000,000", "1000000"),
        ("▲250,000", "-250000"),
        ("-250000", "-250000"),
        (" 12.50 ", "12.50"),
        (1000000, "1000000"),
        (1500000000000.0, "1500000000000"),
        (0.4, "0.4"),
        (1234.56, "1234.56"),
        ("'1000", "1000"),
    ],
)
def test_amounts_are_normalised(cell: object, expected: str) -> None:
    assert read_cell(cell, AMOUNT) == expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (1234.5600000001, "1234.5600000001 is not an exact amount: format the column as text"),
        (0.30000000000000004, "0.30000000000000004 is not an exact amount"),
        (0.1 + 0.7, "0.7999999999999999 is not an exact amount"),
        ("1,00,000", "'1,00,000' is not an amount"),
        ("12万", "'12万' is not an amount"),
        (True, "TRUE is not an amount"),
        (datetime(2008, 4, 1), "2008-04-01 is a date, not an amount"),
        (float("nan"), "nan is not an amount"),
    ],
)
def test_inexact_or_unreadable_amounts_are_refused(cell: object, message: str) -> None:
    with pytest.raises(CellError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_cell(cell, AMOUNT)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (datetime(2008, 4, 15), "2008-04-15"),
        (date(2008, 4, 15), "2008-04-15"),
        ("2008-04-15", "2008-04-15"),
        ("2008/4/15", "2008-04-15"),
        ("２００８／４／１５", "2008-04-15"),
        ("2008年4月15日", "2008-04-15"),
        (39553, "2008-04-15"),  # an Excel serial number in a cell not formatted as a date
        ("April", "April"),  # left for the journal to refuse in its own words
    ],
)
def test_dates(cell: object, expected: str) -> None:
    assert read_cell(cell, Kind("date")) == expected


def test_a_date_with_a_time_of_day_is_refused() -> None:
    with pytest.raises(CellError, match="has a time of day"):
        read_cell(datetime(2008, 4, 15, 9, 30), Kind("date"))


def test_lists_maps_and_json() -> None:
    assert read_cell("npo-a; pref-b、city-c", Kind("keys")) == ["npo-a", "pref-b", "city-c"]
    assert read_cell('["a;b", "c"]', Kind("texts")) == ["a;b", "c"]
    votes = Kind("map", item="enum", choices=("for", "against", "abstain"))
    assert read_cell("npo-a=for; pref-b = against", votes) == {"npo-a": "for", "pref-b": "against"}
    assert read_cell("npo-a=10,000,000 JPY", Kind("map", item="money")) == {
        "npo-a": {"amount": "10000000", "currency": "JPY"}
    }
    assert read_cell("npo-a=0.4; pref-b=0.6", Kind("map", item="decimal")) == {"npo-a": "0.4", "pref-b": "0.6"}
    assert read_cell("2008=3,000; 2009=6000", Kind("period_values")) == [
        {"period": "2008", "value": "3000"},
        {"period": "2009", "value": "6000"},
    ]
    with pytest.raises(CellError, match="names 'a' twice"):
        read_cell("a=1; a=2", Kind("map", item="integer"))


def test_numbers_in_text_and_label_columns_read_as_typed() -> None:
    assert read_cell(2008, Kind("label")) == "2008"
    assert read_cell(2008.0, Kind("text")) == "2008"
    assert read_cell("  keep my spaces ", Kind("text")) == "  keep my spaces "
    assert read_cell(" npo-a ", Kind("key")) == "npo-a"
    assert read_cell("jpy", Kind("currency")) == "JPY"
    assert read_cell("はい", Kind("boolean")) is True
    assert read_cell("FALSE", Kind("boolean")) is False
    assert read_cell(2008.0, Kind("integer")) == 2008
    assert read_cell("平成21年度", Kind("integer")) == 2009
    assert read_cell("令和元年", Kind("integer")) == 2019


@given(st.text())
def test_neutralised_text_reads_back_and_never_starts_a_formula(text: str) -> None:
    written = neutralise(text)
    assert unneutralise(written) == text
    assert not needs_neutralising(written) or written.startswith("'")
    if written[:1] in ("=", "+", "@", "\t", "\r"):
        pytest.fail(f"{written!r} would run as a formula")


@pytest.mark.parametrize("number", ["-250000", "-0.05", "+1"])
def test_numbers_are_not_neutralised_but_minus_words_are(number: str) -> None:
    assert neutralise("-1+cmd|' /C calc'!A0") == "'-1+cmd|' /C calc'!A0"
    if number == "+1":
        assert neutralise(number) == "'+1"
    else:
        assert neutralise(number) == number


def test_every_op_of_the_journal_has_a_sheet_and_its_fields_columns() -> None:
    assert set(sheet_ops()) == set(journal.OPS)
    for op in sheet_ops():
        headers = [c.header for c in columns_of(op)]
        fields = {c.field for c in columns_of(op)}
        assert fields == set(journal.OPS[op]) | {"by", "note", "id", "seq"}
        assert len(headers) == len(set(headers))
    assert [c.header for c in columns_of("deliver")][:4] == ["contribution", "value/amount", "value/currency", "on"]
    kinds = {c.header: c.kind.name for c in columns_of("register_party")}
    assert kinds["identifiers"] == "texts"  # JP-JCN-7000020070009; GB-CHC-1234567
    assert kinds["area"] == "key"


def test_an_op_the_journal_adds_appears_with_its_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    def area(value: object) -> object:  # a parser this module has never seen
        return value

    spec = {"party": (journal.key, journal.REQ), "area": (area, journal.OPT), "on": (journal.a_date, journal.REQ)}
    monkeypatch.setitem(journal.OPS, "relocate_party", spec)
    assert sheet_ops()[-1] == "relocate_party"
    kinds = {c.header: c.kind.name for c in columns_of("relocate_party")}
    assert kinds == {
        "party": "key",
        "area": "json",
        "on": "date",
        "by": "text",
        "note": "text",
        "id": "key",
        "seq": "integer",
    }


def test_more_rows_than_a_sheet_holds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from partnership_ledger.errors import StorageError
    from partnership_ledger.spreadsheets import writing

    monkeypatch.setattr(writing, "MAX_SHEET_ROWS", 3)  # a sheet of a header and two rows
    parties = [{"op": "register_party", "key": f"k{i}", "name": "n", "sector": "npo"} for i in range(3)]
    writing.write_workbook(io.BytesIO(), parties[:2], numbered=True)
    with pytest.raises(StorageError, match="more than a sheet holds"):
        writing.write_workbook(io.BytesIO(), parties, numbered=True)
