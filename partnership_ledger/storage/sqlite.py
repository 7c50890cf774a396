"""SQLite storage: eventsourcing's recorder, plus the hash chain and the journal indexes.

Everything a ledger holds lives in one file: events, hash chain, operation and key indexes,
read models and their tracking. WAL journal with ``synchronous=FULL`` so that an accepted
write survives a power cut.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteFactory,
)

from ..integrity import GENESIS, link_hash

INDEX_TABLES = [
    "CREATE TABLE IF NOT EXISTS ledger_chain ("
    "position INTEGER PRIMARY KEY, prev_position INTEGER NOT NULL, hash BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_ops (op_id TEXT PRIMARY KEY, position INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_keys ("
    "key TEXT PRIMARY KEY, kind TEXT NOT NULL, originator_id TEXT NOT NULL)",
]


def chain_enabled() -> bool:
    # Only the benchmark turns the chain off, to measure what it costs.
    return os.environ.get("PARTNERSHIP_LEDGER_CHAIN", "on").lower() not in ("off", "0", "no")


class LedgerSQLiteConnectionPool(SQLiteConnectionPool):
    def _create_connection(self) -> SQLiteConnection:
        conn = super()._create_connection()
        raw: sqlite3.Connection = conn._sqlite_conn
        raw.execute("PRAGMA synchronous=FULL")
        return conn


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    """Inserts events and, in the same transaction, their chain links and index rows.

    ``insert_events`` accepts ``ledger_ops`` (pairs of operation id and the index of the
    event that carries it) and ``ledger_keys`` (key, kind, originator id of new aggregates).
    A repeated operation id or key violates a primary key, so the whole transaction rolls
    back: concurrent imports of one file cannot both record it.
    """

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *INDEX_TABLES]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The INSERTs below take SQLite's write lock, so the chain head read afterwards
        # is the true head: no other writer can append between the read and our links.
        positions = super()._insert_events(c, stored_events)
        assert positions is not None
        if chain_enabled():
            c.execute("SELECT position, hash FROM ledger_chain ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
            prev_position, prev_hash = (row[0], bytes(row[1])) if row else (0, GENESIS)
            links = []
            for position, s in zip(positions, stored_events, strict=True):
                h = link_hash(
                    prev_hash, position, s.originator_id, s.originator_version, s.topic, s.state
                )
                links.append((position, prev_position, h))
                prev_position, prev_hash = position, h
            c.executemany("INSERT INTO ledger_chain VALUES (?,?,?)", links)
        ops = kwargs.get("ledger_ops") or ()
        if ops:
            c.executemany(
                "INSERT INTO ledger_ops VALUES (?,?)",
                [(op_id, positions[i]) for op_id, i in ops],
            )
        new_keys = kwargs.get("ledger_keys") or ()
        if new_keys:
            c.executemany("INSERT INTO ledger_keys VALUES (?,?,?)", list(new_keys))
        return positions


class LedgerSQLiteFactory(SQLiteFactory):
    """eventsourcing's SQLite factory with the ledger's recorder and connection settings."""

    application_recorder_class = LedgerSQLiteRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        old = self.datastore.pool
        self.datastore.pool = LedgerSQLiteConnectionPool(
            db_name=old.db_name, lock_timeout=old.lock_timeout
        )
        old.close()
