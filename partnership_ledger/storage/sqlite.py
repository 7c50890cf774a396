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
from typing import Any
from urllib.parse import quote, urlencode

from eventsourcing.persistence import InterfaceError, StoredEvent, Transcoder
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteFactory,
)

from .db import SQLITE_STORED_TYPES, CursorAdapter, Db, index_tables, plain_rows, write_beside_events
from .transcodings import OrjsonTranscoder

#: Prepared statements each connection keeps (eventsourcing's ``cached_statements=True`` is
#: read as 1: every statement but the last one was parsed and planned again).
STATEMENT_CACHE = 256
#: The page cache of a connection that writes (KiB; SQLite's default is 2,000).
WRITE_CACHE_KIB = 16_384
#: The schema the read models are attached as when they are kept in memory.
MEMORY_SCHEMA = "rm"
#: The environment entry naming the shared in-memory database of the read models.
ENV_MEMORY_READ_MODELS = "PARTNERSHIP_LEDGER_MEMORY_READ_MODELS"


class LedgerSQLiteConnectionPool(SQLiteConnectionPool):
    memory_read_models: str | None = None

    def _create_connection(self) -> SQLiteConnection:
        # eventsourcing's SQLiteConnectionPool._create_connection, but for the statement cache,
        # the read models kept in memory, the sync level and the size cap.
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
        if self.memory_read_models:
            # Encrypted at rest: the read models live in memory, shared by this process's
            # connections, never in the file (see docs/privacy.md).
            raw.execute(f"ATTACH DATABASE ? AS {MEMORY_SCHEMA}", (self.memory_read_models,))
        raw.execute("PRAGMA synchronous=FULL")
        cap = os.environ.get("PARTNERSHIP_LEDGER_MAX_PAGE_COUNT")  # tests that simulate a full disk
        if cap:
            raw.execute(f"PRAGMA max_page_count={int(cap):d}")
        return SQLiteConnection(sqlite_conn=raw, max_age=self.max_age)


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    """Inserts events and, in the same transaction, what :func:`~.db.write_beside_events`
    writes (chain links, index rows, hooks)."""

    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        # An aggregate's events are read by its id: only rows the hash chain covers (positions
        # from 1) and of the storage types the recorder writes, the same rows verify checks.
        self.select_events_statement = (
            f"SELECT * FROM {self.events_table_name} WHERE originator_id=? AND rowid > 0 AND {SQLITE_STORED_TYPES} "
        )

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *index_tables("INTEGER", "BLOB", " WITHOUT ROWID")]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.write_session() as insert:
            return insert(stored_events, **kwargs)

    @contextmanager
    def write_session(self) -> Iterator[Callable[..., Sequence[int]]]:
        """One write transaction for many inserts (a big import, a slice at a time).

        Yields ``insert(stored_events, **kwargs)``, which inserts the events and what
        :func:`~.db.write_beside_events` writes, and returns their positions; the transaction
        commits when the block ends, or rolls back if it raises.
        """
        with self.datastore.transaction(commit=True) as c:
            # A big batch touches many pages of the indexes at random places: a larger page
            # cache saves SQLite spilling and re-reading them.
            c.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KIB:d}")
            cursor = CursorAdapter(plain_rows(c.sqlite_cursor))

            def insert(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
                # eventsourcing's insert, a row at a time: each row's rowid is its position.
                positions = self._insert_events(c, stored_events) or []
                write_beside_events(cursor, stored_events, positions, **kwargs)
                return positions

            yield insert


class LedgerSQLiteFactory(SQLiteFactory):
    """eventsourcing's SQLite factory with the ledger's recorder and connection settings."""

    application_recorder_class = LedgerSQLiteRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        old = self.datastore.pool
        pool = LedgerSQLiteConnectionPool(db_name=old.db_name, lock_timeout=old.lock_timeout)
        pool.memory_read_models = env.get(ENV_MEMORY_READ_MODELS) or None
        self.datastore.pool = pool
        old.close()

    def transcoder(self) -> Transcoder:
        return OrjsonTranscoder()


def sqlite_uri(path: str | os.PathLike[str], **params: str) -> str:
    """An SQLite ``file:`` URI naming exactly the file at ``path`` (``#``, ``?`` and ``%`` in
    a file name are part of the name, not of the URI), with query ``params`` (``mode=ro``)."""
    query = ("?" + urlencode(params)) if params else ""
    return "file:" + quote(os.path.abspath(os.fspath(path)), safe="/") + query


def read_only_uri(path: str | os.PathLike[str]) -> str:
    """The URI that opens the ledger file at ``path`` for reading only, changing nothing.

    ``mode=ro`` when SQLite can keep its shared-memory index beside the file; in a folder
    it cannot write (a read-only medium) and with no write-ahead log waiting to be copied
    into the file, ``immutable=1``: the file is then all there is to read.
    """
    p = os.fspath(path)
    wal = p + "-wal"
    if os.access(os.path.dirname(os.path.abspath(p)), os.W_OK) or (os.path.exists(wal) and os.path.getsize(wal) > 0):
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
    def transaction(self, *, commit: bool) -> Iterator[sqlite3.Cursor]:
        c = self.connection.cursor()
        c.execute("BEGIN")
        try:
            yield c
        except BaseException:
            self.connection.rollback()
            raise
        if commit:
            self.connection.commit()
        else:
            self.connection.rollback()

    def close(self) -> None:
        self.connection.close()


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
