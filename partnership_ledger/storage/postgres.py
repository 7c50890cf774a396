"""PostgreSQL storage: eventsourcing's recorder, plus the hash chain and the journal indexes.

A ledger in a PostgreSQL database keeps everything there: events (eventsourcing's
``partnershipledger_events`` table, positions in its ``notification_id`` column), hash chain,
indexes, read models. Several processes may write at once: eventsourcing locks the events
table (``EXCLUSIVE`` mode, readers are not blocked) in every inserting transaction, so positions
are handed out in commit order and the chain links written after the lock always extend the
true head. Every insert sends ``NOTIFY`` on the events table's channel (``follow`` listens).

Install with the ``postgres`` extra (``pip install 'partnership-ledger[postgres]'``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import StorageError
from .db import Cursor, CursorAdapter, Db, index_tables, write_beside_events
from .setup import ENV_URL, READONLY_ENV
from .transcodings import OrjsonTranscoder

try:
    import psycopg
    from eventsourcing.persistence import ProgrammingError, StoredEvent, Transcoder
    from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresFactory
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL, Identifier
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise StorageError(
        "PostgreSQL ledgers need psycopg: install the postgres extra (pip install 'partnership-ledger[postgres]')"
    ) from e

#: The advisory lock that makes processes opening one new ledger at once create its tables in
#: turn (concurrent ``CREATE ... IF NOT EXISTS`` or ``CREATE OR REPLACE`` can fail otherwise).
SCHEMA_LOCK = 0x504C_4C45_4447_4552


def parse_url(url: str) -> dict[str, str]:
    """``postgresql://user:pass@host:port/dbname`` as eventsourcing's ``POSTGRES_*`` settings."""
    parts = urlsplit(url)
    dbname = unquote(parts.path.lstrip("/"))
    try:
        port = parts.port
    except ValueError:
        raise StorageError(f"the database URL {redact(url)} has an invalid port") from None
    if not dbname or "/" in dbname:
        raise StorageError(
            f"the database URL {redact(url)} names no database: use postgresql://user:password@host:port/dbname"
        )
    if not parts.hostname:
        raise StorageError(
            f"the database URL {redact(url)} names no host: use postgresql://user:password@host:port/dbname"
        )
    return {
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(port or 5432),
        "POSTGRES_USER": unquote(parts.username or os.environ.get("PGUSER", "postgres")),
        "POSTGRES_PASSWORD": unquote(parts.password or os.environ.get("PGPASSWORD", "")),
    }


def redact(url: str) -> str:
    """The URL without its password, for messages and ``info``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return parts._replace(netloc=f"{user}@{netloc[-1]}").geturl()


#: eventsourcing's pool settings where the environment does not set them: a few connections
#: per process (many processes share one server); a catch-up batch computes between its
#: statements (eventsourcing's idle timeout in a transaction is 5 s).
POOL_DEFAULTS = {
    "POSTGRES_CONNECT_TIMEOUT": "10",
    "POSTGRES_POOL_SIZE": "2",
    "POSTGRES_MAX_OVERFLOW": "8",
    "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "60",
}


def postgres_env(url: str, *, readonly: bool = False) -> dict[str, str]:
    """The eventsourcing environment of a ledger in the PostgreSQL database at ``url``."""
    return {
        "PERSISTENCE_MODULE": "partnership_ledger.storage.postgres:LedgerPostgresFactory",
        **parse_url(url),
        **{name: os.environ.get(name, default) for name, default in POOL_DEFAULTS.items()},
        ENV_URL: redact(url),
        **(READONLY_ENV if readonly else {}),
    }


def check_database(url: str, *, create: bool) -> None:
    """Connect once, so that a wrong URL fails with one clear sentence, not a pool timeout
    (with ``create=False``, a database that holds no ledger too)."""
    settings = parse_url(url)
    where = f"{settings['POSTGRES_HOST']}:{settings['POSTGRES_PORT']}/{settings['POSTGRES_DBNAME']}"
    timeout = int(os.environ.get("POSTGRES_CONNECT_TIMEOUT", POOL_DEFAULTS["POSTGRES_CONNECT_TIMEOUT"]))
    try:
        with psycopg.connect(
            dbname=settings["POSTGRES_DBNAME"],
            host=settings["POSTGRES_HOST"],
            port=settings["POSTGRES_PORT"],
            user=settings["POSTGRES_USER"],
            password=settings["POSTGRES_PASSWORD"],
            connect_timeout=timeout,
            autocommit=True,
        ) as conn:
            names = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    except psycopg.OperationalError as e:
        raise StorageError(_connect_failure(str(e), where, settings["POSTGRES_USER"])) from None
    if "ledger_meta" not in names:
        if names and "partnershipledger_events" not in names:
            raise StorageError(f"the PostgreSQL database {where} holds other tables but no partnership ledger")
        if not create:
            raise StorageError(
                f"there is no ledger in the PostgreSQL database {where}: create one with "
                "'partnership-ledger init' or name another with --db"
            )


def _connect_failure(text: str, where: str, user: str) -> str:
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return f"cannot open the ledger at {where}: the server refused user {user} (wrong password?)"
    if "role" in lowered and "does not exist" in lowered:
        return f"cannot open the ledger at {where}: the server has no user {user}"
    if "database" in lowered and "does not exist" in lowered:
        return f"cannot open the ledger at {where}: the database does not exist (create it first, e.g. with createdb)"
    if "timeout" in lowered or "timed out" in lowered:
        return f"cannot reach the PostgreSQL server for {where}: the connection timed out"
    if "connection refused" in lowered or "could not" in lowered or "failed" in lowered:
        return f"cannot reach the PostgreSQL server for {where}: is it running and accepting connections there?"
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return f"cannot open the ledger at {where}: {first}"


@contextmanager
def schema_locked(datastore: Any) -> Iterator[None]:
    """Hold :data:`SCHEMA_LOCK` while creating tables: processes opening one new ledger at once
    create them in turn."""
    with connect_directly(datastore) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


class LedgerSnapshotRecorder(PostgresAggregateRecorder):
    """eventsourcing's recorder of snapshots, creating its table under the schema lock."""

    def create_table(self) -> None:
        with schema_locked(self.datastore):
            super().create_table()


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    """Inserts events and, in the same transaction, what :func:`~.db.write_beside_events`
    writes (chain links, index rows, the ``private`` hook) after eventsourcing has locked the
    events table. The read models catch up after the commit (the ``project`` hook is SQLite's)."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        # Return each row's identity with its position, so positions pair with the right
        # events whatever order the rows come back in.
        self.insert_events_statement = SQL(
            "INSERT INTO {schema}.{table} AS t "
            "(originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state "
            "FROM unnest(%s::{schema}.{stored_event_type}[]) "
            "RETURNING notification_id, originator_id, originator_version"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            stored_event_type=Identifier(self.stored_event_type_name),
        )
        self.sql_create_statements.extend(SQL(s).format() for s in index_tables("BIGINT", "BYTEA"))

    def create_table(self) -> None:
        with schema_locked(self.datastore):
            super().create_table()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.write_session() as insert:
            return insert(stored_events, **kwargs)

    @contextmanager
    def write_session(self) -> Iterator[Callable[..., Sequence[int]]]:
        """One write transaction for many inserts (a big import, a slice at a time).

        Yields ``insert(stored_events, **kwargs)``, which locks the events table (held to the
        end), inserts the events and what :func:`~.db.write_beside_events` writes, and returns
        their positions; the transaction commits when the block ends, or rolls back if it raises.
        """
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor(row_factory=tuple_row) as curs:
            cursor = CursorAdapter(curs, to_pyformat)

            def insert(stored_events: Sequence[StoredEvent], *, project: Any = None, **kwargs: Any) -> Sequence[int]:
                if not stored_events:
                    return []
                # The events go to the server as one array parameter; psycopg (3.3.9) in
                # pipeline mode never returns from a query whose parameter passes about 10 MB,
                # so a slice of unusually large events is sent in parts of at most PARAM_BYTES.
                by_identity = {}
                for part in parts_by_size(stored_events, PARAM_BYTES):
                    self._insert_stored_events(curs, part)  # type: ignore[arg-type]
                    by_identity.update({(str(oid), int(v)): int(p) for p, oid, v in curs.fetchall()})
                try:
                    positions = [by_identity[(str(s.originator_id), s.originator_version)] for s in stored_events]
                except KeyError:
                    raise ProgrammingError(f"couldn't get the positions of all {len(stored_events)} events") from None
                write_beside_events(cursor, stored_events, positions, **kwargs)
                return positions

            yield insert


#: The most bytes of events' state sent in one insert (see ``write_session``).
PARAM_BYTES = 4 * 1024 * 1024


def parts_by_size(stored_events: Sequence[StoredEvent], limit: int) -> Iterator[Sequence[StoredEvent]]:
    """``stored_events`` in order, in runs whose states add up to at most ``limit`` bytes (an
    event bigger than that alone makes a run of one)."""
    start, size = 0, 0
    for i, s in enumerate(stored_events):
        n = len(s.state)
        if i > start and size + n > limit:
            yield stored_events[start:i]
            start, size = i, 0
        size += n
    if start < len(stored_events):
        yield stored_events[start:]


class LedgerPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory with the ledger's recorder."""

    application_recorder_class = LedgerPostgresRecorder
    aggregate_recorder_class = LedgerSnapshotRecorder

    def transcoder(self) -> Transcoder:
        return OrjsonTranscoder()


_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%")


@lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """``?`` placeholders as ``%s`` (a ``?`` in quoted text stays), and every ``%`` as ``%%``
    (psycopg reads every ``%`` as a placeholder's start, inside quoted text too)."""
    return _TOKENS.sub(lambda m: "%s" if m.group(0) == "?" else m.group(0).replace("%", "%%"), sql)


class PgDb(Db):
    """Transactions on the ledger's PostgreSQL database, through eventsourcing's pool."""

    backend = "postgresql"
    position_col = "notification_id"

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor]:
        with self.datastore.get_connection() as conn:
            # Reads need no BEGIN/ROLLBACK: at READ COMMITTED each statement sees its own
            # snapshot inside a transaction too, so this only saves two round trips.
            begun = conn.transaction() if commit else nullcontext()
            with begun, conn.cursor(row_factory=tuple_row) as cursor:
                yield CursorAdapter(cursor, to_pyformat)

    def script(self, statements: Sequence[str]) -> None:
        with self.transaction() as c:
            c.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            for s in statements:
                c.execute(s)

    def listener(self, channel: str) -> psycopg.Connection[Any]:
        """A connection of its own (not from the pool) listening on ``channel``."""
        conn = connect_directly(self.datastore)
        conn.execute(SQL("LISTEN {0}").format(Identifier(channel)))
        return conn


def connect_directly(datastore: Any) -> psycopg.Connection[Any]:
    """A connection to the datastore's database outside its pool (autocommit)."""
    kwargs = {k: v for k, v in dict(datastore.pool.kwargs).items() if k != "row_factory"}
    return psycopg.connect(autocommit=True, **kwargs)
