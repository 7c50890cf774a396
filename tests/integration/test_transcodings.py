"""The ledger's events are stored by eventsourcing's own Mapper and JSONTranscoder.

With the ledger's transcodings registered (``storage/transcodings.py``), its value objects
round-trip, a journal's events load back as they were recorded, and the events of ledgers
written before are stored again as the very bytes they were: the stored bytes are a
contract, since the hash chain covers them.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.utils import resolve_topic
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Op, event_values, valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.domain.values import Money
from partnership_ledger.storage.transcodings import register_transcodings

DATA = Path(__file__).resolve().parents[1] / "data"


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    Application.register_transcodings(Application, transcoder)  # type: ignore[arg-type]
    register_transcodings(transcoder)
    return transcoder


TRANSCODER = _transcoder()

values = event_values()


@given(st.dictionaries(st.text(max_size=12), values, max_size=8))
@settings(max_examples=300)
def test_the_ledgers_values_round_trip(state: dict[str, Any]) -> None:
    assert TRANSCODER.decode(TRANSCODER.encode(state)) == state


def test_dates_and_times_keep_their_iso_text() -> None:
    moment = datetime(2024, 4, 1, 9, 30, 0, 123, tzinfo=timezone(timedelta(hours=9)))
    value = {"at": moment, "on": date(2024, 4, 1), "id": uuid.UUID(int=5), "m": Money(Decimal("1.50"), "JPY")}
    encoded = TRANSCODER.encode(value)
    assert moment.isoformat().encode() in encoded
    assert b'"2024-04-01"' in encoded
    assert b'{"amount":{"_type_":"decimal_str","_data_":"1.50"},"currency":"JPY"}' in encoded
    assert TRANSCODER.decode(encoded) == value


@pytest.fixture(scope="module")
def events_of(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Import a journal into a fresh ledger; return its mapper and the events it recorded."""
    made = iter(range(10**9))

    def events(ops: list[Op]) -> tuple[Any, list[Any]]:
        path = tmp_path_factory.mktemp("transcodings") / f"l{next(made)}.sqlite"
        ledger = PartnershipLedger.open(str(path))
        try:
            ledger.import_journal(json.dumps(ops).encode())
            stored = ledger.recorder.select_notifications(start=1, limit=10**6)
            return ledger.mapper, [ledger.mapper.to_domain_event(s) for s in stored]
        finally:
            ledger.close()

    return events


def _same_event(mapper: Any, event: Any) -> None:
    again = mapper.to_domain_event(mapper.to_stored_event(event))
    assert type(again) is type(event)
    assert vars(again) == vars(event)


@given(valid_journals(max_ops=30))
@settings(max_examples=30, deadline=None)
def test_a_journals_events_load_back_as_recorded(events_of: Any, ops: list[Op]) -> None:
    mapper, events = events_of(ops)
    for event in events:
        _same_event(mapper, event)


def test_every_ops_events_load_back_as_recorded(events_of: Any, every_op_path: Path) -> None:
    mapper, events = events_of(json.loads(every_op_path.read_text()))
    assert len({type(e) for e in events}) > 15
    for event in events:
        _same_event(mapper, event)


@pytest.mark.parametrize(
    "fixture", ["before-shape/every-op.sqlite", "before-shape/demo.sqlite", "ledger-before-corrections.sqlite"]
)
def test_events_stored_before_are_stored_again_as_the_same_bytes(fixture: str, tmp_path: Path) -> None:
    # Each event of a ledger written by earlier code, loaded and stored again by today's
    # mapper, gives the bytes stored then (but for events upcast since: their state changed).
    path = tmp_path / "l.sqlite"
    shutil.copy(DATA / fixture, path)
    con = sqlite3.connect(path)
    rows = con.execute("SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid")
    stored = [StoredEvent(uuid.UUID(oid), version, topic, state) for oid, version, topic, state in rows]
    con.close()
    with PartnershipLedger.open(path, create=False) as ledger:
        mapper = ledger.mapper
        compared = 0
        for s in stored:
            event = mapper.to_domain_event(s)
            if json.loads(s.state).get("class_version", 1) != getattr(resolve_topic(s.topic), "class_version", 1):
                continue  # upcast: stored in an older shape
            again = mapper.to_stored_event(event)
            assert (again.originator_id, again.originator_version, again.topic, again.state) == (
                s.originator_id,
                s.originator_version,
                s.topic,
                s.state,
            )
            compared += 1
    assert compared > len(stored) // 2
