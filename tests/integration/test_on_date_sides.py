"""``balance --on`` sums the amounts by day from whichever side of the date has fewer rows:
up to the day, or today's buckets less what came after it. Whichever side a day takes, the
read models give the buckets a replay of the events gives, on every day of the demo's history
and on random ledgers."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta

from hypothesis import given, settings
from strategies import valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.projections.sqlstore import SqlFactStore


def assert_every_day_agrees(ledger: PartnershipLedger) -> int:
    """The buckets on each day around each movement of each partnership, from the read
    models and from a replay, are the same; returns how many days were compared."""
    store, replayed = SqlFactStore(ledger.db), ledger.replay_facts()
    compared = 0
    for p in ledger.partnerships():
        for day in _days(ledger, p["key"]):
            assert dict(store.buckets_on(p["key"], day)) == dict(replayed.buckets_on(p["key"], day)), (p["key"], day)
            compared += 1
    return compared


def _days(ledger: PartnershipLedger, partnership: str) -> list[date]:
    with ledger.db.transaction(commit=False) as c:
        c.execute("SELECT DISTINCT day FROM rm_amounts WHERE partnership=? ORDER BY day", (partnership,))
        days = [date.fromisoformat(r[0]) for r in c.fetchall()]
    return sorted({d for x in days for d in (x - timedelta(days=1), x)}) + (
        [days[-1] + timedelta(days=1)] if days else []
    )


def test_both_sides_agree_on_every_day_of_the_demo(
    new_ledger: Callable[[], AbstractContextManager[PartnershipLedger]], demo_bytes: bytes
) -> None:
    with new_ledger() as ledger:
        ledger.import_journal(demo_bytes)
        assert assert_every_day_agrees(ledger) > 100


@settings(max_examples=15)
@given(journal=valid_journals(min_ops=8, max_ops=30))
def test_both_sides_agree_on_random_ledgers(
    new_ledger: Callable[[], AbstractContextManager[PartnershipLedger]], journal: list[dict[str, object]]
) -> None:
    with new_ledger() as ledger:
        ledger.import_journal(json.dumps(journal))
        assert_every_day_agrees(ledger)
