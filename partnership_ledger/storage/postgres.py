"""PostgreSQL storage: eventsourcing's recorder, plus the hash chain and the journal indexes.

A ledger in a PostgreSQL database keeps everything there: events (eventsourcing's
``partnershipledger_events`` table, positions in its ``notification_id`` column), hash chain,
operation and key indexes, read models and their tracking. Several processes may write at once:
eventsourcing locks the events table (``EXCLUSIVE`` mode, readers are not blocked) in every
inserting transaction, so positions are handed out in commit order and the chain links written
after the lock, in the same transaction, always extend the true head. Every insert also sends
``NOTIFY`` on the events table's channel, which ``partnership-ledger follow`` listens to.

Install with the ``postgres`` extra (``pip install 'partnership-ledger[postgres]'``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import StorageError
from ..integrity.chain import GENESIS, chain_links
from .db import Cursor, Db
from .sqlite import chain_enabled, refuse_unchained

try:
    import psycopg
    from eventsourcing.persistence import ProgrammingError, StoredEvent
    from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresFactory
    from psycopg.rows import DictRow, tuple_row
    from psycopg.sql import SQL, Identifier
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise StorageError(
        "PostgreSQL ledgers need psycopg: install the postgres extra (pip install 'partnership-ledger[postgres]')"
    ) from e

SCHEMES = ("postgresql://", "postgres://")

INDEX_TABLES = (
    "CREATE TABLE IF NOT EXISTS ledger_chain ("
    "position BIGINT PRIMARY KEY, prev_position BIGINT NOT NULL, hash BYTEA NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_ops (op_id TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_keys (key TEXT PRIMARY KEY, kind TEXT NOT NULL, originator_id TEXT NOT NULL)",
)


#: The advisory lock that makes processes opening one new ledger at once create its tables in
#: turn (concurrent ``CREATE ... IF NOT EXISTS`` or ``CREATE OR REPLACE`` can fail otherwise).
SCHEMA_LOCK = 0x504C_4C45_4447_4552


# -- locations -----------------------------------------------------------------------------


def is_postgres_url(location: str) -> bool:
    return location.startswith(SCHEMES)


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


def postgres_env(url: str) -> dict[str, str]:
    """The eventsourcing environment of a ledger in the PostgreSQL database at ``url``."""
    env = {
        "PERSISTENCE_MODULE": "partnership_ledger.storage.postgres:LedgerPostgresFactory",
        **parse_url(url),
        "POSTGRES_CONNECT_TIMEOUT": os.environ.get("POSTGRES_CONNECT_TIMEOUT", "10"),
        # A few connections per process: many processes share one server.
        "POSTGRES_POOL_SIZE": os.environ.get("POSTGRES_POOL_SIZE", "2"),
        "POSTGRES_MAX_OVERFLOW": os.environ.get("POSTGRES_MAX_OVERFLOW", "8"),
        # A catch-up batch computes between its statements (eventsourcing's default is 5 s).
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": os.environ.get(
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "60"
        ),
    }
    return env


def check_database(url: str, *, create: bool) -> None:
    """Connect once, so that a wrong URL fails with one clear sentence, not a pool timeout.

    With ``create=False`` a database that holds no ledger is an error too.
    """
    settings = parse_url(url)
    where = f"{settings['POSTGRES_HOST']}:{settings['POSTGRES_PORT']}/{settings['POSTGRES_DBNAME']}"
    try:
        with psycopg.connect(
            dbname=settings["POSTGRES_DBNAME"],
            host=settings["POSTGRES_HOST"],
            port=settings["POSTGRES_PORT"],
            user=settings["POSTGRES_USER"],
            password=settings["POSTGRES_PASSWORD"],
            connect_timeout=int(os.environ.get("POSTGRES_CONNECT_TIMEOUT", "10")),
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


# -- the recorder --------------------------------------------------------------------------


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
    """Inserts events and, in the same transaction, their chain links and index rows.

    Accepts ``ledger_ops`` and ``ledger_keys`` like the SQLite recorder. The links are
    written after eventsourcing has locked the events table, so the head they extend is the
    true head; a repeated operation id or key violates a primary key and the whole
    transaction (events included) rolls back.
    """

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        # Return each row's identity with its position, so links pair with the right events
        # whatever order the rows come back in.
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
        self.sql_create_statements.extend(SQL(s).format() for s in INDEX_TABLES)

    def create_table(self) -> None:
        with schema_locked(self.datastore):
            super().create_table()

    @contextmanager
    def write_session(self) -> Iterator[Callable[..., Sequence[int] | None]]:
        """One write transaction for many inserts (a big import, a slice at a time).

        Yields ``insert(stored_events, **kwargs)``, which does what :meth:`insert_events` does
        (lock the events table, insert, chain links and index rows) and returns the positions,
        but commits nothing: the transaction commits when the block ends, or rolls back if it
        raises. The table lock, once taken, is held to the end.
        """
        with self.datastore.transaction(commit=True) as curs:

            def insert(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
                if not stored_events:
                    return []
                # The events go to the server as one array parameter; psycopg (3.3.9) in
                # pipeline mode never returns from a query whose parameter passes about 10 MB,
                # so a slice of unusually large events is sent in parts of at most PARAM_BYTES.
                rows: list[Any] = []
                for part in parts_by_size(stored_events, PARAM_BYTES):
                    self._insert_stored_events(curs, part, **kwargs)
                    rows.extend(curs.fetchall())
                return self._link_and_index(curs, stored_events, rows, **kwargs)

            yield insert

    def _fetch_ids_after_insert_events(
        self,
        curs: psycopg.Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        return self._link_and_index(curs, stored_events, curs.fetchall(), **kwargs)

    def _link_and_index(
        self,
        curs: psycopg.Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        rows: Sequence[Any],
        **kwargs: Any,
    ) -> Sequence[int]:
        """The positions of the events just inserted (``rows``: what their inserts returned);
        writes their chain links and the operation and key index rows."""
        by_identity = {(str(r["originator_id"]), int(r["originator_version"])): int(r["notification_id"]) for r in rows}
        try:
            positions = [by_identity[(str(s.originator_id), int(s.originator_version))] for s in stored_events]
        except KeyError:
            raise ProgrammingError(
                f"couldn't get all positions (got {len(rows)}, expected {len(stored_events)})"
            ) from None
        # We still hold the EXCLUSIVE lock on the events table taken before the insert, and
        # every writer takes it before writing links: the head read here is the true head.
        chained = chain_enabled()
        if not chained:
            curs.execute("SELECT EXISTS (SELECT 1 FROM ledger_chain) AS has_links")
            found = curs.fetchone()
            refuse_unchained(bool(found and found["has_links"]))
        if chained:
            curs.execute(
                "SELECT position, hash FROM ledger_chain ORDER BY position DESC LIMIT 1",
                prepare=True,
            )
            head = curs.fetchone()
            prev_position, prev_hash = (int(head["position"]), bytes(head["hash"])) if head else (0, GENESIS)
            records = sorted(
                (position, s.originator_id, s.originator_version, s.topic, s.state)
                for position, s in zip(positions, stored_events, strict=True)
            )
            links = chain_links(prev_position, prev_hash, records)
            curs.executemany("INSERT INTO ledger_chain VALUES (%s, %s, %s)", links)
        ops = kwargs.get("ledger_ops") or ()
        if ops:
            curs.executemany(
                "INSERT INTO ledger_ops VALUES (%s, %s)",
                [(op_id, positions[i]) for op_id, i in ops],
            )
        new_keys = kwargs.get("ledger_keys") or ()
        if new_keys:
            curs.executemany("INSERT INTO ledger_keys VALUES (%s, %s, %s)", list(new_keys))
        private = kwargs.get("private")
        if private is not None:
            # The key table's rows of these events (privacy/vault.py), in the same transaction.
            private(PgCursorAdapter(curs))
        return positions


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


# -- the SQL adapter -----------------------------------------------------------------------

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%")


def to_pyformat(sql: str) -> str:
    """``?`` placeholders as ``%s`` (a ``?`` in quoted text stays), and every ``%`` as ``%%``."""

    def swap(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "?":
            return "%s"
        # psycopg reads every % as a placeholder's start, inside quoted text too.
        return token.replace("%", "%%")

    return _TOKENS.sub(swap, sql)


def _values(row: Any) -> tuple[Any, ...]:
    """A row's values, from a cursor of tuple rows or of dict rows (the recorder's own)."""
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


class PgCursorAdapter:
    """A psycopg cursor behind the :class:`~.db.Cursor` protocol: ``?`` SQL, tuple rows."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._c = cursor
        self._cache: dict[str, str] = {}

    def _sql(self, sql: str) -> str:
        found = self._cache.get(sql)
        if found is None:
            found = self._cache[sql] = to_pyformat(sql)
        return found

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._c.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._c.executemany(self._sql(sql), rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._c.fetchone()
        return _values(row) if row is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [_values(r) for r in self._c.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self._c.rowcount)


class PgDb(Db):
    """Transactions on the ledger's PostgreSQL database, through eventsourcing's pool."""

    backend = "postgresql"
    position_col = "notification_id"

    def __init__(self, datastore: Any, events_table: str = "partnershipledger_events") -> None:
        super().__init__(datastore, events_table=events_table)

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor]:
        with self.datastore.get_connection() as conn:
            if not commit:
                # Reads need no BEGIN/ROLLBACK: at READ COMMITTED each statement sees its own
                # snapshot inside a transaction too, so this only saves two round trips.
                with conn.cursor(row_factory=tuple_row) as cursor:
                    yield PgCursorAdapter(cursor)
                return
            with conn.transaction(), conn.cursor(row_factory=tuple_row) as cursor:
                yield PgCursorAdapter(cursor)

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
