"""The baseline: a plain eventsourcing Application with one trivial aggregate type.

Same library, same SQLite (eventsourcing's own recorder, ``PERSISTENCE_MODULE=
eventsourcing.sqlite``, a file in WAL mode) or PostgreSQL (``eventsourcing.postgres``),
nothing of the ledger: no journal parsing or
validation, no domain rules, no hash chain, no indexes, no read models.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Counter(Aggregate):
    """The trivial aggregate: created, then incremented."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, by: int) -> None:
        self.count += by


def is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def plain_application(db_path: str) -> Application[UUID]:
    """The plain Application on SQLite (a file path) or PostgreSQL (a ``postgresql://`` URL:
    ``PERSISTENCE_MODULE=eventsourcing.postgres`` with its ``POSTGRES_*`` settings)."""
    if is_postgres(db_path):
        from partnership_ledger.storage.postgres import parse_url

        return Application(env={"PERSISTENCE_MODULE": "eventsourcing.postgres", **parse_url(db_path)})
    return Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": db_path,
        }
    )


def synchronous_setting(db_path: str) -> int | None:
    """The ``PRAGMA synchronous`` a fresh connection to ``db_path`` gets (2 = FULL); None on PostgreSQL."""
    if is_postgres(db_path):
        return None
    con = sqlite3.connect(db_path)
    try:
        return int(con.execute("PRAGMA synchronous").fetchone()[0])
    finally:
        con.close()


def batched_save(db_path: str, aggregates: int, events: int) -> dict[str, Any]:
    """Create ``aggregates`` counters and enough increments for ``events`` events in all,
    then save them in one ``app.save(*counters)``: one transaction, like one import."""
    app = plain_application(db_path)
    aggregates = max(1, min(aggregates, events))
    start, cpu = time.perf_counter(), time.process_time()
    counters = [Counter(f"counter-{i}") for i in range(aggregates)]
    for i in range(events - aggregates):
        counters[i % aggregates].increment(by=1)
    app.save(*counters)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    stored = app.recorder.max_notification_id() or 0
    app.close()
    return {"events": int(stored), "aggregates": aggregates, "seconds": seconds, "cpu_seconds": cpu}


def one_event_per_save(db_path: str, commands: int, pool: int) -> dict[str, Any]:
    """``commands`` times: get a counter, increment it, save it (one event, one transaction).

    The ``pool`` counters are created first, untimed. Also times ``commands`` saves of a
    new counter each (no read), the cheapest one-event save there is.
    """
    app = plain_application(db_path)
    created = [Counter(f"pool-{i}") for i in range(pool)]
    app.save(*created)
    ids = [c.id for c in created]

    start, cpu = time.perf_counter(), time.process_time()
    for i in range(commands):
        counter: Counter = app.repository.get(ids[i % pool])
        counter.increment(by=1)
        app.save(counter)
    command_seconds, cpu = time.perf_counter() - start, time.process_time() - cpu

    start = time.perf_counter()
    for i in range(commands):
        app.save(Counter(f"new-{i}"))
    create_seconds = time.perf_counter() - start
    app.close()
    return {
        "commands": commands,
        "pool": pool,
        "seconds": command_seconds,
        "cpu_seconds": cpu,
        "create_only_seconds": create_seconds,
    }
