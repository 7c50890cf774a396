"""Snapshots are stored a few at a time (``snapshots.STORE_BYTES`` of encoded state), and
each aggregate keeps only its latest: however they are split, the stored ones are those due,
they load as the events give, and ``verify`` vouches for them."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from partnership_ledger import PartnershipLedger, snapshots


def busy(ledger: PartnershipLedger, first: int, last: int) -> None:
    """Three partnerships (made on the first call) and decisions ``first`` to ``last`` of each."""
    journal: list[dict[str, object]] = []
    if first == 0:
        journal.append({"op": "register_party", "key": "a", "name": "A", "sector": "npo"})
        journal.append({"op": "register_party", "key": "b", "name": "B", "sector": "npo"})
    for p in range(3 if first == 0 else 0):
        journal.append(
            {
                "op": "propose_partnership",
                "key": f"p{p}",
                "title": "P",
                "purpose": "pooling",
                "proposed_by": "a",
                "members": ["a", "b"],
                "on": "2024-04-01",
            }
        )
    for i in range(first, last):
        for p in range(3):
            journal.append(
                {
                    "op": "record_decision",
                    "partnership": f"p{p}",
                    "key": f"d{i}",
                    "subject": f"s{i}",
                    "on": "2024-05-01",
                    "proposed_by": "a",
                    "rule": "consensus",
                    "votes": {"a": "for", "b": "for"},
                }
            )
    ledger.import_journal(json.dumps(journal))


def stored(path: Path) -> list[tuple[str, int]]:
    with closing(sqlite3.connect(path)) as con:
        return sorted(con.execute("SELECT originator_id, originator_version FROM stored_snapshots").fetchall())


@pytest.mark.parametrize("store_bytes", [1, snapshots.STORE_BYTES])
def test_snapshots_stored_in_small_pieces_are_the_latest_of_each_aggregate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_bytes: int
) -> None:
    monkeypatch.setattr(snapshots, "STORE_BYTES", store_bytes)
    path = tmp_path / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        busy(ledger, 0, snapshots.INTERVAL + 10)  # each partnership crosses an interval
        busy(ledger, snapshots.INTERVAL + 10, 2 * snapshots.INTERVAL)  # and another one
        versions = {ledger.aggregate(f"p{p}").id.hex: ledger.aggregate(f"p{p}").version for p in range(3)}
    # One snapshot an aggregate, of its state when the batch that crossed the interval committed.
    assert stored(path) == sorted(versions.items())
    assert set(versions.values()) == {1 + 2 * snapshots.INTERVAL}
    with PartnershipLedger.open(path, readonly=True) as ledger:
        assert len(ledger.show("p1")["decisions"]) == 2 * snapshots.INTERVAL
        assert snapshots.check_snapshots(ledger) is None  # each equal to its replay
