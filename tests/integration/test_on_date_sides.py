"""``balance --on`` sums the amounts by day from whichever side of the date has fewer rows:
up to the day, or today's buckets less what came after it. Both sides give the same buckets,
on every day of the demo's history and on random ledgers."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta

from hypothesis import given, settings
from strategies import valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.projections import sums
from partnership_ledger.projections.sqlstore import SqlFactStore


def _both_sides(
    store: SqlFactStore, partnership: str, day: date
) -> tuple[dict[object, object] | None, dict[object, object]]:
    later = sums._from_now(store.db, partnership, day.isoformat())
    original = sums._from_now
    try:
        sums._from_now = lambda *_: None
        up_to: dict[object, object] = dict(store.buckets_on(partnership, day))
    finally:
        sums._from_now = original
    return (dict(later) if later is not None else None), up_to


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
        store = SqlFactStore(ledger.db)
        from_now = 0
        for p in ledger.partnerships():
            for day in _days(ledger, p["key"]):
                later, up_to = _both_sides(store, p["key"], day)
                if later is not None:
                    assert later == up_to, (p["key"], day)
                    from_now += 1
        assert from_now > 20  # the late days of each partnership take the other side


@settings(max_examples=15)
@given(journal=valid_journals(min_ops=8, max_ops=30))
def test_both_sides_agree_on_random_ledgers(
    new_ledger: Callable[[], AbstractContextManager[PartnershipLedger]], journal: list[dict[str, object]]
) -> None:
    with new_ledger() as ledger:
        ledger.import_journal(json.dumps(journal))
        store = SqlFactStore(ledger.db)
        for p in ledger.partnerships():
            for day in _days(ledger, p["key"]):
                later, up_to = _both_sides(store, p["key"], day)
                assert later is None or later == up_to, (p["key"], day)
