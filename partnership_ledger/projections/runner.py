"""Keeps the read models up to date with the notification log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from ..storage.db import Cursor, Db

TRACKING_TABLE = "CREATE TABLE IF NOT EXISTS ledger_tracking (name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
TRACKING_NAME = "read_models"
BATCH = 2000


class AggregateInfo:
    """What the read models need to know about an aggregate to place its events."""

    __slots__ = ("key", "kind", "parent", "partnership", "party")

    def __init__(self, kind: str, key: str, partnership: str | None, party: str | None, parent: str | None) -> None:
        self.kind = kind
        self.key = key
        self.partnership = partnership
        self.party = party
        self.parent = parent


class ReadModel(Protocol):
    """A read model: its tables, and how one event changes them."""

    @property
    def tables(self) -> Sequence[str]:  # CREATE TABLE / INDEX statements
        ...

    @property
    def table_names(self) -> Sequence[str]: ...

    def apply(self, c: Cursor, position: int, recorded_at: datetime, event: Any, info: AggregateInfo) -> None: ...


def _is_database_error(e: BaseException) -> bool:
    import sqlite3

    from eventsourcing.persistence import PersistenceError

    if isinstance(e, (sqlite3.Error, PersistenceError)):
        return True
    return type(e).__module__.startswith("psycopg")


class Projections:
    """Runs every read model over new events, in batches, with exactly-once tracking."""

    def __init__(
        self,
        db: Db,
        mapper: Mapper[UUID],
        models: Sequence[ReadModel],
        info_of: Callable[[Cursor, Any], AggregateInfo],
    ) -> None:
        self.db = db
        self.mapper = mapper
        self.models = list(models)
        self.info_of = info_of

    def create_tables(self) -> None:
        statements = [TRACKING_TABLE]
        for m in self.models:
            statements.extend(m.tables)
        self.db.script(statements)
        with self.db.transaction() as c:
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            if c.fetchone() is None:
                c.execute(
                    "INSERT INTO ledger_tracking VALUES (?, 0) ON CONFLICT (name) DO NOTHING",
                    (TRACKING_NAME,),
                )

    def position(self) -> int:
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            row = c.fetchone()
            return int(row[0]) if row else 0

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event not yet applied; returns how many were applied."""
        applied = 0
        if self.is_current():
            return 0
        while True:
            n = self._batch()
            applied += n
            if progress is not None and n:
                progress(n)
            if n < BATCH:
                return applied

    def is_current(self) -> bool:
        """Whether every stored event is already applied (a cheap read, no lock)."""
        pos, table = self.db.position_col, self.db.events_table
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            row = c.fetchone()
            c.execute(f"SELECT MAX({pos}) FROM {table}")
            last = c.fetchone()
        return row is not None and last is not None and int(row[0]) == int(last[0] or 0)

    def apply_recorded(self, c: Cursor, recorded: Sequence[tuple[int, Any]]) -> bool:
        """Apply events just stored, inside the transaction that stores them.

        ``recorded`` pairs each new event with its position. This spares re-reading and
        decoding what is already in memory, and gives read-your-writes with one commit. It
        applies only when the read models were current up to the first new position;
        otherwise (or if a read model fails, rolled back to a savepoint so the events still
        commit) it does nothing and :meth:`catch_up` applies the events later.
        """
        if not recorded:
            return True
        c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
        row = c.fetchone()
        if row is None or int(row[0]) != recorded[0][0] - 1:
            return False
        c.execute("SAVEPOINT read_models")
        for m in self.models:
            if hasattr(m, "begin"):
                m.begin(c)
        try:
            for position, event in recorded:
                info = self.info_of(c, event)
                for m in self.models:
                    m.apply(c, position, event.timestamp, event, info)
            for m in self.models:
                if hasattr(m, "end"):
                    m.end()
            c.execute("UPDATE ledger_tracking SET position=? WHERE name=?", (recorded[-1][0], TRACKING_NAME))
        except Exception as e:
            for m in self.models:
                if hasattr(m, "abort"):
                    m.abort()
            if _is_database_error(e):
                raise  # the disk is full, the database is locked...: the whole write fails
            c.execute("ROLLBACK TO SAVEPOINT read_models")
            c.execute("RELEASE SAVEPOINT read_models")
            return False
        c.execute("RELEASE SAVEPOINT read_models")
        return True

    def _batch(self) -> int:
        with self.db.transaction() as c:
            # Writing the tracking row first takes the write lock (SQLite) or the row lock
            # (PostgreSQL): two processes catching up at once apply each event once.
            c.execute("UPDATE ledger_tracking SET position = position WHERE name=?", (TRACKING_NAME,))
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            row = c.fetchone()
            start = int(row[0]) if row else 0
            pos, table = self.db.position_col, self.db.events_table
            c.execute(
                f"SELECT {pos}, originator_id, originator_version, topic, state FROM {table} "
                f"WHERE {pos} > ? ORDER BY {pos} LIMIT ?",
                (start, BATCH),
            )
            rows = c.fetchall()
            last = start
            for m in self.models:
                if hasattr(m, "begin"):
                    m.begin(c)
            try:
                for position, oid, version, topic, state in rows:
                    event: Any = self.mapper.to_domain_event(  # ours all carry a timestamp
                        StoredEvent(
                            originator_id=UUID(str(oid)),  # text (SQLite) or uuid (PostgreSQL)
                            originator_version=version,
                            topic=topic,
                            state=bytes(state),
                        )
                    )
                    info = self.info_of(c, event)
                    for m in self.models:
                        m.apply(c, position, event.timestamp, event, info)
                    last = position
                for m in self.models:
                    if hasattr(m, "end"):
                        m.end()
            except BaseException:
                # The transaction rolls back: a model that keeps batch state (a cursor,
                # caches) must drop it, or later reads would use a closed cursor.
                for m in self.models:
                    if hasattr(m, "abort"):
                        m.abort()
                raise
            if rows:
                c.execute("UPDATE ledger_tracking SET position=? WHERE name=?", (last, TRACKING_NAME))
            return len(rows)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop and recompute every read model from the first event."""
        with self.db.transaction() as c:
            for m in self.models:
                for name in m.table_names:
                    c.execute(f"DROP TABLE IF EXISTS {name}")
            c.execute("DELETE FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
        self.create_tables()
        return self.catch_up(progress)
