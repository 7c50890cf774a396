"""The report model: the same numbers as the indicator queries, privacy, and its JSON form."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import Op, exact_amounts, small_amounts, valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.domain.values import exact_sum
from partnership_ledger.integrity import read_checkpoint, verify_checkpoint
from partnership_ledger.projections.facts import AgreementFact
from partnership_ledger.reports import build_report, render_report
from partnership_ledger.reports.model.governance import plain_data as plain


def recount_participation(ledger: PartnershipLedger, partnership: str) -> dict[str, int]:
    """Decisions each party proposed or voted in, counted from ``show`` directly."""
    counts: dict[str, int] = {}
    for d in ledger.show(partnership)["decisions"]:
        for p in {d["proposed_by"], *d["votes"]}:
            counts[p] = counts.get(p, 0) + 1
    return counts


def check_model_against_queries(ledger: PartnershipLedger, key: str, model: dict[str, Any]) -> None:
    balance = ledger.burden_balance(key)
    voice = ledger.voice(key)
    assert model["balance"] == balance
    assert model["voice"] == voice
    # What each party put in adds up to the burden indicator's delivered value.
    delivered = {r["party"]: r["delivered"] for r in model["contributions"]["parties"]}
    for row in balance["parties"]:
        assert delivered.get(row["party"], Decimal(0)) == row["value"]
    assert exact_sum(delivered.values()) == balance["total"] == model["contributions"]["total"]
    by_year = {r["party"]: exact_sum(r["by_year"]) for r in model["contributions"]["parties"]}
    assert by_year == delivered
    for fiscal_year, year_total in zip(
        model["contributions"]["fiscal_years"], model["contributions"]["year_totals"], strict=True
    ):
        assert year_total == ledger.burden_balance(key, fiscal_year=fiscal_year)["total"]
    # Burden and voice side by side, party by party.
    shares = {r["party"]: r["share"] for r in balance["parties"]}
    said = {r["party"]: r for r in voice["parties"]}
    took_part = recount_participation(ledger, key)
    decisions = len(ledger.show(key)["decisions"])
    for r in model["burden_and_voice"]:
        assert r["share"] == shares.get(r["party"])
        assert r["voice_share"] == (said[r["party"]]["voice_share"] if r["party"] in said else None)
        assert r["decisions_taken_part"] == took_part.get(r["party"], 0)
        assert r["decisions"] == decisions == model["decisions"]["total"]
        assert r["excessive_burden"] == (r["party"] in balance["excessive_burden"])
        assert r["money_without_voice"] == (r["party"] in voice["money_without_voice"])
    # Targets and evaluations as the queries give them.
    progress = ledger.target_progress(key)["targets"]
    assert [(t["key"], t["status"], t["progress"]) for t in model["targets"]] == [
        (t["key"], t["status"], t["progress"]) for t in progress
    ]
    summary = ledger.evaluation_summary(key)["evaluations"]
    assert [e["criteria"] for e in model["evaluations"]] == [e["criteria"] for e in summary]
    # The partnership and its agreements as ``show`` says them.
    shown = ledger.show(key)
    assert {k: model["partnership"][k] for k in ("title", "phase", "proposed_on", "concluded_on")} == {
        k: shown[k] for k in ("title", "phase", "proposed_on", "concluded_on")
    }
    assert [a["key"] for a in model["agreements"]] == [a.key for a in ledger.facts.of(AgreementFact, key)]
    for a in model["agreements"]:
        view = plain(ledger.show(a["key"]))  # Money nested in changes as plain data
        assert (a["title"], a["status"], a["terms"], a["unsigned"]) == (
            view["title"],
            view["status"],
            view["terms"],
            view["unsigned"],
        )


# Small amounts most of the time, and now and then ones with 30 digits, which a rounding
# context would change.
@given(valid_journals(max_ops=30, amounts=st.one_of(small_amounts(), small_amounts(), exact_amounts())))
def test_the_model_carries_the_indicator_queries_values(ops: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as tmp, PartnershipLedger.open(Path(tmp) / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(ops))
        for p in ledger.partnerships():
            model = build_report(ledger, p["key"], verify=False)
            check_model_against_queries(ledger, p["key"], model)
            # Every renderer accepts every model; JSON gives back the same data.
            assert json.loads(render_report(model, "json"))["balance"]["partnership"] == p["key"]
            assert render_report(model, "md", "en")
            assert render_report(model, "md", "ja")


def test_demo_models_match_the_queries(demo_db: str) -> None:
    with PartnershipLedger.open(demo_db, create=False) as ledger:
        for p in ledger.partnerships():
            check_model_against_queries(ledger, p["key"], build_report(ledger, p["key"]))


def test_default_language_follows_the_currency(demo_db: str) -> None:
    with PartnershipLedger.open(demo_db, create=False) as ledger:
        assert build_report(ledger, "puppet-tour")["language"] == "ja"  # JPY
        assert build_report(ledger, "th-lsp")["language"] == "en"  # GBP


def resident_evaluations(ledger: PartnershipLedger) -> tuple[set[str], set[str], set[str]]:
    """(resident evaluator ids, private comments, public comments) in the whole ledger."""
    ids: set[str] = set()
    private: set[str] = set()
    public: set[str] = set()
    for op in ledger.export_operations():
        if op["op"] != "submit_evaluation":
            continue
        if op["role"] == "resident":
            ids.add(op["evaluator"])
        if op.get("comment"):
            (public if op.get("comment_public") else private).add(op["comment"])
    return ids, private, public


def test_residents_ids_and_private_comments_never_appear(demo_db: str) -> None:
    with PartnershipLedger.open(demo_db, create=False) as ledger:
        ids, private, public = resident_evaluations(ledger)
        assert ids
        assert private
        assert public
        outputs = []
        for p in ledger.partnerships():
            model = build_report(ledger, p["key"])
            outputs += [
                render_report(model, "json"),
                render_report(model, "md", "ja"),
                render_report(model, "md", "en"),
            ]
        outputs.append(render_report(build_report(ledger, "puppet-tour"), "html"))
    everything = "\n".join(outputs)
    for evaluator in ids:
        assert f'"{evaluator}"' not in everything
        assert f"⁨{evaluator}⁩" not in everything
    for comment in private - public:
        assert comment not in everything
    shown = [c for c in public if c in everything]
    assert shown, "public comments are shown"


def test_the_checkpoint_printed_verifies_the_ledger(demo_db: str) -> None:
    with PartnershipLedger.open(demo_db, create=False) as ledger:
        model = build_report(ledger, "puppet-tour", verify=True)
        integrity = model["integrity"]
        assert integrity["verified"] is True
        assert integrity["size"] == ledger.event_count()
        checkpoint = read_checkpoint(json.dumps(integrity["checkpoint"]))
        assert verify_checkpoint(ledger.db, checkpoint).ok
        forged = {**checkpoint, "root": "0" * 64}
        assert not verify_checkpoint(ledger.db, forged).ok
        # Without walking the chain, the report names the same head, and says so.
        quick = build_report(ledger, "puppet-tour")["integrity"]
        assert quick["verified"] is False
        assert quick["checkpoint"] == integrity["checkpoint"]


def test_unknown_or_wrong_kind_of_key_is_refused(demo_db: str) -> None:
    from partnership_ledger.errors import LedgerError

    with PartnershipLedger.open(demo_db, create=False) as ledger:
        with pytest.raises(LedgerError):
            build_report(ledger, "no-such-partnership")
        with pytest.raises(LedgerError, match="not a partnership"):
            build_report(ledger, "npo-puppets")


def test_include_children_adds_the_sub_partnerships(demo_db: str) -> None:
    with PartnershipLedger.open(demo_db, create=False) as ledger:
        alone = build_report(ledger, "th-lsp")
        whole = build_report(ledger, "th-lsp", include_children=True)
        assert whole["include_children"] == ledger.children("th-lsp")
        assert whole["balance"] == ledger.burden_balance("th-lsp", include_children=True)
        assert whole["decisions"]["total"] >= alone["decisions"]["total"]
        assert {s["key"] for s in alone["sub_partnerships"]} == set(ledger.children("th-lsp"))


def test_long_lists_are_cut_and_counted(demo_db: str) -> None:
    with PartnershipLedger.open(demo_db, create=False) as ledger:
        full = build_report(ledger, "puppet-tour")
        cut = build_report(ledger, "puppet-tour", decisions_shown=2, comments_shown=1)
    total = full["decisions"]["total"]
    assert total > 2
    assert [d["key"] for d in cut["decisions"]["items"]] == [d["key"] for d in full["decisions"]["items"]][-2:]
    assert cut["decisions"]["omitted"] == total - 2
    for a, b in zip(full["evaluations"], cut["evaluations"], strict=True):
        for role in ("resident", "party", "external"):
            n = len(a["comments"][role]["items"])
            assert len(b["comments"][role]["items"]) == min(n, 1)
            assert b["comments"][role]["omitted"] == n - min(n, 1)


def test_before_any_contribution_the_members_budgets_choose_the_language(tmp_path: Path) -> None:
    ops = [
        {"op": "register_party", "key": "npo", "name": "NPO", "sector": "npo",
         "capacity": {"amount": "1000000", "currency": "JPY"}},
        {"op": "register_party", "key": "city", "name": "City", "sector": "municipality",
         "capacity": {"amount": "9000000", "currency": "JPY"}},
        {"op": "register_party", "key": "uk", "name": "Borough", "sector": "municipality",
         "capacity": {"amount": "900000", "currency": "GBP"}},
        {"op": "propose_partnership", "key": "new", "title": "t", "purpose": "p", "proposed_by": "npo",
         "members": ["npo", "city", "uk"], "on": "2024-04-01"},
    ]  # fmt: skip
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(ops))
        model = build_report(ledger, "new")
    assert model["partnership"]["currency"] is None
    assert model["language"] == "ja"


def test_in_kind_valuations_grouped_by_the_database_equal_the_replay(any_ledger: PartnershipLedger) -> None:
    """The SQL grouping of in-kind contributions (SQLite and PostgreSQL) against the same
    grouping over facts replayed in memory."""
    from partnership_ledger.demo import demo_journal_bytes
    from partnership_ledger.projections import queries

    any_ledger.import_journal(demo_journal_bytes())
    replayed = any_ledger.replay_facts()
    for p in ("puppet-tour", "kanagawa-med-interp", "th-lsp"):
        model = build_report(any_ledger, p)
        expected = queries.contribution_breakdown(replayed, p)
        assert model["contributions"]["in_kind"] == expected["in_kind"]
        assert model["contributions"]["count"] == expected["contributions"]
        assert model["contributions"]["rows"] == expected["rows"]
    assert build_report(any_ledger, "puppet-tour")["contributions"]["in_kind"]  # the demo has some
