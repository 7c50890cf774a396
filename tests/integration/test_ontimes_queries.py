"""parties, partnerships and contributions take ``on`` (effective date) and ``as_of``
(recorded time), and the two compose (issue 15, item 4)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Any

from journal_ops import jpy
from small_ledgers import build, first_part

from partnership_ledger import PartnershipLedger
from partnership_ledger.queries.contributions import contributions


def by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["key"] if "key" in r else r["contribution"]: r for r in rows}


def test_parties_on_a_date_as_of_a_time_and_both(ledger: PartnershipLedger) -> None:
    between = build(ledger)
    now = by_key(ledger.parties())
    assert sorted(now) == ["a", "b", "c", "d"]
    assert (now["a"]["name"], now["a"]["capacity"]["amount"]) == ("A2", 4000)
    then = by_key(ledger.parties(on="2021-03-31"))
    assert sorted(then) == ["a", "b", "c", "d"]  # a party has no date of registration
    assert (then["a"]["name"], then["a"]["capacity"]["amount"]) == ("A", 1000)
    assert by_key(ledger.parties(on="2021-04-01"))["a"]["name"] == "A2"  # from the amendment's date on
    recorded = by_key(ledger.parties(as_of=between))
    assert sorted(recorded) == ["a", "b", "c"]
    assert recorded["a"]["name"] == "A"
    # Both: on a date after the amendment, but as recorded before it was.
    assert by_key(ledger.parties(on="2022-01-01", as_of=between))["a"]["name"] == "A"
    assert ledger.parties(as_of="2000-01-01") == []


def test_partnerships_on_a_date_as_of_a_time_and_both(ledger: PartnershipLedger) -> None:
    between = build(ledger)
    now = by_key(ledger.partnerships())
    assert sorted(now) == ["p", "q"]
    assert now["p"]["phase"] == "concluded"
    assert sorted(now["p"]["members"]) == ["a", "c"]
    mid = by_key(ledger.partnerships(on="2021-05-15"))
    assert sorted(mid) == ["p"]  # q was proposed later
    assert mid["p"]["phase"] == "active"
    assert sorted(mid["p"]["members"]) == ["a", "b", "c"]
    early = by_key(ledger.partnerships(on="2020-04-15"))
    assert early["p"]["phase"] == "preparing"
    assert sorted(early["p"]["members"]) == ["a", "b"]
    assert ledger.partnerships(on="2020-03-31") == []
    recorded = by_key(ledger.partnerships(as_of=between))
    assert sorted(recorded) == ["p"]
    assert recorded["p"]["phase"] == "active"
    assert sorted(recorded["p"]["members"]) == ["a", "b"]
    both = by_key(ledger.partnerships(on="2020-04-15", as_of=between))
    assert both["p"]["phase"] == "preparing"
    assert by_key(ledger.partnerships(on="2022-06-01", as_of=between))["p"]["phase"] == "active"


def test_contributions_as_of_a_time_and_with_on(ledger: PartnershipLedger) -> None:
    between = build(ledger)
    now = by_key(contributions(ledger))
    assert (now["c1"]["delivered"], now["c2"]["delivered"]) == (Decimal(130), Decimal(50))
    recorded = by_key(contributions(ledger, as_of=between))
    assert sorted(recorded) == ["c1"]
    assert recorded["c1"]["delivered"] == Decimal(100)
    on = by_key(contributions(ledger, on=datetime(2021, 8, 31).date()))
    assert (on["c1"]["delivered"], on["c2"]["delivered"]) == (Decimal(100), Decimal(50))
    both = by_key(contributions(ledger, on=datetime(2020, 5, 31).date(), as_of=between))
    assert both["c1"]["delivered"] == Decimal(0)
    assert contributions(ledger, partnership="p", as_of="2000-01-01") == []


def test_as_of_equals_a_ledger_holding_only_what_was_recorded_by_then(
    new_ledger: Callable[[], AbstractContextManager[PartnershipLedger]],
) -> None:
    with new_ledger() as full, new_ledger() as only_first:
        between = build(full)
        first_part(only_first)
        for on in (None, "2020-04-15", "2021-12-31"):
            assert full.parties(on=on, as_of=between) == only_first.parties(on=on)
            assert full.partnerships(on=on, as_of=between) == only_first.partnerships(on=on)
        assert contributions(full, as_of=between) == contributions(only_first)


def test_on_equals_a_ledger_holding_only_what_took_effect_by_then(
    new_ledger: Callable[[], AbstractContextManager[PartnershipLedger]],
) -> None:
    with new_ledger() as full, new_ledger() as by_then:
        build(full)
        # What took effect by 2021-05-15: the first part, d, the amendment and c's joining.
        first_part(by_then)
        by_then.register_party("d", "D", "npo")
        by_then.record(
            {"op": "amend_party", "party": "a", "name": "A2", "capacity": jpy(4000), "reason": "r", "on": "2021-04-01"}
        )
        by_then.join_partnership("p", "c", "2021-05-01")
        assert full.parties(on="2021-05-15") == by_then.parties()
        assert full.partnerships(on="2021-05-15") == by_then.partnerships()
