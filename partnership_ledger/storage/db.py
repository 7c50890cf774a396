"""A small SQL adapter shared by the read models, the indexes and verification, and what both
recorders write beside the events (chain links, operation and key indexes).

SQL is written once with ``?`` placeholders; the adapter converts it for PostgreSQL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from ..errors import StorageError
from ..integrity.chain import GENESIS, STORED_TYPES, chain_links

#: The ledger's format (``ledger_meta.format``): a ledger of another format is not read as this one.
FORMAT_VERSION = "1"
#: An event row as the SQLite recorder writes it (any other is tampering, never read as an event).
SQLITE_STORED_TYPES = " AND ".join(f"typeof({column})='{kind}'" for column, kind in STORED_TYPES.items())


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...


_READ_MODEL_DDL = re.compile(
    r"^(\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?)(rm_\w+|ledger_tracking)\b", re.I
)


def in_schema(sql: str, schema: str | None) -> str:
    """``sql`` creating a read-model table or index in ``schema`` (the read models kept in
    memory: docs/privacy.md); anything else as it is. Other statements find the tables by
    name: SQLite looks in the attached schema when the file has no table of that name."""
    if schema is None or sql.lstrip()[:6].upper() != "CREATE":
        return sql
    return _READ_MODEL_DDL.sub(lambda m: f"{m.group(1)}{schema}.{m.group(2)}", sql, count=1)


class CursorAdapter:
    """A driver's cursor (``_c``) whose rows are tuples behind the :class:`Cursor` protocol:
    ``?`` SQL, which ``sql`` turns into the driver's dialect."""

    def __init__(self, cursor: Any, sql: Callable[[str], str] = str) -> None:
        self._c = cursor
        self._sql = sql

    @property
    def driver(self) -> Any:
        """The driver's cursor: one per transaction, where adapters may be made again."""
        return self._c

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._c.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._c.executemany(self._sql(sql), rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._c.fetchone()  # type: ignore[no-any-return]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._c.fetchall()  # type: ignore[no-any-return]


class Db:
    """Transactions on the ledger's own database (the same one eventsourcing writes)."""

    backend = "sqlite"
    #: The column of ``events_table`` that holds an event's position (notification id).
    position_col = "rowid"

    def __init__(self, datastore: Any, events_table: str = "stored_events") -> None:
        self.datastore = datastore
        #: eventsourcing's table of stored events (its name differs between backends).
        self.events_table = events_table
        #: The schema of the read models when they are kept in memory (None: in the file).
        self.memory_schema: str | None = None

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor]:
        schema = self.memory_schema
        with self.datastore.transaction(commit=commit) as c:
            # eventsourcing's cursor wraps an sqlite3 one; a plain sqlite3 datastore (file_db's,
            # the quick reader's) gives its own.
            raw = getattr(c, "sqlite_cursor", c)
            yield CursorAdapter(plain_rows(raw), str if schema is None else lambda sql: in_schema(sql, schema))

    @contextmanager
    def reading(self, c: Cursor | None) -> Iterator[Cursor]:
        """``c`` when given (a transaction's cursor), else a read transaction of its own."""
        if c is not None:
            yield c
            return
        with self.transaction(commit=False) as own:
            yield own

    def script(self, statements: Sequence[str]) -> None:
        with self.transaction() as c:
            for s in statements:
                c.execute(s)


def plain_rows(cursor: Any) -> Any:
    """An ``sqlite3`` cursor that gives rows as plain tuples (eventsourcing's connections make
    ``sqlite3.Row`` objects, which only its own reads need)."""
    cursor.row_factory = None
    return cursor


# -- what the recorders write with the events -----------------------------------------------


def index_tables(integer: str, blob: str, keyed_only: str = "") -> list[str]:
    """The hash chain's table and the journal's indexes, in a dialect's column types
    (``keyed_only``: what makes a table looked up by its key only a B-tree of its own)."""
    return [
        "CREATE TABLE IF NOT EXISTS ledger_chain ("
        f"position {integer} PRIMARY KEY, prev_position {integer} NOT NULL, hash {blob} NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS ledger_ops (op_id TEXT PRIMARY KEY, position {integer} NOT NULL){keyed_only}",
        "CREATE TABLE IF NOT EXISTS ledger_keys (key TEXT PRIMARY KEY, kind TEXT NOT NULL, "
        f"originator_id TEXT NOT NULL){keyed_only}",
    ]


def chain_enabled() -> bool:
    """Whether events are chained (always, but for ``PARTNERSHIP_LEDGER_CHAIN=off``, which
    only the benchmark sets, on a new ledger, to measure what the chain costs)."""
    return os.environ.get("PARTNERSHIP_LEDGER_CHAIN", "on").lower() not in ("off", "0", "no")


def write_beside_events(
    c: Cursor,
    stored_events: Sequence[Any],
    positions: Sequence[int],
    *,
    ledger_ops: Sequence[tuple[str, int]] = (),
    ledger_keys: Sequence[tuple[str, str, str]] = (),
    private: Callable[[Cursor], None] | None = None,
    project: Callable[[Cursor, Sequence[int]], None] | None = None,
) -> None:
    """In the transaction that has just inserted ``stored_events`` at ``positions``, holding
    the write lock: their chain links, the index rows of ``ledger_ops`` (operation id, index
    of the event that carries it) and ``ledger_keys`` (key, kind, originator id of a new
    aggregate), then the ``private`` (privacy/vault.py) and ``project`` (read models) hooks.

    A repeated operation id or key violates a primary key, so the whole transaction rolls
    back: concurrent imports of one file cannot both record it.
    """
    if chain_enabled():
        # Every writer holds the lock before writing links: this head is the true head.
        c.execute("SELECT position, hash FROM ledger_chain ORDER BY position DESC LIMIT 1")
        head = c.fetchone()
        prev_position, prev_hash = (int(head[0]), bytes(head[1])) if head else (0, GENESIS)
        records = sorted(
            (p, s.originator_id, s.originator_version, s.topic, s.state)
            for p, s in zip(positions, stored_events, strict=True)
        )
        c.executemany("INSERT INTO ledger_chain VALUES (?,?,?)", chain_links(prev_position, prev_hash, records))
    else:
        c.execute("SELECT EXISTS (SELECT 1 FROM ledger_chain)")
        if (c.fetchone() or (0,))[0]:
            raise StorageError(
                "PARTNERSHIP_LEDGER_CHAIN=off would record events outside this ledger's hash chain, which "
                "verify would then report as tampering for good: unset it (it is for benchmarks on new ledgers)"
            )
    # The index rows in the order of their (unique) keys, not at random places of their B-trees.
    c.executemany("INSERT INTO ledger_ops VALUES (?,?)", sorted([(op, positions[i]) for op, i in ledger_ops]))
    c.executemany("INSERT INTO ledger_keys VALUES (?,?,?)", sorted(ledger_keys))
    if private is not None:
        private(c)
    if project is not None:
        project(c, positions)
