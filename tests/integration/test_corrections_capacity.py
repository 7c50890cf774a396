"""Indicators that use capacity take the capacity in force in the period (amend_party)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from journal_ops import jpy, pledge

from partnership_ledger import PartnershipLedger


def test_capacity_burden_uses_the_capacity_in_force_in_the_period(
    new_ledger: Callable[[], AbstractContextManager[PartnershipLedger]],
) -> None:
    with new_ledger() as ledger:
        ledger.register_party("a", "A", "npo", jpy(1000))
        ledger.register_party("b", "B", "npo", jpy(1000))
        ledger.propose_partnership("p", "P", "purpose", "a", ["a", "b"], "2020-04-01")
        for key, party, fy, day in (("c1", "a", 2020, "2020-06-01"), ("c2", "a", 2021, "2021-06-01")):
            ledger.record(pledge(key, "p", party, "money", 100, fy))
            ledger.deliver(key, jpy(100), day)
        ledger.record(
            {"op": "amend_party", "party": "a", "capacity": jpy(4000), "reason": "new budget", "on": "2021-04-01"}
        )

        def burden(**kw: object) -> object:
            rows = ledger.burden_balance("p", **kw)["parties"]  # type: ignore[arg-type]
            return next(r["capacity_burden"] for r in rows if r["party"] == "a")

        assert str(burden(fiscal_year=2020)) == "0.100000"  # 100 / 1000: the capacity of FY2020
        assert str(burden(fiscal_year=2021)) == "0.025000"  # 100 / 4000: amended from April 2021
        assert str(burden()) == "0.050000"  # 200 / 4000: the current capacity
        assert str(burden(on="2021-03-31")) == "0.100000"  # 100 / 1000, as things stood then
        assert ledger.show("a", on="2021-03-31")["capacity"]["amount"] == 1000
        assert ledger.show("a")["capacity"]["amount"] == 4000
