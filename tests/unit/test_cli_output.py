"""The CLI's building blocks: JSON encoding, text and CSV renderers, error reports, params."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st
from partnership_ledger_cli import output
from partnership_ledger_cli.errors import (
    EXIT_INTERRUPTED,
    CommandFailed,
    failure_from,
)
from partnership_ledger_cli.output import Output
from partnership_ledger_cli.params import IsoDate, Timestamp
from partnership_ledger_cli.rendering import (
    Column,
    cell_text,
    csv_text,
    plain_table,
    safe_text,
    to_json,
    tree_lines,
)
from rich.cells import cell_len

from partnership_ledger import Money
from partnership_ledger.errors import JournalError, JournalProblem, UnknownKey

# -- JSON -----------------------------------------------------------------------------------


def test_json_writes_decimals_as_plain_strings_and_dates_iso() -> None:
    value = {
        "amount": Decimal("1E+3"),
        "share": Decimal("0.000001"),
        "on": date(2009, 4, 1),
        "at": datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
        "money": Money(Decimal("8000000"), "JPY"),
        "name": "人形劇の森",
    }
    assert json.loads(to_json(value)) == {
        "amount": "1000",
        "share": "0.000001",
        "on": "2009-04-01",
        "at": "2024-05-01T09:30:00+00:00",
        "money": {"amount": "8000000", "currency": "JPY"},
        "name": "人形劇の森",
    }
    assert "人形劇の森" in to_json(value)  # not \\u-escaped


def test_json_refuses_what_it_does_not_know() -> None:
    with pytest.raises(TypeError):
        to_json({"x": object()})


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_json_decimals_round_trip_exactly(value: Decimal) -> None:
    text = json.loads(to_json({"v": value}))["v"]
    assert isinstance(text, str)
    assert Decimal(text) == value
    assert "E" not in text.upper()


# -- text -----------------------------------------------------------------------------------


def test_cells() -> None:
    assert cell_text(None) == ""
    assert cell_text(True) == "yes"
    assert cell_text({"amount": Decimal("85000000000"), "currency": "JPY"}) == "85,000,000,000 JPY"
    assert cell_text(["a", "b"]) == "a, b"
    assert cell_text({"a": Decimal("0.4")}) == "a=0.4"


def test_control_characters_cannot_reach_the_terminal() -> None:
    assert safe_text("ok\x1b[31mred") == "ok\\x1b[31mred"
    assert safe_text("a\nb\tc") == "a b c"
    japanese = "福島県　人形劇"  # with an ideographic space (U+3000)
    assert safe_text(japanese) == japanese
    assert cell_text("\x9b2J") == "\\x9b2J"


def column_starts(line: str) -> list[int]:
    """The display column where each cell (a run of non-spaces) of a line starts."""
    return [cell_len(line[: m.start()]) for m in re.finditer(r"\S+", line)]


def test_plain_table_aligns_by_display_width() -> None:
    rows = [{"k": "npo-puppets", "n": "人形劇の森", "s": "npo"}, {"k": "a", "n": "A", "s": "x"}]
    cols = [Column("k", "key"), Column("n", "name"), Column("s", "sector")]
    lines = plain_table(rows, cols).splitlines()
    assert lines[0].split() == ["KEY", "NAME", "SECTOR"]
    assert {tuple(column_starts(line)) for line in lines} == {(0, 13, 25)}


words = st.text(alphabet=st.sampled_from("abcxyz019-_人形劇の森福島"), min_size=1, max_size=12)


@given(st.lists(st.lists(words, min_size=3, max_size=3), max_size=6))
def test_plain_table_columns_always_line_up(cells: list[list[str]]) -> None:
    cols = [Column("a", "a"), Column("b", "bb"), Column("c", "ccc")]
    rows = [dict(zip("abc", r, strict=True)) for r in cells]
    lines = plain_table(rows, cols).splitlines()
    assert len(lines) == len(rows) + 1
    starts = {tuple(column_starts(line)) for line in lines}
    assert len(starts) == 1
    widths = [max(cell_len(r[i]) for r in [["A", "BB", "CCC"], *cells]) for i in range(3)]
    assert starts == {(0, widths[0] + 2, widths[0] + widths[1] + 4)}


def test_tree_lines() -> None:
    lines = tree_lines(
        {
            "title": "t",
            "members": [{"party": "a", "role": None}, {"party": "b", "role": "lead"}],
            "shares": {"a": Decimal("0.5")},
            "tags": [],
            "cap": {"amount": Decimal("1000"), "currency": "JPY"},
        }
    )
    assert lines == [
        "title: t",
        "members:",
        "  - party: a",
        "    role: (none)",
        "  - party: b",
        "    role: lead",
        "shares:",
        "  a: 0.5",
        "tags: (none)",
        "cap: 1,000 JPY",
    ]


def test_csv_flattens_nested_fields() -> None:
    rows = [
        {
            "key": "a",
            "capacity": None,
            "members": ["x", "y"],
            "targets": [{"period": "2024", "value": Decimal("1.50")}],
        },
        {"key": "b", "capacity": {"amount": Decimal("5"), "currency": "JPY"}, "members": [], "targets": []},
    ]
    cols = [Column("key", "key"), Column("capacity", "capacity")]
    parsed = list(csv.reader(io.StringIO(csv_text(rows, cols))))
    assert parsed == [
        ["key", "capacity_amount", "capacity_currency", "members", "targets"],
        ["a", "", "", "x y", "2024=1.50"],  # no JSON in a cell
        ["b", "5", "JPY", "", ""],
    ]


@given(st.lists(st.fixed_dictionaries({"k": st.text(), "v": st.text()}), max_size=5))
def test_csv_round_trips_any_text(rows: list[dict[str, str]]) -> None:
    parsed = list(csv.DictReader(io.StringIO(csv_text(rows, [Column("k", "k")]), newline="")))
    # Text a spreadsheet would run as a formula is written with a leading "'" (OWASP), which
    # the spreadsheet reader takes off again.
    from partnership_ledger.spreadsheets.cells import unneutralise

    assert [{k: unneutralise(v) for k, v in p.items()} for p in parsed] == [{"k": r["k"], "v": r["v"]} for r in rows]


def test_rich_tables_on_a_terminal_never_read_markup(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(output, "stdout_is_terminal", lambda: True)
    Output("text").rows([{"k": "[bold]x[/bold]", "n": "人形劇"}], [Column("k", "key"), Column("n", "name")])
    printed = capsys.readouterr().out
    assert "[bold]x[/bold]" in printed
    assert "人形劇" in printed
    assert "KEY" in printed  # the same headers as in a pipe


def test_no_color_turns_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert output.color_enabled(Tty())
    assert not output.color_enabled(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not output.color_enabled(Tty())


def test_messages_are_only_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt, quiet in (("json", False), ("csv", False), ("text", True)):
        Output(fmt, quiet=quiet).message("hello")
    assert capsys.readouterr().out == ""
    Output("text").message("hello")
    assert capsys.readouterr().err == "hello\n"


# -- error reports ---------------------------------------------------------------------------


def shown(failure: CommandFailed) -> str:
    stream = io.StringIO()
    failure.show(stream)
    return stream.getvalue()


def test_ledger_errors_are_one_sentence_or_their_json() -> None:
    error = UnknownKey("there is nothing named x in the ledger")
    assert shown(failure_from(error, verbose=False, as_json=False)) == (
        "error: there is nothing named x in the ledger\n"
    )
    as_json = json.loads(shown(failure_from(error, verbose=False, as_json=True)))
    assert as_json == {"error": error.to_dict()}


def test_journal_errors_list_every_problem_when_verbose() -> None:
    problems = [
        JournalProblem("is missing", 2, "pledge", "party", "missing_field"),
        JournalProblem("must be one of ...", 5, "register_party", "sector", "invalid_field"),
    ]
    error = JournalError(problems, "j.json")
    quiet = shown(failure_from(error, verbose=False, as_json=False)).splitlines()
    assert quiet == [f"error: {error.message}"]
    single = JournalError(problems[:1], "j.json")  # one problem: its sentence says it all
    assert shown(failure_from(single, verbose=True, as_json=False)).splitlines() == [f"error: {single.message}"]
    loud = shown(failure_from(error, verbose=True, as_json=False)).splitlines()
    assert loud[1:] == [
        "  operation 2 (pledge) field 'party': is missing",
        "  operation 5 (register_party) field 'sector': must be one of ...",
    ]


@pytest.mark.parametrize(
    ("exc", "code", "kind", "sentence"),
    [
        (KeyboardInterrupt(), EXIT_INTERRUPTED, "interrupted", "interrupted"),
        (
            FileNotFoundError(2, "No such file or directory", "x.json"),
            1,
            "os_error",
            "x.json: No such file or directory",
        ),
        (
            sqlite3.DatabaseError("file is not a database"),
            1,
            "database_error",
            "the ledger's database failed: file is not a database",
        ),
        (ValueError("odd"), 1, "internal_error", "internal error: ValueError: odd"),
        (
            UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed"),
            1,
            "invalid_argument",
            "a value given on the command line holds bytes that are not UTF-8 text",
        ),
        (sqlite3.OperationalError("database is locked"), 1, "locked", "the ledger is locked by another process"),
    ],
)
def test_other_failures(exc: BaseException, code: int, kind: str, sentence: str) -> None:
    failure = failure_from(exc, verbose=False, as_json=False)
    assert failure.exit_code == code
    assert failure.payload["kind"] == kind
    assert failure.message.startswith(sentence)
    assert "Traceback" not in shown(failure)


# -- parameters -----------------------------------------------------------------------------


def test_iso_dates() -> None:
    assert IsoDate().convert("2009-04-01", None, None) == date(2009, 4, 1)
    for bad in ("2009-4-1", "20090401", "2009-02-30", "soon"):
        with pytest.raises(click.BadParameter):
            IsoDate().convert(bad, None, None)


def test_timestamps_are_utc() -> None:
    since, until = Timestamp(), Timestamp(end_of_day=True)
    assert since.convert("2024-05-01", None, None) == datetime(2024, 5, 1, tzinfo=UTC)
    end = until.convert("2024-05-01", None, None)
    assert end.date() == date(2024, 5, 1)
    assert end + timedelta(microseconds=1) == datetime(2024, 5, 2, tzinfo=UTC)
    naive = since.convert("2024-05-01T09:30", None, None)
    assert naive == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    tokyo = since.convert("2024-05-01T09:30+09:00", None, None)
    assert tokyo == datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
    assert tokyo.tzinfo == UTC
    with pytest.raises(click.BadParameter):
        since.convert("yesterday", None, None)
