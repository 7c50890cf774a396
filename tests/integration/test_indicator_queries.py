"""Worked examples of the indicator queries, through the journal and the ledger's methods.

Each example builds a small ledger by importing a journal and checks the indicators
against values computed by hand (the arithmetic is in the comments). Ratios are checked
as the 6-place strings the JSON output carries. Every check runs twice: on the
materialized read models and on a replay (``as_of`` far in the future), which must agree.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from time import sleep
from typing import Any

import pytest
from journal_ops import (
    amend,
    consent,
    correct,
    decision,
    deliver,
    draft,
    measurement,
    party,
    pledge,
    propose,
    revise,
    submission,
    target,
)

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import UnknownKey
from partnership_ledger.projections.facts import AgreementFact
from partnership_ledger.projections.queries import applicable_agreement

FUTURE = "2999-01-01"


def s6(value: Decimal | None) -> str | None:
    """A ratio as JSON carries it (6 places)."""
    return None if value is None else str(value)


def by_party(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["party"]: row for row in result["parties"]}


def both(ledger: PartnershipLedger, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The query on the read models, after checking a replay gives the very same."""
    materialized = getattr(ledger, method)(*args, **kwargs)
    replayed = getattr(ledger, method)(*args, as_of=FUTURE, **kwargs)
    assert materialized.pop("as_of") is None
    assert replayed.pop("as_of") is not None
    assert materialized == replayed
    return dict(materialized)


def load(ledger: PartnershipLedger, ops: list[dict[str, Any]]) -> None:
    ledger.import_journal(json.dumps(ops).encode())


# --------------------------------------------------------- a three-party worked example

THREE_PARTIES = [
    party("npo", "npo", capacity=20_000_000),
    party("pref", "prefecture", capacity=1_000_000_000),
    party("board", "public_agency"),  # no capacity
    propose(
        "tour",
        "npo",
        ["npo", "pref", "board"],
        "2008-04-15",
        title="Puppet tour",
        purpose="Live theatre for every school",
    ),
    {"op": "activate_partnership", "partnership": "tour", "on": "2008-05-01"},
    draft(
        "ag",
        "tour",
        ["npo", "pref", "board"],
        "2008-04-01",
        "2011-03-31",
        shares={"npo": "0.3", "pref": "0.6", "board": "0.1"},
    ),
    *({"op": "sign_agreement", "agreement": "ag", "party": p, "on": "2008-05-10"} for p in ("npo", "pref", "board")),
    pledge("c-npo", "tour", "npo", "staff_time", 4_500_000, 2008, agreement="ag"),
    pledge("c-pref", "tour", "pref", "money", 4_000_000, 2008, agreement="ag", instrument="contribution"),
    pledge("c-pref-sub", "tour", "pref", "money", 1_500_000, 2008, instrument="subsidy"),
    pledge("c-board", "tour", "board", "facility", 1_000_000, 2008, agreement="ag"),
    pledge("c-board-eq", "tour", "board", "equipment", 500_000, 2008),
    deliver("c-pref", 4_000_000, "2008-07-01"),
    deliver("c-pref-sub", 1_000_000, "2008-08-01"),
    deliver("c-board", 1_000_000, "2008-09-01"),
    {"op": "withdraw_pledge", "contribution": "c-board-eq", "reason": "no", "on": "2008-12-01"},
    {"op": "withdraw_pledge", "contribution": "c-pref-sub", "reason": "cut", "on": "2009-02-01"},
    deliver("c-npo", 3_800_000, "2009-03-31"),
    correct("c-npo", 200_000, "rehearsal hours left out", "2009-03-31"),
    decision(
        "tour",
        "d1",
        "npo",
        "consensus",
        {"npo": "for", "pref": "for", "board": "for"},
        "2008-06-10",
        subject="schedule",
    ),
    decision("tour", "d2", "pref", "majority", {"pref": "for", "npo": "against"}, "2008-11-01", subject="budget"),
]
# Delivered: npo 3,800,000 + 200,000 = 4,000,000; pref 4,000,000 + 1,000,000 = 5,000,000;
# board 1,000,000. Total 10,000,000.


@pytest.fixture
def three(ledger: PartnershipLedger) -> PartnershipLedger:
    load(ledger, THREE_PARTIES)
    return ledger


def test_three_party_balance_delivered(three: PartnershipLedger) -> None:
    b = both(three, "burden_balance", "tour")
    assert b["currency"] == "JPY"
    assert b["basis"] == "delivered"
    assert b["fiscal_year"] is None
    assert b["total"] == Decimal("10000000")
    assert b["agreement"] == "ag"
    rows = by_party(b)
    assert [r["party"] for r in b["parties"]] == ["pref", "npo", "board"]  # by value
    assert {p: r["value"] for p, r in rows.items()} == {
        "npo": Decimal("4000000"),
        "pref": Decimal("5000000"),
        "board": Decimal("1000000"),
    }
    assert {p: r["sector"] for p, r in rows.items()} == {
        "npo": "npo",
        "pref": "prefecture",
        "board": "public_agency",
    }
    # shares 4/10, 5/10, 1/10
    assert {p: s6(r["share"]) for p, r in rows.items()} == {
        "npo": "0.400000",
        "pref": "0.500000",
        "board": "0.100000",
    }
    assert {p: r["agreed_share"] for p, r in rows.items()} == {
        "npo": Decimal("0.3"),
        "pref": Decimal("0.6"),
        "board": Decimal("0.1"),
    }
    # deviation = share - agreed: 0.4-0.3, 0.5-0.6, 0.1-0.1
    assert {p: s6(r["deviation"]) for p, r in rows.items()} == {
        "npo": "0.100000",
        "pref": "-0.100000",
        "board": "0.000000",
    }
    # gini: sorted (1, 4, 5) million; sum |vi-vj| over ordered pairs = 2*(3+4+1) = 16;
    # 2 n^2 mean = 2*9*(10/3) = 60; 16/60 = 0.2666...
    assert s6(b["gini"]) == "0.266667"
    # hhi = 0.4^2 + 0.5^2 + 0.1^2 = 0.16 + 0.25 + 0.01
    assert s6(b["hhi"]) == "0.420000"
    # capacity burden: npo 4M/20M = 0.2; pref 5M/1000M = 0.005; board has no capacity.
    # relative: over the mean of those with one, (0.2 + 0.005)/2 = 0.1025:
    # npo 0.2/0.1025 = 1.95121951...; pref 0.005/0.1025 = 0.04878048...
    assert {p: s6(r["capacity_burden"]) for p, r in rows.items()} == {
        "npo": "0.200000",
        "pref": "0.005000",
        "board": None,
    }
    assert {p: s6(r["relative_capacity_burden"]) for p, r in rows.items()} == {
        "npo": "1.951220",
        "pref": "0.048780",
        "board": None,
    }
    # npo's deviation 0.1 > 0.05; no relative burden above 2.
    assert b["excessive_burden"] == ["npo"]


def test_three_party_excessive_burden_thresholds(three: PartnershipLedger) -> None:
    # Deviation threshold 0.2: npo's 0.1 no longer counts; relative threshold 1.5: npo's
    # 1.95 does; with both raised nobody is flagged.
    flagged = both(
        three,
        "burden_balance",
        "tour",
        deviation_threshold="0.2",
        relative_capacity_threshold="1.5",
    )
    assert flagged["excessive_burden"] == ["npo"]
    assert flagged["thresholds"] == {
        "deviation": Decimal("0.2"),
        "relative_capacity_burden": Decimal("1.5"),
    }
    nobody = both(three, "burden_balance", "tour", deviation_threshold="0.2")
    assert nobody["excessive_burden"] == []
    # Strictly above: a deviation of exactly 0.1 at threshold 0.1 is not excessive.
    at = both(three, "burden_balance", "tour", deviation_threshold="0.1")
    assert at["excessive_burden"] == []


def test_three_party_balance_pledged(three: PartnershipLedger) -> None:
    b = both(three, "burden_balance", "tour", basis="pledged")
    assert b["basis"] == "pledged"
    rows = by_party(b)
    # pledged - withdrawn: npo 4,500,000; pref 4,000,000 + (1,500,000 - 500,000 withdrawn
    # after 1,000,000 delivered) = 5,000,000; board 1,000,000 + (500,000 - 500,000).
    assert {p: r["value"] for p, r in rows.items()} == {
        "npo": Decimal("4500000"),
        "pref": Decimal("5000000"),
        "board": Decimal("1000000"),
    }
    assert b["total"] == Decimal("10500000")
    # shares 4.5/10.5 = 3/7 = 0.428571...; 5/10.5 = 10/21 = 0.476190...; 1/10.5 = 2/21 = 0.095238...
    assert {p: s6(r["share"]) for p, r in rows.items()} == {
        "npo": "0.428571",
        "pref": "0.476190",
        "board": "0.095238",
    }
    # deviations: 3/7 - 0.3 = 0.128571...; 10/21 - 0.6 = -0.123809...; 2/21 - 0.1 = -0.004761...
    assert {p: s6(r["deviation"]) for p, r in rows.items()} == {
        "npo": "0.128571",
        "pref": "-0.123810",
        "board": "-0.004762",
    }
    # gini: (1, 4.5, 5) million: ordered-pair sum 2*(3.5+4+0.5) = 16; 2*9*(10.5/3) = 63
    assert s6(b["gini"]) == "0.253968"
    # hhi = (9*9 + 10*10 + 2*2)/21^2 = 185/441 = 0.419501...
    assert s6(b["hhi"]) == "0.419501"
    assert b["excessive_burden"] == ["npo"]


def test_three_party_funding_instruments(three: PartnershipLedger) -> None:
    # Rule 4: money came as a joint contribution (4,000,000) and a subsidy (1,000,000).
    funding = both(three, "burden_balance", "tour")["funding"]
    assert funding["money_total"] == Decimal("5000000")
    assert [(i["instrument"], i["value"], s6(i["share"])) for i in funding["by_instrument"]] == [
        ("contribution", Decimal("4000000"), "0.800000"),
        ("subsidy", Decimal("1000000"), "0.200000"),
    ]
    assert s6(funding["joint_contribution_share"]) == "0.800000"
    assert s6(funding["subsidy_or_commission_share"]) == "0.200000"
    # Pledged basis: the subsidy counts 1,500,000 - 500,000 = 1,000,000 too.
    pledged = both(three, "burden_balance", "tour", basis="pledged")["funding"]
    assert pledged["money_total"] == Decimal("5000000")


def test_three_party_voice(three: PartnershipLedger) -> None:
    v = both(three, "voice", "tour")
    assert v["decisions"] == 2
    # d1: consensus, all for: adopted; d2: majority, 1 for and 1 against: not adopted.
    assert v["adopted"] == 1
    rows = by_party(v)
    # d1: npo proposes (1) and votes (1), pref 1, board 1; d2: pref proposes and votes (2),
    # npo votes (1). Counts npo 3, pref 3, board 1; 7 in all.
    assert {p: r["voice"] for p, r in rows.items()} == {"npo": 3, "pref": 3, "board": 1}
    assert {p: (r["proposed"], r["votes"]) for p, r in rows.items()} == {
        "npo": (1, 2),
        "pref": (1, 2),
        "board": (0, 1),
    }
    # 3/7 = 0.428571...; 1/7 = 0.142857...
    assert {p: s6(r["voice_share"]) for p, r in rows.items()} == {
        "npo": "0.428571",
        "pref": "0.428571",
        "board": "0.142857",
    }
    assert {p: s6(r["share"]) for p, r in rows.items()} == {
        "npo": "0.400000",
        "pref": "0.500000",
        "board": "0.100000",
    }
    # ½(|3/7 - 2/5| + |3/7 - 1/2| + |1/7 - 1/10|) = ½(1/35 + 1/14 + 3/70) = ½(10/70) = 1/14
    assert s6(v["disproportionality"]) == "0.071429"
    assert s6(v["alignment"]) == "0.928571"  # 13/14
    assert v["money_without_voice"] == []  # pref put in money and voted
    assert [r["party"] for r in v["parties"]] == ["npo", "pref", "board"]  # by voice, key


def test_fiscal_year_filter_with_april_start(three: PartnershipLedger) -> None:
    # Every delivery falls between 2008-07-01 and 2009-03-31: fiscal year 2008 (April to
    # March) holds all of them, 2009 none.
    fy2008 = both(three, "burden_balance", "tour", fiscal_year=2008)
    assert fy2008["fiscal_year"] == 2008
    assert fy2008["total"] == Decimal("10000000")
    assert by_party(fy2008)["npo"]["value"] == Decimal("4000000")  # delivered 2009-03-31
    fy2009 = both(three, "burden_balance", "tour", fiscal_year=2009)
    assert fy2009["total"] == Decimal("0")
    assert {r["party"] for r in fy2009["parties"]} == {"npo", "pref", "board"}  # still members
    assert all(r["value"] == 0 and r["share"] is None for r in fy2009["parties"])
    assert fy2009["gini"] is None
    assert fy2009["hhi"] is None
    # No decisions in fiscal year 2009: no voice at all.
    v = both(three, "voice", "tour", fiscal_year=2009)
    assert v["decisions"] == 0
    assert v["disproportionality"] is None


# ----------------------------------------------------------- the fiscal year's first month


def fiscal_year_journal(start_month: int) -> list[dict[str, Any]]:
    start, end, year = ("2008-04-01", "2010-03-31", 2008) if start_month == 4 else ("2009-01-01", "2009-12-31", 2009)
    return [
        party("a", "npo"),
        party("b", "municipality"),
        propose("p", "a", ["a", "b"], "2008-06-01"),
        draft("ag", "p", ["a", "b"], start, end, title="A", fiscal_year_start=start_month),
        {"op": "sign_agreement", "agreement": "ag", "party": "a", "on": "2008-06-02"},
        {"op": "sign_agreement", "agreement": "ag", "party": "b", "on": "2008-06-02"},
        pledge("c", "p", "a", "money", 700_000, year, agreement="ag", instrument="grant"),
        deliver("c", 700_000, "2009-03-31"),
    ]


@pytest.mark.parametrize(("start_month", "counted_in", "not_in"), [(4, 2008, 2009), (1, 2009, 2008)])
def test_a_delivery_counts_in_the_fiscal_year_of_its_date(
    ledger: PartnershipLedger, start_month: int, counted_in: int, not_in: int
) -> None:
    # 2009-03-31 is in fiscal year 2008 when years start in April, in 2009 when in January.
    load(ledger, fiscal_year_journal(start_month))
    hit = both(ledger, "burden_balance", "p", fiscal_year=counted_in)
    assert hit["total"] == Decimal("700000")
    assert by_party(hit)["a"]["value"] == Decimal("700000")
    assert s6(by_party(hit)["a"]["share"]) == "1.000000"
    miss = both(ledger, "burden_balance", "p", fiscal_year=not_in)
    assert miss["total"] == Decimal("0")
    assert both(ledger, "burden_balance", "p")["total"] == Decimal("700000")


# ------------------------------------------------ a zero contribution, money without voice

ZERO_PARTY = [
    party("a", "prefecture", capacity=10_000_000),
    party("b", "npo", capacity=10_000_000),
    party("z", "resident_group", capacity=5_000_000),
    propose("p", "b", ["a", "b", "z"], "2010-04-01"),
    pledge("ca", "p", "a", "money", 3_000_000, 2010, instrument="commission"),
    pledge("cb", "p", "b", "staff_time", 1_000_000, 2010),
    deliver("ca", 3_000_000, "2010-06-01"),
    deliver("cb", 1_000_000, "2010-07-01"),
    decision("p", "d1", "b", "majority", {"b": "for", "z": "for"}, "2010-05-01", subject="plan"),
]


def test_a_party_that_put_in_nothing(ledger: PartnershipLedger) -> None:
    load(ledger, ZERO_PARTY)
    b = both(ledger, "burden_balance", "p")
    rows = by_party(b)
    assert b["total"] == Decimal("4000000")
    assert rows["z"]["value"] == Decimal("0")  # listed, with zero
    # shares 3/4, 1/4, 0
    assert {p: s6(r["share"]) for p, r in rows.items()} == {
        "a": "0.750000",
        "b": "0.250000",
        "z": "0.000000",
    }
    # gini: (0, 1, 3) million: ordered-pair sum 2*(1+3+2) = 12; 2*9*(4/3) = 24; 12/24
    assert s6(b["gini"]) == "0.500000"
    assert s6(b["hhi"]) == "0.625000"  # 0.5625 + 0.0625
    # capacity burden 3/10, 1/10, 0/5; their mean 0.4/3; relative 0.3*3/0.4 = 2.25,
    # 0.1*3/0.4 = 0.75, 0.
    assert {p: s6(r["capacity_burden"]) for p, r in rows.items()} == {
        "a": "0.300000",
        "b": "0.100000",
        "z": "0.000000",
    }
    assert {p: s6(r["relative_capacity_burden"]) for p, r in rows.items()} == {
        "a": "2.250000",
        "b": "0.750000",
        "z": "0.000000",
    }
    # No agreement: no agreed shares, no deviations; a is flagged by capacity (2.25 > 2).
    assert b["agreement"] is None
    assert all(r["agreed_share"] is None and r["deviation"] is None for r in b["parties"])
    assert b["excessive_burden"] == ["a"]
    # A commission only: rule 4 shows no joint contribution at all.
    assert s6(b["funding"]["joint_contribution_share"]) == "0.000000"
    assert s6(b["funding"]["subsidy_or_commission_share"]) == "1.000000"

    v = both(ledger, "voice", "p")
    vrows = by_party(v)
    # b proposes and votes (2), z votes (1), a none: 2/3, 1/3, 0
    assert {p: r["voice"] for p, r in vrows.items()} == {"a": 0, "b": 2, "z": 1}
    assert {p: s6(r["voice_share"]) for p, r in vrows.items()} == {
        "a": "0.000000",
        "b": "0.666667",
        "z": "0.333333",
    }
    # ½(|0 - 3/4| + |2/3 - 1/4| + |1/3 - 0|) = ½(9/12 + 5/12 + 4/12) = 3/4
    assert s6(v["disproportionality"]) == "0.750000"
    assert s6(v["alignment"]) == "0.250000"
    # "If you put in money, put in your voice": a delivered money and never voted.
    assert v["money_without_voice"] == ["a"]


def test_nothing_delivered_leaves_shares_undefined(ledger: PartnershipLedger) -> None:
    load(ledger, ZERO_PARTY[:6])  # pledges, no deliveries
    b = both(ledger, "burden_balance", "p")
    assert b["total"] == Decimal("0")
    assert all(r["share"] is None for r in b["parties"])
    assert b["gini"] is None
    assert b["hhi"] is None
    # Capacity burden 0 for all; the mean is 0, so no relative burden.
    assert all(s6(r["capacity_burden"]) == "0.000000" for r in b["parties"])
    assert all(r["relative_capacity_burden"] is None for r in b["parties"])
    assert b["excessive_burden"] == []
    assert b["funding"]["joint_contribution_share"] is None
    # Pledged basis: 3,000,000 and 1,000,000.
    assert both(ledger, "burden_balance", "p", basis="pledged")["total"] == Decimal("4000000")


# ------------------------------------------------------------------------------- targets

TARGETS = [
    party("a", "municipality"),
    propose("p", "a", ["a"], "2008-01-01"),
    target(
        "t-wait",
        "p",
        ("2007", 200),
        {"2008": 150, "2009": 100, "2010": 50},
        indicator="children on the waiting list",
        unit="children",
        direction="decrease",
    ),
    revise("t-wait", {"2008": 140, "2009": 80, "2010": 50}, "faster plan", "2008-02-01"),
    measurement("t-wait", "2008", 160, "register", "2009-04-10"),
    measurement("t-wait", "2009", 90, "register", "2010-04-10"),
    target("t-shows", "p", ("2007", 0), {"2008": 10, "2009": 20}, indicator="performances", unit="shows"),
    measurement("t-shows", "2008", 12, "log", "2009-04-01"),
    target("t-final", "p", ("2007", 0), {"2008": 100}, indicator="volunteers", unit="people"),
    measurement("t-final", "2008", 50, "log", "2009-04-01"),
    target("t-none", "p", ("2007", 5), {"2009": 10}, indicator="visits", unit="visits"),
]


def test_target_progress_worked_examples(ledger: PartnershipLedger) -> None:
    load(ledger, TARGETS)
    t = both(ledger, "target_progress", "p")
    targets = {x["key"]: x for x in t["targets"]}
    wait = targets["t-wait"]
    # Decrease, revised to 140/80/50. Latest target period measured: 2009 (2nd of 3).
    # progress = (90 - 200)/(80 - 200) = 110/120 = 0.91666...; expected on the straight line
    # to the final target: 200 + (50 - 200)*2/3 = 100; 90 <= 100, so on track.
    assert wait["direction"] == "decrease"
    assert wait["revisions"] == 1
    assert wait["targets"] == [
        {"period": "2008", "value": Decimal("140")},
        {"period": "2009", "value": Decimal("80")},
        {"period": "2010", "value": Decimal("50")},
    ]
    assert (wait["period"], wait["latest"], wait["target"]) == ("2009", Decimal(90), Decimal(80))
    assert s6(wait["progress"]) == "0.916667"
    assert s6(wait["expected"]) == "100.000000"
    assert wait["status"] == "on_track"
    # Increase: 2008 measured 12 of 10 from 0: progress 1.2, achieved.
    shows = targets["t-shows"]
    assert (s6(shows["progress"]), shows["status"]) == ("1.200000", "achieved")
    # At the final period and short of it: 50 of 100, off track.
    final = targets["t-final"]
    assert (s6(final["progress"]), final["status"]) == ("0.500000", "off_track")
    none = targets["t-none"]
    assert (none["progress"], none["status"]) == (None, "no_data")
    assert t["status_counts"] == {"on_track": 1, "achieved": 1, "off_track": 1, "no_data": 1}


def test_a_restated_measurement_replaces_the_earlier_one(ledger: PartnershipLedger) -> None:
    load(ledger, TARGETS)
    ledger.record_measurement("t-wait", "2009", 100, "corrected register", "2010-05-01")
    wait = {x["key"]: x for x in both(ledger, "target_progress", "p")["targets"]}["t-wait"]
    # (100 - 200)/(80 - 200) = 0.8333...; 100 <= expected 100: still on track.
    assert wait["latest"] == Decimal(100)
    assert s6(wait["progress"]) == "0.833333"
    assert wait["status"] == "on_track"
    assert len(wait["measurements"]) == 3  # the history keeps both statements


# --------------------------------------------------------------------------- evaluations

EVALUATIONS = [
    party("npo", "npo"),
    party("pref", "prefecture"),
    propose("p", "npo", ["npo", "pref"], "2008-01-01"),
    {
        "op": "open_evaluation",
        "key": "e1",
        "partnership": "p",
        "period": "2008",
        "criteria": ["purpose", "trust"],
        "scale_max": 5,
        "resident_weight": "0.6",
    },
    submission(
        "e1",
        "npo",
        "party",
        {"purpose": 4, "trust": 2},
        "2009-04-01",
        party="npo",
        comment="decisions were made without us",
        comment_public=True,
    ),
    submission("e1", "pref", "party", {"purpose": 5, "trust": 4}, "2009-04-01", party="pref", comment="internal note"),
    submission(
        "e1",
        "r-7f3a",
        "resident",
        {"purpose": 3, "trust": 5},
        "2009-04-02",
        comment="my son still talks about the fox puppet",
        comment_public=False,
    ),
    submission(
        "e1",
        "r-9c21",
        "resident",
        {"purpose": 4, "trust": 4},
        "2009-04-03",
        comment="more shows please",
        comment_public=True,
    ),
    submission("e1", "x-univ", "external", {"purpose": 2, "trust": 3}, "2009-04-04"),
    {"op": "close_evaluation", "evaluation": "e1", "on": "2009-05-01"},
    {"op": "open_evaluation", "key": "e2", "partnership": "p", "period": "2009"},
    submission("e2", "r-0b5e", "resident", {"overall": 4}, "2010-04-01"),
]


def test_evaluation_summary_worked_example(ledger: PartnershipLedger) -> None:
    load(ledger, EVALUATIONS)
    s = both(ledger, "evaluation_summary", "p")
    rounds = {r["key"]: r for r in s["evaluations"]}
    e1 = rounds["e1"]
    assert e1["status"] == "closed"
    assert e1["closed_on"] == date(2009, 5, 1)
    assert e1["resident_weight"] == Decimal("0.6")
    assert e1["submissions"] == {"resident": 2, "party": 2, "external": 1}
    c = {x["criterion"]: x for x in e1["criteria"]}
    # purpose: party (4+5)/2 = 4.5; resident (3+4)/2 = 3.5; external 2;
    # others (4+5+2)/3 = 3.666...; combined 0.6*3.5 + 0.4*11/3 = 2.1 + 1.4666... = 3.5666...;
    # gap 4.5 - 3.5 = 1
    purpose = c["purpose"]
    assert [
        s6(purpose[k]) for k in ("party_mean", "resident_mean", "external_mean", "others_mean", "combined", "gap")
    ] == ["4.500000", "3.500000", "2.000000", "3.666667", "3.566667", "1.000000"]
    assert purpose["counts"] == {"party": 2, "resident": 2, "external": 1}
    # trust: party (2+4)/2 = 3; resident (5+4)/2 = 4.5; external 3; others (2+4+3)/3 = 3;
    # combined 0.6*4.5 + 0.4*3 = 3.9; gap 3 - 4.5 = -1.5
    trust = c["trust"]
    assert [
        s6(trust[k]) for k in ("party_mean", "resident_mean", "external_mean", "others_mean", "combined", "gap")
    ] == ["3.000000", "4.500000", "3.000000", "3.000000", "3.900000", "-1.500000"]
    # Each party's own view is kept, its comment only if it made it public.
    assert e1["party_views"] == [
        {
            "party": "npo",
            "scores": {"purpose": 4, "trust": 2},
            "comment": "decisions were made without us",
        },
        {"party": "pref", "scores": {"purpose": 5, "trust": 4}, "comment": None},
    ]
    assert e1["public_comments"] == [
        {"role": "party", "party": "npo", "comment": "decisions were made without us"},
        {"role": "resident", "party": None, "comment": "more shows please"},
    ]
    # Residents only: combined is the residents' mean, no gap; the default criterion.
    e2 = rounds["e2"]
    assert e2["status"] == "open"
    assert e2["resident_weight"] == Decimal("0.5")
    (overall,) = e2["criteria"]
    assert overall["criterion"] == "overall"
    assert (s6(overall["resident_mean"]), s6(overall["combined"])) == ("4.000000", "4.000000")
    assert (overall["party_mean"], overall["others_mean"], overall["gap"]) == (None, None, None)


def test_resident_ids_never_appear_in_the_evaluation_summary(ledger: PartnershipLedger) -> None:
    load(ledger, EVALUATIONS)
    for as_of in (None, FUTURE):
        text = json.dumps(ledger.evaluation_summary("p", as_of=as_of), default=str)
        for resident in ("r-7f3a", "r-9c21", "r-0b5e"):
            assert resident not in text
        assert "fox puppet" not in text  # a private comment stays private
        assert "internal note" not in text


# ---------------------------------------------------------------- sub-partnerships rolled up

ROLL_UP = [
    party("a", "municipality"),
    party("b", "intermediary"),
    party("c", "npo"),
    propose("lsp", "a", ["a", "b"], "2008-04-01", title="LSP"),
    propose("theme", "c", ["b", "c"], "2008-04-02", title="Theme group", parent="lsp"),
    pledge("ca", "lsp", "a", "money", 2_000_000, 2008, instrument="commission"),
    pledge("cb1", "lsp", "b", "staff_time", 1_000_000, 2008),
    pledge("cb2", "theme", "b", "staff_time", 1_000_000, 2008),
    pledge("cc", "theme", "c", "money", 4_000_000, 2008),
    deliver("ca", 2_000_000, "2008-05-01"),
    deliver("cb1", 1_000_000, "2008-05-01"),
    deliver("cb2", 1_000_000, "2008-05-01"),
    deliver("cc", 4_000_000, "2008-05-01"),
    decision("lsp", "d1", "a", "consensus", {"a": "for", "b": "for"}, "2008-06-01"),
    decision("theme", "d1", "c", "majority", {"c": "for"}, "2008-06-01"),
    target("t-theme", "theme", ("2007", 0), {"2008": 1}),
]


def test_include_children_rolls_sub_partnerships_up(ledger: PartnershipLedger) -> None:
    load(ledger, ROLL_UP)
    alone = both(ledger, "burden_balance", "lsp")
    assert alone["include_children"] == []
    # lsp alone: a 2M, b 1M: shares 2/3, 1/3
    assert {p: s6(r["share"]) for p, r in by_party(alone).items()} == {
        "a": "0.666667",
        "b": "0.333333",
    }
    rolled = both(ledger, "burden_balance", "lsp", include_children=True)
    assert rolled["include_children"] == ["theme"]
    # with theme: a 2M, b 1M + 1M, c 4M; total 8M; shares .25, .25, .5
    assert rolled["total"] == Decimal("8000000")
    assert {p: r["value"] for p, r in by_party(rolled).items()} == {
        "a": Decimal("2000000"),
        "b": Decimal("2000000"),
        "c": Decimal("4000000"),
    }
    assert {p: s6(r["share"]) for p, r in by_party(rolled).items()} == {
        "a": "0.250000",
        "b": "0.250000",
        "c": "0.500000",
    }
    # gini (2, 2, 4): ordered-pair sum 2*(0+2+2) = 8; 2*9*(8/3) = 48; 1/6
    assert s6(rolled["gini"]) == "0.166667"
    # money: commission 2M (lsp), no instrument 4M (theme): 1/3 and 2/3
    funding = rolled["funding"]
    assert [(i["instrument"], s6(i["share"])) for i in funding["by_instrument"]] == [
        ("commission", "0.333333"),
        ("unspecified", "0.666667"),
    ]
    assert s6(funding["joint_contribution_share"]) == "0.000000"
    assert s6(funding["subsidy_or_commission_share"]) == "0.333333"

    voice = both(ledger, "voice", "lsp", include_children=True)
    # lsp d1: a 2, b 1; theme d1: c 2 -> 5 in all
    assert voice["decisions"] == 2
    assert {p: r["voice"] for p, r in by_party(voice).items()} == {"a": 2, "b": 1, "c": 2}
    assert both(ledger, "voice", "lsp")["decisions"] == 1

    assert both(ledger, "target_progress", "lsp")["targets"] == []
    rolled_targets = both(ledger, "target_progress", "lsp", include_children=True)["targets"]
    assert [(t["key"], t["partnership"]) for t in rolled_targets] == [("t-theme", "theme")]
    # The child itself has no children.
    assert both(ledger, "burden_balance", "theme", include_children=True)["total"] == Decimal("5000000")


def test_as_of_before_a_sub_partnership_existed_does_not_name_it(
    ledger: PartnershipLedger,
) -> None:
    load(ledger, ROLL_UP[:4])
    before = datetime.now(UTC)
    sleep(0.003)
    load(ledger, ROLL_UP[4:])
    then = ledger.burden_balance("lsp", include_children=True, as_of=before)
    assert then["include_children"] == []
    assert then["total"] == Decimal("0")


# --------------------------------------------------------- which agreement gives the shares


def agreement(
    key: str,
    seq: int,
    *,
    signed: bool = True,
    shares: bool = True,
    start: str = "2008-04-01",
    end: str = "2010-03-31",
    terminated: str | None = None,
) -> AgreementFact:
    return AgreementFact(
        key,
        "p",
        key,
        seq,
        ["a", "b"],
        {"a": Decimal("0.5"), "b": Decimal("0.5")} if shares else None,
        date.fromisoformat(start),
        date.fromisoformat(end),
        4,
        {"a": date(2008, 4, 1), "b": date(2008, 4, 1)} if signed else {"a": date(2008, 4, 1)},
        date.fromisoformat(terminated) if terminated else None,
    )


def test_applicable_agreement_is_the_latest_signed_one_with_shares() -> None:
    old = agreement("old", 0)
    unsigned = agreement("unsigned", 1, signed=False)
    no_shares = agreement("no-shares", 2, shares=False)
    assert applicable_agreement([old, unsigned, no_shares], None) is old
    newer = agreement("newer", 3, start="2009-04-01", end="2011-03-31")
    assert applicable_agreement([old, newer], None) is newer
    # By fiscal year: in force at some time during it.
    assert applicable_agreement([old, newer], 2008) is old  # newer starts in FY2009
    assert applicable_agreement([old, newer], 2009) is newer
    assert applicable_agreement([old, newer], 2010) is newer
    assert applicable_agreement([old, newer], 2011) is None
    # A terminated agreement no longer applies overall, but still for the years it ran.
    ended = agreement("ended", 4, terminated="2009-06-30")
    assert applicable_agreement([old, ended], None) is old
    assert applicable_agreement([old, ended], 2009) is ended  # ran until June 2009
    assert applicable_agreement([ended], 2010) is None  # FY2010 starts after termination


def test_agreed_shares_change_only_when_every_party_consented(three: PartnershipLedger) -> None:
    rebalance = amend("ag", "rebalance", {"shares": {"npo": "0.4", "pref": "0.5", "board": "0.1"}}, "npo", "2009-04-01")
    consents = [consent("ag", "rebalance", p, "2009-04-02") for p in ("npo", "pref", "board")]
    load(three, [rebalance, *consents[:2]])
    rows = by_party(both(three, "burden_balance", "tour"))
    assert rows["npo"]["agreed_share"] == Decimal("0.3")  # board has not consented
    load(three, consents[2:])
    b = both(three, "burden_balance", "tour")
    rows = by_party(b)
    assert {p: s6(r["deviation"]) for p, r in rows.items()} == {
        "npo": "0.000000",
        "pref": "0.000000",
        "board": "0.000000",
    }
    assert b["excessive_burden"] == []


def test_an_unsigned_agreement_gives_no_agreed_shares(ledger: PartnershipLedger) -> None:
    ops = [op for op in THREE_PARTIES if not (op["op"] == "sign_agreement" and op["party"] == "board")]
    # Without board's signature the agreement is not in force: no pledges under it either.
    ops = [op for op in ops if op.get("agreement") is None or op["op"] != "pledge"]
    ops = [op for op in ops if op.get("contribution") not in ("c-npo", "c-pref", "c-board")]
    load(ledger, ops)
    b = both(ledger, "burden_balance", "tour")
    assert b["agreement"] is None
    assert all(r["agreed_share"] is None for r in b["parties"])


def test_queries_name_what_is_not_a_partnership(three: PartnershipLedger) -> None:
    for method in ("burden_balance", "voice", "target_progress", "evaluation_summary"):
        with pytest.raises(UnknownKey, match="no partnership nowhere"):
            getattr(three, method)("nowhere")
        with pytest.raises(UnknownKey, match="npo is a party"):
            getattr(three, method)("npo")
