"""Command-line habits a clerk or an auditor brings from other tools (hledger, sqlite-utils):
global options after the command, whole keys in tables, one number style, CSV without JSON
in cells, summaries on stderr, and a second demo."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from cli_invoke import invoke
from partnership_ledger_cli import output
from partnership_ledger_cli.output import Column, Output


def test_db_after_the_command_gets_a_hint(demo_db: str) -> None:
    result = invoke(["history", "--db", demo_db])
    assert result.exit_code == 2
    assert "global options such as --db go before the command: partnership-ledger --db ... COMMAND" in result.stderr


def test_demo_twice_offers_force(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    assert invoke(["demo", "-o", str(folder)]).exit_code == 0
    again = invoke(["demo", "-o", str(folder)])
    assert again.exit_code == 1
    assert "demo --force" in again.stderr
    forced = invoke(["demo", "-o", str(folder), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "built the demo ledger" in forced.stderr
    assert forced.stdout == ""


def test_history_carries_amounts_and_shows_separators(demo_db: str) -> None:
    rows = json.loads(invoke(["history", "c-pref-2008", "--json"], db=demo_db).stdout)
    deliver = next(r for r in rows if r["op"] == "deliver")
    assert (deliver["amount"], deliver["currency"]) == ("8000000", "JPY")
    table = invoke(["history", "c-pref-2008"], db=demo_db).stdout
    assert "delivered 8,000,000 JPY" in table
    assert "8000000" not in table
    rows_csv = list(csv.DictReader(io.StringIO(invoke(["history", "c-board-2011", "--csv"], db=demo_db).stdout)))
    correction = next(r for r in rows_csv if r["op"] == "correct_contribution")
    assert (correction["amount"], correction["currency"]) == ("-150000", "JPY")


def test_targets_csv_has_no_json_in_cells(demo_db: str) -> None:
    text = invoke(["targets", "puppet-tour", "--csv"], db=demo_db).stdout
    assert "{" not in text
    assert "[" not in text
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["targets"].startswith("2008=3000; 2009=")


def test_show_and_diff_take_csv(demo_db: str) -> None:
    show = list(csv.DictReader(io.StringIO(invoke(["show", "c-pref-2008", "--csv"], db=demo_db).stdout)))
    assert show[0]["pledged_amount"] == "8000000"
    diff = invoke(["diff", "puppet-tour", "--from", "2000-01-01", "--to", "2100-01-01", "--csv"], db=demo_db)
    rows = list(csv.DictReader(io.StringIO(diff.stdout)))
    assert rows[0]["indicator"] == "total"
    assert rows[0]["changed"] == "true"


def test_shares_and_deviations_are_both_percentages_and_scores_have_two_places(demo_db: str) -> None:
    from decimal import Decimal

    from partnership_ledger_cli.indicator_cmds import BALANCE_COLUMNS

    formats = {c.field: c.format for c in BALANCE_COLUMNS}
    assert formats["share"](Decimal("0.465")) == "46.5%"
    assert formats["deviation"](Decimal("-0.05")) == "-5.0%"
    assert re.search(r"\s\d+\.\d%\s", invoke(["balance", "puppet-tour"], db=demo_db).stdout)
    scores = invoke(["evaluations", "puppet-tour"], db=demo_db).stdout
    assert re.search(r"\s\d\.\d\d\s", scores)  # a mean score: two places
    assert not re.search(r"\d\.\d{3,}", scores)


def test_report_all_refuses_format_and_lang(demo_db: str, tmp_path: Path) -> None:
    result = invoke(["report", "--all", "-o", str(tmp_path / "site"), "--lang", "en"], db=demo_db)
    assert result.exit_code == 2
    assert "leave out --format and --lang" in result.stderr
    result = invoke(["report", "--all", "-o", str(tmp_path / "site"), "--format", "md"], db=demo_db)
    assert result.exit_code == 2


def test_terminal_tables_keep_keys_whole(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(output, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "40")
    key = "c-kanagawa-medical-interpretation-2008"
    Output("text").rows(
        [{"key": key, "summary": "a long summary that has to wrap " * 3}],
        [Column("key", "key"), Column("summary", "summary")],
    )
    printed = capsys.readouterr().out
    assert key in printed
    assert printed.splitlines()[0].split()[0] == "KEY"
