"""balance, voice, targets, evaluations and diff through CliRunner: text, --json, --csv, filters.

The CLI prints what the library computes: every JSON output is compared with the library's
own answer for the same question, and the text and CSV outputs with that JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli_invoke import invoke
from partnership_ledger_cli import output
from partnership_ledger_cli.output import to_json

from partnership_ledger import PartnershipLedger


def stdout_of(db: str, *args: str) -> str:
    result = invoke(args, db=db)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def as_json(value: Any) -> Any:
    return json.loads(to_json(value))


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def library(db: str) -> PartnershipLedger:
    return PartnershipLedger.open(db, create=False)


def recorded_times(db: str, partnership: str) -> list[str]:
    """When each operation on ``partnership`` (and its sub-partnerships) was recorded, in order."""
    rows = json.loads(stdout_of(db, "history", partnership, "--include-children", "--json"))
    return [r["recorded_at"] for r in rows]


def table_rows(text: str, header_first_word: str) -> list[list[str]]:
    """The lines of the plain table that starts at the line beginning with ``header_first_word``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [header_first_word])
    return [line.split() for line in lines[start + 1 :] if line.strip()]


# -- balance ------------------------------------------------------------------------------------


def test_balance_json_is_the_librarys_answer(demo_db: str) -> None:
    with library(demo_db) as ledger:
        expected = ledger.burden_balance("puppet-tour")
    data = json.loads(stdout_of(demo_db, "balance", "puppet-tour", "--json"))
    assert data == as_json(expected)
    for name in ("partnership", "currency", "basis", "fiscal_year", "as_of", "total", "gini", "hhi"):
        assert name in data
    assert data["excessive_burden"] == expected["excessive_burden"]
    assert isinstance(data["total"], str)
    assert {
        "party",
        "sector",
        "value",
        "share",
        "agreed_share",
        "deviation",
        "capacity_burden",
        "relative_capacity_burden",
    } <= set(data["parties"][0])


def test_balance_text_shows_the_same_numbers(demo_db: str) -> None:
    data = json.loads(stdout_of(demo_db, "balance", "puppet-tour", "--json"))
    text = stdout_of(demo_db, "balance", "puppet-tour")
    assert text.splitlines()[0] == "partnership: puppet-tour"
    total = f"{Decimal(data['total']):,f} {data['currency']}"
    assert f"total: {total}" in text
    assert f"gini: {data['gini']}" in text
    assert "excessive burden: " + ", ".join(data["excessive_burden"]) in text
    rows = table_rows(text, "PARTY")
    assert [r[0] for r in rows] == [p["party"] for p in data["parties"]]
    for row, party in zip(rows, data["parties"], strict=True):
        assert row[2] == f"{Decimal(party['value']):,f}"
        share = (Decimal(party["share"]) * 100).quantize(Decimal("0.1"))
        assert row[3] == f"{share}%"


def test_balance_csv_is_the_parties_table(demo_db: str) -> None:
    data = json.loads(stdout_of(demo_db, "balance", "puppet-tour", "--json"))
    out = stdout_of(demo_db, "balance", "puppet-tour", "--csv")
    assert out.splitlines()[0] == (
        "party,sector,value,share,agreed_share,deviation,capacity_burden,relative_capacity_burden"
    )
    rows = csv_rows(out)
    assert rows == [{k: "" if v is None else str(v) for k, v in p.items()} for p in data["parties"]]


def test_balance_fiscal_year_and_basis(demo_db: str) -> None:
    for args, kwargs in (
        (["--fiscal-year", "2009"], {"fiscal_year": 2009}),
        (["--basis", "pledged"], {"basis": "pledged"}),
        (["--fiscal-year", "2010", "--basis", "pledged"], {"fiscal_year": 2010, "basis": "pledged"}),
    ):
        with library(demo_db) as ledger:
            expected = ledger.burden_balance("puppet-tour", **kwargs)  # type: ignore[arg-type]
        data = json.loads(stdout_of(demo_db, "balance", "puppet-tour", "--json", *args))
        assert data == as_json(expected)
        assert data["fiscal_year"] == kwargs.get("fiscal_year")
        assert data["basis"] == kwargs.get("basis", "delivered")
    whole = json.loads(stdout_of(demo_db, "balance", "puppet-tour", "--json"))
    one_year = json.loads(stdout_of(demo_db, "balance", "puppet-tour", "--json", "--fiscal-year", "2009"))
    assert Decimal(one_year["total"]) < Decimal(whole["total"])
    text = stdout_of(demo_db, "balance", "puppet-tour", "--fiscal-year", "2009", "--basis", "pledged")
    assert "basis: pledged; fiscal year: 2009" in text


def test_balance_as_of_answers_what_the_ledger_said_then(demo_db: str) -> None:
    times = recorded_times(demo_db, "puppet-tour")
    middle = times[len(times) // 2]
    with library(demo_db) as ledger:
        expected = ledger.burden_balance("puppet-tour", as_of=middle)
    data = json.loads(stdout_of(demo_db, "balance", "puppet-tour", "--json", "--as-of", middle))
    assert data == as_json(expected)
    assert data["as_of"] is not None
    assert data["total"] != json.loads(stdout_of(demo_db, "balance", "puppet-tour", "--json"))["total"]
    assert f"as of {data['as_of']}" in stdout_of(demo_db, "balance", "puppet-tour", "--as-of", middle)
    before = invoke(["balance", "puppet-tour", "--as-of", "2000-01-01"], db=demo_db)
    assert before.exit_code == 1
    assert "puppet-tour" in before.stderr


def test_balance_include_children(demo_db: str) -> None:
    own = json.loads(stdout_of(demo_db, "balance", "th-lsp", "--json"))
    rolled = json.loads(stdout_of(demo_db, "balance", "th-lsp", "--json", "--include-children"))
    with library(demo_db) as ledger:
        children = ledger.children("th-lsp")
    assert own["include_children"] == []
    assert rolled["include_children"]
    assert set(rolled["include_children"]) <= set(children)
    assert Decimal(rolled["total"]) >= Decimal(own["total"])
    assert "sub-partnerships" in stdout_of(demo_db, "balance", "th-lsp", "--include-children")


def test_balance_thresholds(demo_db: str) -> None:
    strict = json.loads(stdout_of(demo_db, "balance", "puppet-tour", "--json", "--capacity-threshold", "0"))
    lenient = json.loads(stdout_of(demo_db, "balance", "puppet-tour", "--json", "--capacity-threshold", "100"))
    assert strict["thresholds"]["relative_capacity_burden"] == "0"
    assert set(lenient["excessive_burden"]) < set(strict["excessive_burden"])
    said = {"abc": "is not a number", "NaN": "is not a finite number", "-1": "is negative", "1e5": "is not a number"}
    for bad, why in {**said, "0x10": "is not a number"}.items():
        result = invoke(["balance", "puppet-tour", "--deviation-threshold", bad], db=demo_db)
        assert result.exit_code == 2, bad
        assert why in result.stderr
        assert result.stderr.startswith("error: invalid value for '--deviation-threshold'")
        assert len(result.stderr.strip().splitlines()) == 1


# -- voice --------------------------------------------------------------------------------------


def test_voice_json_text_and_csv(demo_db: str) -> None:
    with library(demo_db) as ledger:
        expected = ledger.voice("puppet-tour")
    data = json.loads(stdout_of(demo_db, "voice", "puppet-tour", "--json"))
    assert data == as_json(expected)
    for name in ("disproportionality", "alignment", "money_without_voice"):
        assert name in data
    assert {"party", "voice", "voice_share", "share"} <= set(data["parties"][0])
    text = stdout_of(demo_db, "voice", "puppet-tour")
    assert f"disproportionality: {data['disproportionality']}" in text
    assert f"alignment: {data['alignment']}" in text
    rows = table_rows(text, "PARTY")
    assert [(r[0], int(r[1])) for r in rows] == [(p["party"], p["voice"]) for p in data["parties"]]
    out = stdout_of(demo_db, "voice", "puppet-tour", "--csv")
    assert out.splitlines()[0] == "party,voice,proposed,votes,voice_share,share"
    assert [(r["party"], r["voice_share"]) for r in csv_rows(out)] == [
        (p["party"], p["voice_share"]) for p in data["parties"]
    ]


def test_voice_filters(demo_db: str) -> None:
    times = recorded_times(demo_db, "puppet-tour")
    for args, kwargs in (
        (["--fiscal-year", "2009"], {"fiscal_year": 2009}),
        (["--basis", "pledged"], {"basis": "pledged"}),
        (["--as-of", times[len(times) // 2]], {"as_of": times[len(times) // 2]}),
        (["--include-children"], {"include_children": True}),
    ):
        partnership = "th-lsp" if "include_children" in kwargs else "puppet-tour"
        with library(demo_db) as ledger:
            expected = ledger.voice(partnership, **kwargs)  # type: ignore[arg-type]
        assert json.loads(stdout_of(demo_db, "voice", partnership, "--json", *args)) == as_json(expected)


# -- targets ------------------------------------------------------------------------------------


def test_targets_json_text_and_csv(demo_db: str) -> None:
    with library(demo_db) as ledger:
        expected = ledger.target_progress("th-lsp")
    data = json.loads(stdout_of(demo_db, "targets", "th-lsp", "--json"))
    assert data == as_json(expected)
    assert data["targets"]
    text = stdout_of(demo_db, "targets", "th-lsp")
    rows = table_rows(text, "TARGET")
    assert [(r[0], r[-1]) for r in rows] == [(t["key"], t["status"]) for t in data["targets"]]
    out = csv_rows(stdout_of(demo_db, "targets", "th-lsp", "--csv"))
    assert [(r["key"], r["status"], r["baseline_value"]) for r in out] == [
        (t["key"], t["status"], t["baseline"]["value"]) for t in data["targets"]
    ]
    # no JSON in a cell: period=value (source, date); ...
    first = data["targets"][0]["measurements"][0]
    assert out[0]["measurements"].startswith(f"{first['period']}={first['value']} ({first['source']}, {first['on']})")


def test_targets_as_of_and_children(demo_db: str) -> None:
    times = recorded_times(demo_db, "th-lsp")
    middle = times[len(times) // 2]
    with library(demo_db) as ledger:
        expected = ledger.target_progress("th-lsp", as_of=middle)
        rolled = ledger.target_progress("th-lsp", include_children=True)
    assert json.loads(stdout_of(demo_db, "targets", "th-lsp", "--json", "--as-of", middle)) == as_json(expected)
    assert json.loads(stdout_of(demo_db, "targets", "th-lsp", "--json", "--include-children")) == as_json(rolled)


def test_targets_of_a_partnership_without_any(demo_db: str) -> None:
    with library(demo_db) as ledger:
        without = next(p for p in ledger.keys("partnership") if not ledger.target_progress(p)["targets"])
    result = invoke(["targets", without], db=demo_db)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"partnership {without} has no targets" in result.stderr
    assert csv_rows(stdout_of(demo_db, "targets", without, "--csv")) == []


# -- evaluations --------------------------------------------------------------------------------


def test_evaluations_json_text_and_csv(demo_db: str) -> None:
    with library(demo_db) as ledger:
        expected = ledger.evaluation_summary("puppet-tour")
    data = json.loads(stdout_of(demo_db, "evaluations", "puppet-tour", "--json"))
    assert data == as_json(expected)
    rounds = data["evaluations"]
    assert rounds
    text = stdout_of(demo_db, "evaluations", "puppet-tour")
    for e in rounds:
        assert f"evaluation {e['key']} ({e['partnership']}, period {e['period']}, {e['status']})" in text
        for c in e["public_comments"]:
            assert c["comment"] in text
    rows = csv_rows(stdout_of(demo_db, "evaluations", "puppet-tour", "--csv"))
    flat = [(e["key"], c["criterion"], c["combined"], c["counts"]["resident"]) for e in rounds for c in e["criteria"]]
    assert [(r["evaluation"], r["criterion"], r["combined"], int(r["counts_resident"])) for r in rows] == flat
    assert list(rows[0])[:6] == ["evaluation", "partnership", "period", "status", "resident_weight", "criterion"]


def test_evaluations_never_show_residents_ids(demo_db: str) -> None:
    with library(demo_db) as ledger:
        key = ledger.keys("evaluation")[0]
        partnership = ledger.show(key)["partnership"]
        subs = ledger.show(key)["submissions"]  # (an erased resident shows as no one)
        residents = [s["evaluator"] for s in subs if s["role"] == "resident" and s["evaluator"]]
    assert residents
    for fmt in ([], ["--json"], ["--csv"]):
        out = stdout_of(demo_db, "evaluations", partnership, *fmt)
        assert not [r for r in residents if r in out]


def test_evaluations_as_of_and_children(demo_db: str) -> None:
    times = recorded_times(demo_db, "th-lsp")
    middle = times[len(times) // 2]
    with library(demo_db) as ledger:
        expected = ledger.evaluation_summary("th-lsp", as_of=middle, include_children=True)
    args = ("evaluations", "th-lsp", "--json", "--as-of", middle, "--include-children")
    assert json.loads(stdout_of(demo_db, *args)) == as_json(expected)


# -- diff ---------------------------------------------------------------------------------------


def test_diff_json_is_the_librarys_answer(demo_db: str) -> None:
    times = recorded_times(demo_db, "puppet-tour")
    start, end = times[len(times) // 3], times[-1]
    with library(demo_db) as ledger:
        expected = ledger.diff("puppet-tour", start, end)
    data = json.loads(stdout_of(demo_db, "diff", "puppet-tour", "--from", start, "--to", end, "--json"))
    assert data == as_json(expected)
    assert data["operations"]
    assert all(start < op["recorded_at"] <= end for op in data["operations"])
    assert data["before"]["exists"]
    assert data["after"]["exists"]


def test_diff_text_lists_operations_and_indicators(demo_db: str) -> None:
    times = recorded_times(demo_db, "puppet-tour")
    start, end = times[len(times) // 3], times[-1]
    data = json.loads(stdout_of(demo_db, "diff", "puppet-tour", "--from", start, "--to", end, "--json"))
    text = stdout_of(demo_db, "diff", "puppet-tour", "--from", start, "--to", end)
    assert f"operations recorded: {len(data['operations'])}" in text
    for op in data["operations"]:
        assert f"#{op['position']} " in text
    before, after = data["before"]["balance"], data["after"]["balance"]
    # amounts with thousands separators, as every command shows them
    assert f"  total: {int(before['total']):,} -> {int(after['total']):,}" in text
    changed = "  *" if before["gini"] != after["gini"] else ""
    assert f"  gini: {before['gini']} -> {after['gini']}{changed}\n" in text


def test_diff_before_the_partnership_existed(demo_db: str) -> None:
    end = recorded_times(demo_db, "th-lsp")[-1]
    data = json.loads(stdout_of(demo_db, "diff", "th-lsp", "--from", "2000-01-01", "--to", end, "--json"))
    assert data["before"] == {"exists": False}
    with library(demo_db) as ledger:
        assert len(data["operations"]) == len(ledger.history("th-lsp"))
    rolled = json.loads(
        stdout_of(demo_db, "diff", "th-lsp", "--from", "2000-01-01", "--to", end, "--json", "--include-children")
    )
    assert len(rolled["operations"]) > len(data["operations"])


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["diff", "puppet-tour", "--to", "2030-01-01"], 2, "--from"),
        (["diff", "puppet-tour", "--from", "2030-01-01", "--to", "2020-01-01"], 1, "is before --from"),
        (["diff", "puppet-tour", "--from", "yesterday", "--to", "2020-01-01"], 2, "is not a time"),
        (["diff", "nowhere", "--from", "2020-01-01", "--to", "2030-01-01"], 1, "nowhere"),
    ],
)
def test_diff_refuses_clearly(demo_db: str, args: list[str], code: int, expected: str) -> None:
    result = invoke(args, db=demo_db)
    assert result.exit_code == code
    assert expected in result.stderr
    assert "Traceback" not in result.output


# -- what every indicator command shares --------------------------------------------------------

INDICATORS = ("balance", "voice", "targets", "evaluations")


@pytest.mark.parametrize("command", INDICATORS)
def test_unknown_partnerships_and_other_kinds_of_key(demo_db: str, command: str) -> None:
    missing = invoke([command, "no-such-partnership"], db=demo_db)
    assert missing.exit_code == 1
    assert missing.stderr == "error: there is no partnership no-such-partnership\n"
    party = invoke([command, "npo-puppets", "--json"], db=demo_db)
    assert party.exit_code == 1
    assert party.stdout == ""
    error = json.loads(party.stderr)["error"]
    assert "npo-puppets is a party, not a partnership" in error["message"]


@pytest.mark.parametrize("command", INDICATORS)
def test_usage_errors(demo_db: str, command: str) -> None:
    for args in ([command], [command, "puppet-tour", "--as-of", "soon"], [command, "puppet-tour", "--json", "--csv"]):
        result = invoke(args, db=demo_db)
        assert result.exit_code == 2, args
        assert result.stdout == ""


@pytest.mark.parametrize("command", ["balance", "voice"])
def test_fiscal_year_out_of_range_is_a_usage_error(demo_db: str, command: str) -> None:
    result = invoke([command, "puppet-tour", "--fiscal-year", "20090"], db=demo_db)
    assert result.exit_code == 2


@pytest.mark.parametrize("command", INDICATORS)
def test_tables_on_a_terminal_are_rich(demo_db: str, command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    partnership = "th-lsp" if command == "targets" else "puppet-tour"
    plain = stdout_of(demo_db, command, partnership)
    monkeypatch.setattr(output, "stdout_is_terminal", lambda: True)
    rich = stdout_of(demo_db, command, partnership)
    assert rich != plain
    assert "─" in rich  # rich's rule under the header; the plain table has none
    assert "─" not in plain


@pytest.mark.parametrize(
    "args",
    [
        ["balance", "puppet-tour"],
        ["voice", "puppet-tour"],
        ["targets", "th-lsp"],
        ["evaluations", "puppet-tour"],
        ["diff", "puppet-tour", "--from", "2020-01-01", "--to", "2099-01-01"],
    ],
)
def test_json_never_carries_a_float(demo_db: str, args: Sequence[str]) -> None:
    def reject(number: str) -> Any:
        raise AssertionError(f"float in JSON output: {number}")

    json.loads(stdout_of(demo_db, *args, "--json"), parse_float=reject)


def test_outputs_do_not_depend_on_the_folder(demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = stdout_of(demo_db, "balance", "puppet-tour", "--json")
    monkeypatch.chdir(tmp_path)
    assert stdout_of(demo_db, "balance", "puppet-tour", "--json") == here
