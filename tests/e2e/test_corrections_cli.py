"""--on DATE (and --as-of TIME) on every query command, and the corrections from the CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cli_invoke import invoke

from partnership_ledger import PartnershipLedger
from partnership_ledger.demo import build_demo


def as_json(args: Sequence[str], db: str) -> Any:
    result = invoke([*args, "--json"], db=db)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_balance_on_a_date_counts_what_took_effect_by_then(demo_db: str) -> None:
    now = as_json(["balance", "puppet-tour"], demo_db)
    then = as_json(["balance", "puppet-tour", "--on", "2009-03-31"], demo_db)
    assert then["on"] == "2009-03-31"
    assert now["on"] is None
    assert 0 < int(then["total"]) < int(now["total"])
    with PartnershipLedger.open(demo_db) as ledger:
        assert then == json.loads(json.dumps(ledger.burden_balance("puppet-tour", on="2009-03-31"), default=str))


def test_voice_targets_and_evaluations_take_on(demo_db: str) -> None:
    voice = as_json(["voice", "puppet-tour", "--on", "2008-12-31"], demo_db)
    assert voice["on"] == "2008-12-31"
    assert voice["decisions"] < as_json(["voice", "puppet-tour"], demo_db)["decisions"]
    targets = as_json(["targets", "puppet-tour", "--on", "2009-01-01"], demo_db)
    assert all(t["measurements"] == [] for t in targets["targets"])
    evaluations = as_json(["evaluations", "puppet-tour", "--on", "2009-01-01"], demo_db)
    assert all(sum(e["submissions"].values()) == 0 for e in evaluations["evaluations"])


def test_show_on_a_date_and_as_of_a_time(demo_db: str) -> None:
    then = as_json(["show", "parents-assoc", "--on", "2010-03-31"], demo_db)
    now = as_json(["show", "parents-assoc"], demo_db)
    assert then["name"] != now["name"]
    assert len(now["amendments"]) == 1
    tour = as_json(["show", "puppet-tour", "--on", "2008-05-15"], demo_db)
    assert tour["phase"] == "preparing"
    assert tour["decisions"] == []
    refused = invoke(["show", "puppet-tour", "--as-of", "2000-01-01"], db=demo_db)
    assert refused.exit_code == 1
    assert "there was nothing named puppet-tour in the ledger at 2000-01-01" in refused.output


def test_history_on_a_date_and_links(demo_db: str) -> None:
    rows = as_json(["history", "kanagawa-med-interp", "--on", "2009-06-30"], demo_db)
    assert rows
    assert all(r["effective"] is None or r["effective"] <= "2009-06-30" for r in rows)
    voided = next(r for r in rows if r["op_id"] == "demo-kng-fee-entered-twice")
    void = next(r for r in rows if r["corrects"] == "demo-kng-fee-entered-twice")
    assert voided["corrected_by"] == [void["op_id"]]
    none = as_json(["history", "--as-of", "2000-01-01"], demo_db)
    assert none == []


def test_history_since_until_includes_pledges(demo_db: str) -> None:
    rows = as_json(["history", "--party", "pref-fukushima", "--since", "2009-04-01", "--until", "2010-03-31"], demo_db)
    pledges = [r for r in rows if r["op"] == "pledge"]
    assert pledges
    assert all("2009-04-01" <= r["effective"] <= "2010-03-31" for r in pledges)


def test_report_on_a_date(demo_db: str) -> None:
    result = invoke(["report", "puppet-tour", "--format", "json", "--on", "2010-03-31"], db=demo_db)
    assert result.exit_code == 0, result.output
    model = json.loads(result.stdout)
    assert model["balance"]["on"] == "2010-03-31"
    assert model["corrections"]["count"] >= 2  # the renaming of a member, the audit's correction
    assert {c["op"] for c in model["corrections"]["items"]} >= {"amend_party", "correct_contribution"}


def test_diff_by_effective_dates(demo_db: str) -> None:
    result = as_json(
        ["diff", "puppet-tour", "--by", "effective", "--from", "2009-03-31", "--to", "2010-03-31"], demo_db
    )
    assert result["by"] == "effective"
    assert all("2009-03-31" < h["effective"] <= "2010-03-31" for h in result["operations"])
    assert int(result["after"]["balance"]["total"]) > int(result["before"]["balance"]["total"])


def test_a_bad_date_is_a_usage_error(demo_db: str) -> None:
    result = invoke(["balance", "puppet-tour", "--on", "2010-13-01"], db=demo_db)
    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_void_and_amend_from_the_cli(tmp_path: Path) -> None:
    db = str(build_demo(tmp_path / "d"))
    rows = as_json(["history", "puppet-tour", "--op", "record_decision"], db)
    first = rows[0]["op_id"]
    before = as_json(["voice", "puppet-tour"], db)["decisions"]
    op = {"op": "void_operation", "operation": first, "reason": "recorded in error", "on": "2013-01-10"}
    recorded = invoke(["record", json.dumps(op)], db=db)
    assert recorded.exit_code == 0, recorded.output
    assert as_json(["voice", "puppet-tour"], db)["decisions"] == before - 1
    again = invoke(["record", json.dumps(op)], db=db)
    assert again.exit_code == 1
    assert f"operation {first} was already voided" in again.output


def test_a_join_of_a_party_that_pledged_stays(tmp_path: Path) -> None:
    db = str(build_demo(tmp_path / "d"))
    rows = as_json(["history", "puppet-tour", "--op", "join_partnership"], db)
    city = next(r for r in rows if r["actor"] == "city-fukushima")
    op = {"op": "void_operation", "operation": city["op_id"], "reason": "r", "on": "2013-01-10"}
    refused = invoke(["record", json.dumps(op)], db=db)
    assert refused.exit_code == 1
    assert "city-fukushima's joining partnership puppet-tour cannot be voided" in refused.output


def test_show_an_agreement_on_a_date_gives_the_terms_then(tmp_path: Path) -> None:
    db = str(build_demo(tmp_path / "d"))
    with PartnershipLedger.open(db) as ledger:
        agreement = next(a for a in ledger.keys("agreement") if ledger.show(a)["amendments"])
        view = ledger.show(agreement)
        took = [m for m in view["amendments"] if m["effective_on"] is not None]
        assert took
        first = min(m["effective_on"] for m in took)
        before = ledger.show(agreement, on=first.fromordinal(first.toordinal() - 1))
        after = ledger.show(agreement, on=first)
    changed = next(m for m in took if m["effective_on"] == first)["changes"]
    for name in changed:
        if name in after["terms"]:
            assert after["terms"][name] == view["terms"][name] or len(took) > 1
            assert before["terms"][name] != changed[name]
