"""Keeps the read models up to date with the notification log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from ..storage.db import Cursor, Db

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

TRACKING_TABLE = "CREATE TABLE IF NOT EXISTS ledger_tracking (name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
#: The layout of the read-model tables, carried by the name of their tracking row: read models
#: made by another layout (an older version) have no row of this name, so opening the ledger
#: drops them and applies every event again, and a reader looking for the row finds none.
LAYOUT = 2
TRACKING_NAME = f"read_models.v{LAYOUT}"
#: Events applied per transaction when catching up, and when rebuilding from the first event.
BATCH = 2000
REBUILD_BATCH = 10000


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
    """A read model: its tables, and how one event changes them.

    Optional parts, looked up with ``getattr``: ``begin(cursor)``, ``end()`` and ``abort()``
    around each batch of events (one transaction), and ``event_names``, the names of the
    event classes it reads (the runner does not even decode an event no model reads).
    """

    @property
    def tables(self) -> Sequence[str]:  # CREATE TABLE / INDEX statements
        ...

    @property
    def table_names(self) -> Sequence[str]: ...

    def apply(self, c: Cursor, position: int, recorded_at: datetime, event: Any, info: AggregateInfo) -> None: ...


def _is_index(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))


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
        names = [getattr(m, "event_names", None) for m in self.models]
        #: The names of the event classes some model reads (None: every event).
        self.event_names: frozenset[str] | None = (
            None if any(n is None for n in names) else frozenset().union(*names)  # type: ignore[arg-type]
        )
        self._wanted_topics: dict[str, bool] = {}
        statements = [s for m in self.models for s in m.tables]
        self._tables = [s for s in statements if not _is_index(s)]
        self._indexes = [s for s in statements if _is_index(s)]

    # -- tables -----------------------------------------------------------------------------
    def _schema_lock(self, c: Cursor) -> None:
        """Make processes that open one ledger at once change its tables in turn."""
        if self.db.backend == "postgresql":
            from ..storage.postgres import SCHEMA_LOCK

            c.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
        else:
            # A write as the first statement takes SQLite's write lock (even if it changes no
            # row), so no other process changes the tables between our read and our writes.
            c.execute("UPDATE ledger_tracking SET position = position WHERE name=?", (TRACKING_NAME,))

    def _drop(self, c: Cursor) -> None:
        for m in self.models:
            for name in m.table_names:
                c.execute(f"DROP TABLE IF EXISTS {name}")

    def create_tables(self) -> None:
        """Create the read-model tables, or start them afresh if another layout made them."""
        self.db.script([TRACKING_TABLE])
        with self.db.transaction() as c:
            self._schema_lock(c)
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            if c.fetchone() is None:
                # A new ledger, or read models of another layout: every event is applied again.
                self._drop(c)
                c.execute("DELETE FROM ledger_tracking WHERE name LIKE 'read_models%'")
                c.execute("INSERT INTO ledger_tracking VALUES (?, 0)", (TRACKING_NAME,))
            for statement in self._tables + self._indexes:
                c.execute(statement)

    def position(self) -> int:
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            row = c.fetchone()
            return int(row[0]) if row else 0

    def is_current(self) -> bool:
        """Whether every stored event is already applied (a cheap read, no lock)."""
        pos, table = self.db.position_col, self.db.events_table
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            row = c.fetchone()
            c.execute(f"SELECT MAX({pos}) FROM {table}")
            last = c.fetchone()
        return row is not None and last is not None and int(row[0]) == int(last[0] or 0)

    # -- applying events --------------------------------------------------------------------
    def catch_up(self, progress: Callable[[int], None] | None = None, *, batch: int = BATCH) -> int:
        """Apply every event not yet applied; returns how many were applied."""
        applied = 0
        if self.is_current():
            return 0
        while True:
            n = self._batch(batch)
            applied += n
            if progress is not None and n:
                progress(n)
            if n < batch:
                return applied

    def _wanted(self, topic: str) -> bool:
        """Whether some model reads events of this topic (decided once per topic)."""
        found = self._wanted_topics.get(topic)
        if found is None:
            if self.event_names is None:
                found = True
            else:
                from eventsourcing.utils import resolve_topic

                try:
                    found = resolve_topic(topic).__qualname__ in self.event_names
                except Exception:  # an unknown topic: decoding it says what is wrong
                    found = True
            self._wanted_topics[topic] = found
        return found

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
        names = self.event_names
        try:
            for position, event in recorded:
                if names is not None and type(event).__qualname__ not in names:
                    continue
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

    def _batch(self, size: int = BATCH) -> int:
        from eventsourcing.persistence import StoredEvent

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
                (start, size),
            )
            rows = c.fetchall()
            if not rows:
                return 0
            for m in self.models:
                if hasattr(m, "begin"):
                    m.begin(c)
            to_domain_event, info_of, wanted = self.mapper.to_domain_event, self.info_of, self._wanted
            applies = [m.apply for m in self.models]
            try:
                for position, oid, version, topic, state in rows:
                    if not wanted(topic):
                        continue  # derived bookkeeping no model reads: not even decoded
                    event: Any = to_domain_event(  # ours all carry a timestamp
                        StoredEvent(
                            originator_id=UUID(str(oid)),  # text (SQLite) or uuid (PostgreSQL)
                            originator_version=version,
                            topic=topic,
                            state=bytes(state),
                        )
                    )
                    info = info_of(c, event)
                    recorded_at = event.timestamp
                    for apply in applies:
                        apply(c, position, recorded_at, event, info)
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
            c.execute("UPDATE ledger_tracking SET position=? WHERE name=?", (rows[-1][0], TRACKING_NAME))
            return len(rows)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop and recompute every read model from the first event.

        The tables' secondary indexes are made once at the end (sorting every row once is
        much cheaper than keeping an index in order row by row); if the rebuild stops half
        way, the next opening of the ledger makes them and carries on from where it stopped.
        """
        with self.db.transaction() as c:
            self._schema_lock(c)
            self._drop(c)
            c.execute("DELETE FROM ledger_tracking WHERE name LIKE 'read_models%'")
            c.execute("INSERT INTO ledger_tracking VALUES (?, 0)", (TRACKING_NAME,))
            for statement in self._tables:
                c.execute(statement)
        applied = self.catch_up(progress, batch=REBUILD_BATCH)
        self.db.script(self._indexes)
        return applied
