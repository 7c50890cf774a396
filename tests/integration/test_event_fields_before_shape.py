"""Events recorded today have the fields, in the order, of those recorded before issue 20.

The stored bytes of an event follow its class's fields in order (the chain hashes them), so
an event class written out by hand (``ResourceContribution.Delivered``) rather than made by
the ``@event`` decorator must keep them, and so must a decorated method's arguments: the
journal of ``tests/data/before-shape/every-op.sqlite`` (every operation), recorded again by
today's code, gives events with the same topics and the same keys in the same order (but
for events whose class version rose since, which are upcast when read).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from partnership_ledger import PartnershipLedger

DATA = Path(__file__).resolve().parents[1] / "data"


def _shapes(db: Path) -> list[tuple[str, list[str]]]:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT topic, state FROM stored_events ORDER BY rowid").fetchall()
    con.close()
    shapes = []
    for topic, state in rows:
        parsed: dict[str, Any] = json.loads(state)
        shapes.append((topic, list(parsed)))
    return shapes


def test_every_ops_events_keep_their_fields_in_order(tmp_path: Path) -> None:
    db = tmp_path / "again.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(DATA / "every-op.json")
    before = _shapes(DATA / "before-shape" / "every-op.sqlite")
    again = _shapes(db)
    assert [topic for topic, _ in again] == [topic for topic, _ in before]
    compared = 0
    for (topic, keys_before), (_, keys_again) in zip(before, again, strict=True):
        if "class_version" in keys_again and "class_version" not in keys_before:
            continue  # a newer version of the event (ContributionCounted 2): upcast when read
        assert keys_again == keys_before, topic
        compared += 1
    assert compared > len(again) // 2
    topics = {topic.rsplit(":", 1)[1] for topic, _ in again}
    for kind in ("Delivered", "ContributionCounted", "Corrected", "Withdrawn", "Measured"):
        assert any(t.endswith("." + kind) for t in topics), kind
