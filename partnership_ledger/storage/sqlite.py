"""SQLite storage: eventsourcing's recorder, plus the hash chain and the journal indexes.

Everything a ledger holds lives in one file: events, hash chain, operation and key indexes,
read models and their tracking. WAL journal with ``synchronous=FULL`` so that an accepted
write survives a power cut.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, StoredEvent, Transcoder
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteFactory,
)

from ..integrity.chain import GENESIS, chain_links
from .db import Db, SQLiteCursorAdapter
from .transcodings import OrjsonTranscoder

INDEX_TABLES = [
    "CREATE TABLE IF NOT EXISTS ledger_chain ("
    "position INTEGER PRIMARY KEY, prev_position INTEGER NOT NULL, hash BLOB NOT NULL)",
    # Looked up by their text keys only: without a rowid the table is its own index (one
    # B-tree, not a table and an index holding every key twice). Ledgers made before keep
    # their tables as they are; the statements that use them are the same.
    "CREATE TABLE IF NOT EXISTS ledger_ops (op_id TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS ledger_keys (key TEXT PRIMARY KEY, kind TEXT NOT NULL, originator_id TEXT NOT NULL) "
    "WITHOUT ROWID",
]


_first = itemgetter(0)


def chain_enabled() -> bool:
    """Whether events are chained (always, but for ``PARTNERSHIP_LEDGER_CHAIN=off``).

    Only the benchmark turns the chain off, to measure what it costs, and only on a new
    ledger (see :func:`refuse_unchained`): events written without links on a chained ledger
    would make ``verify`` report tampering forever.
    """
    return os.environ.get("PARTNERSHIP_LEDGER_CHAIN", "on").lower() not in ("off", "0", "no")


def refuse_unchained(has_links: bool) -> None:
    """Refuse ``PARTNERSHIP_LEDGER_CHAIN=off`` on a ledger that already has a hash chain."""
    if has_links:
        from ..errors import StorageError

        raise StorageError(
            "PARTNERSHIP_LEDGER_CHAIN=off would record events outside this ledger's hash chain, which "
            "verify would then report as tampering for good: unset it (it is for benchmarks on new ledgers)"
        )


def max_page_count() -> int | None:
    """A cap on the database's size in pages, for tests that simulate a full disk."""
    value = os.environ.get("PARTNERSHIP_LEDGER_MAX_PAGE_COUNT")
    return int(value) if value else None


#: Prepared statements each connection keeps. eventsourcing passes ``cached_statements=True``,
#: which sqlite3 reads as 1: every statement but the last one was parsed and planned again,
#: which took most of the time of a small query.
STATEMENT_CACHE = 256
#: The page cache of a connection that writes (KiB; SQLite's default is 2,000).
WRITE_CACHE_KIB = 16_384


#: The schema the read models are attached as when they are kept in memory.
MEMORY_SCHEMA = "rm"
#: The environment entry naming the shared in-memory database of the read models.
ENV_MEMORY_READ_MODELS = "PARTNERSHIP_LEDGER_MEMORY_READ_MODELS"


def memory_read_models_uri() -> str:
    """A new shared in-memory database for one ledger's read models (in this process)."""
    import uuid

    return f"file:partnership-ledger-rm-{uuid.uuid4().hex}?mode=memory&cache=shared"


class LedgerSQLiteConnectionPool(SQLiteConnectionPool):
    def _create_connection(self) -> SQLiteConnection:
        # eventsourcing's SQLiteConnectionPool._create_connection, but for the statement cache.
        try:
            raw = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,  # autocommit: transactions are begun explicitly
                cached_statements=STATEMENT_CACHE,
                timeout=self.lock_timeout if self.lock_timeout is not None else SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as e:
            raise InterfaceError(e) from e
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            (mode,) = raw.execute("PRAGMA journal_mode;").fetchone()
            if mode.lower() != "wal":
                raw.execute("PRAGMA journal_mode=WAL;")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        raw.row_factory = sqlite3.Row
        memory = getattr(self, "memory_read_models", None)
        if memory:
            # Encrypted at rest: the read models live in memory, shared by this process's
            # connections, never in the file (see docs/privacy.md).
            raw.execute(f"ATTACH DATABASE ? AS {MEMORY_SCHEMA}", (memory,))
        conn = SQLiteConnection(sqlite_conn=raw, max_age=self.max_age)
        raw.execute("PRAGMA synchronous=FULL")
        cap = max_page_count()
        if cap is not None:
            raw.execute(f"PRAGMA max_page_count={cap:d}")
        return conn


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    """Inserts events and, in the same transaction, their chain links and index rows.

    ``insert_events`` accepts ``ledger_ops`` (pairs of operation id and the index of the
    event that carries it) and ``ledger_keys`` (key, kind, originator id of new aggregates).
    A repeated operation id or key violates a primary key, so the whole transaction rolls
    back: concurrent imports of one file cannot both record it.
    """

    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        # An aggregate's events are read by its id: only rows the hash chain covers (positions
        # from 1) and of the storage types the recorder writes, the same rows verify checks.
        # Any other row is tampering (verify says so) and is never read.
        self.select_events_statement = (
            f"SELECT * FROM {self.events_table_name} WHERE originator_id=? AND rowid > 0 "
            "AND typeof(originator_version)='integer' AND typeof(topic)='text' AND typeof(state)='blob' "
        )

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *INDEX_TABLES]

    @contextmanager
    def write_session(self) -> Iterator[Callable[..., Sequence[int] | None]]:
        """One write transaction for many inserts (a big import, a slice at a time).

        Yields ``insert(stored_events, **kwargs)``, which does what :meth:`insert_events` does
        (events, chain links, index rows, read models) and returns the positions, but commits
        nothing: the transaction commits when the block ends, or rolls back if it raises.
        """
        with self.datastore.transaction(commit=True) as c:
            # A big batch touches many pages of the indexes (events, operations, read models)
            # at random places; a larger page cache for the writing connection saves SQLite
            # spilling and re-reading them (a fifth of its time in a 100k-operation import).
            c.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KIB:d}")
            yield lambda stored_events, **kwargs: self._insert_events(c, stored_events, **kwargs)

    def _insert_rows(self, c: SQLiteCursor, rows: list[tuple[str, int, str, bytes]]) -> list[int]:
        """Insert the events' rows; their positions (rowids), in order."""
        if not rows:
            return []
        # The first INSERT takes the write lock; from then on no one else inserts, and SQLite
        # gives each new row the largest rowid plus one, so the rest need not be inserted one
        # by one to learn their positions. Checked: if the rowids are not the expected ones
        # (a table at the largest rowid picks them at random), each is looked up.
        c.execute(self.insert_events_statement, rows[0])
        first = int(c.lastrowid)
        if len(rows) == 1:
            return [first]
        c.executemany(self.insert_events_statement, rows[1:])
        positions = list(range(first, first + len(rows)))
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
        if c.fetchone()[0] != positions[-1]:  # pragma: no cover - needs 2**63 rows
            positions = []
            for oid, version, _, _ in rows:
                c.execute(
                    f"SELECT rowid FROM {self.events_table_name} WHERE originator_id=? AND originator_version=?",
                    (oid, version),
                )
                positions.append(int(c.fetchone()[0]))
        return positions

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The events' rows as stored (the originator id as its hex digits), made once: the
        # chain hashes the same values.
        rows = [
            (
                s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                s.originator_version,
                s.topic,
                s.state,
            )
            for s in stored_events
        ]
        # The INSERTs below take SQLite's write lock, so the chain head read afterwards
        # is the true head: no other writer can append between the read and our links.
        chained = chain_enabled()
        if not chained:
            c.execute("SELECT EXISTS (SELECT 1 FROM ledger_chain)")
            refuse_unchained(bool(c.fetchone()[0]))
        positions = self._insert_rows(c, rows)
        if chained:
            c.execute("SELECT position, hash FROM ledger_chain ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
            prev_position, prev_hash = (row[0], bytes(row[1])) if row else (0, GENESIS)
            links = chain_links(
                prev_position,
                prev_hash,
                ((position, *r) for position, r in zip(positions, rows, strict=True)),
            )
            c.executemany("INSERT INTO ledger_chain VALUES (?,?,?)", links)
        # The index rows in the order of their keys, not at random places of their B-trees
        # (which order they are inserted in makes no difference to what is stored).
        ops = kwargs.get("ledger_ops") or ()
        if ops:
            c.executemany(
                "INSERT INTO ledger_ops VALUES (?,?)",
                sorted([(op_id, positions[i]) for op_id, i in ops], key=_first),
            )
        new_keys = kwargs.get("ledger_keys") or ()
        if new_keys:
            c.executemany("INSERT INTO ledger_keys VALUES (?,?,?)", sorted(new_keys, key=_first))
        private = kwargs.get("private")
        if private is not None:
            # The key table's rows of these events (privacy/vault.py), in the same transaction.
            private(SQLiteCursorAdapter(c))
        project = kwargs.get("project")
        if project is not None:
            # The application's read models, applied from the events in memory within this
            # same transaction (see Projections.apply_recorded).
            project(SQLiteCursorAdapter(c), positions)
        return positions


class LedgerSQLiteFactory(SQLiteFactory):
    """eventsourcing's SQLite factory with the ledger's recorder and connection settings."""

    application_recorder_class = LedgerSQLiteRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        old = self.datastore.pool
        pool = LedgerSQLiteConnectionPool(db_name=old.db_name, lock_timeout=old.lock_timeout)
        pool.memory_read_models = env.get(ENV_MEMORY_READ_MODELS) or None  # type: ignore[attr-defined]
        self.datastore.pool = pool
        old.close()

    def transcoder(self) -> Transcoder:
        """eventsourcing's JSON encoding of events, written and read with orjson."""
        return OrjsonTranscoder()


def sqlite_uri(path: str | os.PathLike[str], **params: str) -> str:
    """An SQLite ``file:`` URI naming exactly the file at ``path`` (``#``, ``?`` and ``%`` in
    a file name are part of the name, not of the URI), with query ``params`` (``mode=ro``)."""
    from urllib.parse import quote, urlencode

    absolute = os.path.abspath(os.fspath(path))
    query = ("?" + urlencode(params)) if params else ""
    return "file:" + quote(absolute, safe="/") + query


def read_only_uri(path: str | os.PathLike[str]) -> str:
    """The URI that opens the ledger file at ``path`` for reading only, changing nothing.

    ``mode=ro`` when SQLite can keep its shared-memory index beside the file; in a folder
    it cannot write (a read-only medium) and with no write-ahead log waiting to be copied
    into the file, ``immutable=1``: the file is then all there is to read.
    """
    p = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(p))
    wal = p + "-wal"
    if os.access(folder, os.W_OK) or (os.path.exists(wal) and os.path.getsize(wal) > 0):
        return sqlite_uri(p, mode="ro")
    return sqlite_uri(p, immutable="1")


def is_writable(path: str | os.PathLike[str]) -> bool:
    """Whether the ledger file at ``path`` (an existing one) can be written where it lies."""
    p = os.fspath(path)
    return os.access(p, os.W_OK) and os.access(os.path.dirname(os.path.abspath(p)), os.W_OK)


class _FileStore:
    """Just enough of eventsourcing's datastore for :class:`Db` over a plain connection."""

    def __init__(self, path: str | os.PathLike[str], readonly: bool) -> None:
        uri = read_only_uri(path) if readonly else sqlite_uri(path)
        self.connection = sqlite3.connect(uri, uri=True, isolation_level=None)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        c = self.connection.cursor()
        c.execute("BEGIN")
        try:
            yield _Cursor(c)
        except BaseException:
            self.connection.rollback()
            raise
        if commit:
            self.connection.commit()
        else:
            self.connection.rollback()

    def close(self) -> None:
        self.connection.close()


class _Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.sqlite_cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.sqlite_cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.sqlite_cursor.executemany(sql, rows)

    def fetchone(self) -> Any:
        return self.sqlite_cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self.sqlite_cursor.fetchall()


@contextmanager
def file_db(path: str | os.PathLike[str], *, readonly: bool = True) -> Iterator[Db]:
    """The ledger file's tables as a :class:`Db`, without opening the application.

    For verifying a ledger that cannot be opened (an encrypted one without its key, a damaged
    one) and for tools that read the chain: ``with file_db(p) as db: verify_chain(db)``.
    """
    store = _FileStore(path, readonly)
    try:
        yield Db(store)
    finally:
        store.close()
