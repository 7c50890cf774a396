"""The sums by day (``rm_amounts``) within a batch: what a query inside the batch sees, and
what the batch writes, are the stored amounts plus what the batch added."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from partnership_ledger.projections import sums
from partnership_ledger.projections.fact_rows import TABLES

PARTIES = ("p-1", "p-2")
DAYS = ("2024-04-01", "2024-05-01", "2024-06-01")
AMOUNTS = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
#: A row's key (partnership "ps", a party, a day) and its pledged, withdrawn, delivered amounts.
MOVES = st.lists(st.tuples(st.sampled_from(PARTIES), st.sampled_from(DAYS), AMOUNTS, AMOUNTS, AMOUNTS), max_size=12)


def key(party: str, day: str) -> tuple[Any, ...]:
    return ("ps", party, 2024, "money", "cash", "JPY", day)


def summed(moves: list[tuple[str, str, Decimal, Decimal, Decimal]]) -> dict[tuple[Any, ...], list[Decimal]]:
    found: dict[tuple[Any, ...], list[Decimal]] = {}
    for party, day, *amounts in moves:
        slot = found.setdefault(key(party, day), [Decimal(0)] * 3)
        for i, amount in enumerate(amounts):
            slot[i] += amount
    return found


def table(c: sqlite3.Cursor) -> dict[tuple[Any, ...], list[Decimal]]:
    c.execute(
        "SELECT partnership, party, fiscal_year, kind, instrument, currency, day, pledged, withdrawn, delivered "
        "FROM rm_amounts"
    )
    return {tuple(r[:7]): [Decimal(v) for v in r[7:]] for r in c.fetchall()}


@given(stored=MOVES, before=MOVES, after=MOVES, on=st.sampled_from(DAYS))
@settings(max_examples=50, deadline=None)
def test_a_batch_adds_to_the_stored_day_sums(stored: list[Any], before: list[Any], after: list[Any], on: str) -> None:
    db = sqlite3.connect(":memory:")
    c = db.cursor()
    for ddl in TABLES:
        c.execute(ddl)
    c.executemany(
        "INSERT INTO rm_amounts (partnership, party, fiscal_year, kind, instrument, currency, day, pledged, "
        "withdrawn, delivered) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [(*k, *(str(a) for a in v)) for k, v in summed(stored).items()],
    )

    def read(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        c.execute(sql, params)
        return c.fetchall()

    days = sums.Sums("rm_amounts", sums.DAY_KEY, whole_pairs=False)
    for party, day, *amounts in before:
        days.add(read, True, key(party, day), *amounts)
    # A query inside the batch: the stored rows and what the batch added, up to the day.
    expected: dict[tuple[Any, ...], list[Decimal]] = {}
    for k, amounts in summed(stored + before).items():
        if k[6] <= on:
            slot = expected.setdefault(k[1:6], [Decimal(0)] * 3)
            for i, amount in enumerate(amounts):
                slot[i] += amount
    found = sums.buckets_on(read, None, True, days, "ps", on)  # type: ignore[arg-type]  # no db: in a batch
    assert {k[1:]: [b.pledged, b.withdrawn, b.delivered] for k, b in found} == expected
    for party, day, *amounts in after:
        days.add(read, True, key(party, day), *amounts)
    days.flush(c)
    assert table(c) == summed(stored + before + after)
