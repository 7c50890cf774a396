"""A small ledger in two parts, recorded a moment apart: the ``--on``/``--as-of`` tests' data
(tests/integration/test_ontimes_queries.py through the library, tests/e2e/test_ontimes_cli.py
through the CLI)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import journal_ops as ops
from journal_ops import jpy

from partnership_ledger import PartnershipLedger


def pledge(ledger: PartnershipLedger, key: str, party: str, fiscal_year: int) -> None:
    ledger.record(ops.pledge(key, "p", party, "money", 1000, fiscal_year))


def first_part(ledger: PartnershipLedger) -> None:
    ledger.register_party("a", "A", "npo", jpy(1000))
    ledger.register_party("b", "B", "municipality")
    ledger.register_party("c", "C", "business")
    ledger.propose_partnership("p", "P", "purpose", "a", ["a", "b"], "2020-04-01")
    ledger.activate_partnership("p", "2020-05-01")
    pledge(ledger, "c1", "a", 2020)
    ledger.deliver("c1", jpy(100), "2020-06-01")


def second_part(ledger: PartnershipLedger) -> None:
    ledger.register_party("d", "D", "npo")
    ledger.record(
        {"op": "amend_party", "party": "a", "name": "A2", "capacity": jpy(4000), "reason": "r", "on": "2021-04-01"}
    )
    ledger.join_partnership("p", "c", "2021-05-01")
    ledger.leave_partnership("p", "b", "2021-06-01", "moved on")
    ledger.propose_partnership("q", "Q", "purpose", "c", ["c", "d"], "2021-07-01")
    pledge(ledger, "c2", "c", 2021)
    ledger.deliver("c2", jpy(50), "2021-08-01")
    ledger.deliver("c1", jpy(30), "2021-09-01")
    ledger.conclude_partnership("p", "2022-03-31")


def build(ledger: PartnershipLedger) -> datetime:
    """The small ledger; returns a time recorded between its two parts."""
    first_part(ledger)
    time.sleep(0.005)
    between = datetime.now(UTC)
    time.sleep(0.005)
    second_part(ledger)
    return between
