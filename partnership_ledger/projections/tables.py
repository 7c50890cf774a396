"""The read models' tables: made, dropped and refilled, and the tracking row that says how far they go."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..storage.db import Cursor, Db

TRACKING_TABLE = "CREATE TABLE IF NOT EXISTS ledger_tracking (name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
#: The layout of the read-model tables, carried by the name of their tracking row: read models
#: made by another layout (an older version) have no row of this name, so opening the ledger
#: drops them and applies every event again, and a reader looking for the row finds none.
LAYOUT = 6
TRACKING_NAME = f"read_models.v{LAYOUT}"


def tracked(c: Cursor) -> int | None:
    """The position of the last event the read models hold, in the snapshot of ``c`` (None:
    no tracking row of this layout)."""
    c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
    row = c.fetchone()
    return int(row[0]) if row else None


def current_in(c: Cursor, db: Db) -> bool:
    """Whether, in the snapshot of ``c``, every stored event is applied to the read models."""
    position = tracked(c)
    c.execute(f"SELECT MAX({db.position_col}) FROM {db.events_table}")
    last = c.fetchone()
    return position is not None and last is not None and position == int(last[0] or 0)


def set_tracked(c: Cursor, position: int) -> None:
    c.execute("UPDATE ledger_tracking SET position=? WHERE name=?", (position, TRACKING_NAME))


@contextmanager
def sqlite_pragma(c: Cursor, backend: str, name: str, value: int) -> Iterator[None]:
    """Set an SQLite pragma on the connection of ``c`` until the block ends (on SQLite only)."""
    if backend != "sqlite":
        yield
        return
    c.execute(f"PRAGMA {name}")
    before = int((c.fetchone() or (0,))[0])
    c.execute(f"PRAGMA {name}={int(value)}")
    try:
        yield
    finally:
        c.execute(f"PRAGMA {name}={before}")


def secure_delete_off(c: Cursor, backend: str) -> AbstractContextManager[None]:
    """Let SQLite free pages without overwriting them with zeros (``secure_delete``, on in
    some builds: Debian's): only around writes of read models, which hold nothing the events
    do not. Zeroing the pages of the read models of a million events that a rebuild drops
    writes a few hundred megabytes (5 s); freeing them, a fifth of a second."""
    return sqlite_pragma(c, backend, "secure_delete", 0)


def is_index(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))


def is_database_error(e: BaseException) -> bool:
    import sqlite3

    from eventsourcing.persistence import PersistenceError

    if isinstance(e, (sqlite3.Error, PersistenceError)):
        return True
    return type(e).__module__.startswith("psycopg")


_NAMED = re.compile(r"\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.I)


class ReadModelTables:
    """The tables of some read models (their CREATE statements and table names) in a
    database, and their tracking row."""

    def __init__(self, db: Db, statements: Sequence[str], names: Sequence[str]) -> None:
        self.db = db
        if db.backend != "sqlite":  # a table without rowid is SQLite's; elsewhere, a plain table
            statements = [s.removesuffix(" WITHOUT ROWID") for s in statements]
        self.table_statements = [s for s in statements if not is_index(s)]
        self.index_statements = [s for s in statements if is_index(s)]
        self.names = list(names)

    def lock(self, c: Cursor) -> None:
        """Make processes that change the tables do it in turn (taken first in a transaction)."""
        if self.db.backend == "postgresql":
            from ..storage.postgres import SCHEMA_LOCK

            c.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
        else:
            # A write first takes SQLite's write lock (even if it changes no row): a
            # transaction that read first would fail at its first write if another process
            # wrote in between (SQLITE_BUSY_SNAPSHOT).
            c.execute("UPDATE ledger_tracking SET position = position WHERE name=?", (TRACKING_NAME,))

    def lock_writers(self, c: Cursor) -> None:
        """Make writers of events and of read models wait until this transaction ends (readers
        go on reading). PostgreSQL's writers lock the events table (``EXCLUSIVE``, which
        readers do not wait for), then the tracking row; a catch-up locks the tracking row:
        the same locks, in the same order, keep both out."""
        self.lock(c)
        if self.db.backend == "postgresql":
            c.execute(f"LOCK TABLE {self.db.events_table} IN EXCLUSIVE MODE")
            c.execute("UPDATE ledger_tracking SET position = position WHERE name=?", (TRACKING_NAME,))

    def empty(self, c: Cursor, *, same_layout: bool) -> None:
        """Empty every read model and set its tracking row to 0, in the transaction of ``c``.

        On SQLite, the tables are dropped and made again without their secondary indexes
        (:meth:`refill` makes those at its end: sorting every row once costs less than
        keeping an index in order). On PostgreSQL, dropping a table locks out its readers
        until the transaction ends: tables of this layout are emptied row by row instead."""
        keep = same_layout and self.db.backend != "sqlite"
        with secure_delete_off(c, self.db.backend):
            for name in self.names:
                c.execute(f"DELETE FROM {name}" if keep else f"DROP TABLE IF EXISTS {name}")
        c.execute("DELETE FROM ledger_tracking WHERE name LIKE 'read_models%' AND name <> ?", (TRACKING_NAME,))
        if same_layout:
            # The row stays (set to 0): a catch-up waiting for its lock (PostgreSQL) then
            # locks it, rather than a row deleted under it, and applies each event once.
            set_tracked(c, 0)
        else:
            c.execute("INSERT INTO ledger_tracking VALUES (?, 0)", (TRACKING_NAME,))
        for statement in self.table_statements:
            c.execute(statement)

    def refill(self, fill: Callable[[Cursor], int]) -> int:
        """Empty every read model and fill it again with ``fill(cursor)`` (which returns how
        many events it applied), in one transaction that writers of events wait for and
        readers do not: they read the read models as they were until it commits."""
        with self.db.transaction() as c:
            self.lock_writers(c)
            self.empty(c, same_layout=tracked(c) is not None)
            applied = fill(c)
            for statement in self.index_statements:
                c.execute(statement)
            return applied

    def missing(self) -> list[str]:
        """The statements of the tables and indexes that are not there (a read; no lock)."""
        with self.db.transaction(commit=False) as c:
            if self.db.backend == "sqlite":
                c.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
            else:
                c.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "UNION SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                )
            have = {str(r[0]).lower() for r in c.fetchall()}
        statements = self.table_statements + self.index_statements
        return [s for s in statements if (m := _NAMED.match(s)) is None or m.group(1).lower() not in have]

    def tracked(self) -> int | None:
        """The tracking row's position (None: no row of this layout, or no table yet; a read, no lock)."""
        with self.db.transaction(commit=False) as c:
            try:
                return tracked(c)
            except Exception as e:
                if not is_database_error(e):
                    raise
                return None

    def position(self) -> int:
        """The position of the last event the read models hold (0: none, or no tracking row)."""
        with self.db.transaction(commit=False) as c:
            return tracked(c) or 0

    def is_current(self) -> bool:
        """Whether every stored event is already applied (a cheap read, no lock)."""
        with self.db.transaction(commit=False) as c:
            return current_in(c, self.db)
