"""Keeps the read models up to date with the notification log."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from ..collector import collector_paused
from ..storage.db import Cursor, Db

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

TRACKING_TABLE = "CREATE TABLE IF NOT EXISTS ledger_tracking (name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
#: The layout of the read-model tables, carried by the name of their tracking row: read models
#: made by another layout (an older version) have no row of this name, so opening the ledger
#: drops them and applies every event again, and a reader looking for the row finds none.
LAYOUT = 6
TRACKING_NAME = f"read_models.v{LAYOUT}"
#: A tracking row present while the read models are filled from the first event: their
#: secondary indexes are made at the end, by whoever finishes the fill.
AFRESH_NAME = f"{TRACKING_NAME}.afresh"
#: Events applied per transaction when catching up, and when rebuilding from the first event.
BATCH = 2000
REBUILD_BATCH = 20000
#: SQLite's page cache while rebuilding, in KiB (its default is 2 MiB): the read models of a
#: million events are far bigger, and a rebuild inserts into their indexes all along.
REBUILD_CACHE_KIB = 65536
#: Batches between two runs of the garbage collector's young generations while catching up
#: (it finds nothing there: events are freed by reference counting; it only walks what the
#: models cache, which takes a few percent of a rebuild when run after every batch).
COLLECT_EVERY = 4
#: SQLite's ``synchronous`` while rebuilding (1: NORMAL, no flush at each commit; WAL only).
REBUILD_SYNCHRONOUS = 1
#: The WAL's size, in pages, past which a rebuild's commit copies it into the database
#: (SQLite's default is 1,000: every batch of a rebuild writes more, so each commit copied
#: its pages twice, and the pages that every batch changes, B-tree interior pages, the
#: contributions a delivery updates, were copied at every commit). About 40 MiB; the next
#: commit after the rebuild copies what is left.
REBUILD_AUTOCHECKPOINT = 10_000


class AggregateInfo:
    """What the read models need to know about an aggregate to place its events."""

    __slots__ = ("key", "kind", "parent", "partnership", "party")

    def __init__(self, kind: str, key: str, partnership: str | None, party: str | None, parent: str | None) -> None:
        self.kind = kind
        self.key = key
        self.partnership = partnership
        self.party = party
        self.parent = parent


#: What a model's ``apply_all`` gets for each event: its position, the event, its aggregate's info.
Item = tuple[int, Any, AggregateInfo]


class ReadModel(Protocol):
    """A read model: its tables, and how one event changes them.

    Optional parts, looked up with ``getattr``: ``begin(cursor)``, ``end()`` and ``abort()``
    around each batch of events (one transaction); ``apply_all(cursor, items)``, which does
    what ``apply`` does for each of a batch's :data:`Item`; ``resume(cursor)``
    instead of ``begin`` for the next slice of the same transaction, or the next batch of a
    catch-up when nothing came between (keeping caches across them); ``release()`` when no
    slice or batch will follow; ``event_names``, the names of the
    event classes it reads (the runner does not even decode an event no model reads); and
    ``applied_up_to(cursor)``, the last position the model holds (a model ahead of the
    tracking row is recomputed rather than caught up).
    """

    @property
    def tables(self) -> Sequence[str]:  # CREATE TABLE / INDEX statements
        ...

    @property
    def table_names(self) -> Sequence[str]: ...

    def apply(self, c: Cursor, position: int, recorded_at: datetime, event: Any, info: AggregateInfo) -> None: ...


@contextmanager
def _secure_delete_off(c: Cursor, backend: str) -> Iterator[None]:
    """Let SQLite free pages without overwriting them with zeros (``secure_delete``, which
    some builds turn on by default: Debian's), on this connection and until the block ends.

    Only around writes of read models, which hold nothing the events do not: their content
    left in free pages is content the file keeps anyway, in the events. Overwriting the pages
    of the read models of a million events that a rebuild drops writes a few hundred
    megabytes (5 s); freeing them, a fifth of a second.
    """
    if backend != "sqlite":
        yield
        return
    c.execute("PRAGMA secure_delete")
    before = int((c.fetchone() or (0,))[0])
    if before:
        c.execute("PRAGMA secure_delete=0")
    try:
        yield
    finally:
        if before:
            c.execute(f"PRAGMA secure_delete={before}")


def _fetch_plain(c: Cursor, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The rows of a query as plain tuples. On SQLite, straight from the ``sqlite3`` cursor
    with no row factory for this query (eventsourcing's connections make ``sqlite3.Row``
    objects, which the adapter then copies into tuples: a third of reading a batch)."""
    raw = getattr(getattr(c, "_c", None), "sqlite_cursor", None)
    if raw is None or not hasattr(raw, "row_factory"):
        c.execute(sql, params)
        return c.fetchall()
    factory = raw.row_factory
    raw.row_factory = None
    try:
        raw.execute(sql, params)
        rows: list[tuple[Any, ...]] = raw.fetchall()
    finally:
        raw.row_factory = factory
    return rows


def _is_index(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))


def _is_database_error(e: BaseException) -> bool:
    import sqlite3

    from eventsourcing.persistence import PersistenceError

    if isinstance(e, (sqlite3.Error, PersistenceError)):
        return True
    return type(e).__module__.startswith("psycopg")


def _is_constraint_error(e: BaseException) -> bool:
    """A primary key or other constraint refused a read model's row (SQLite or PostgreSQL)."""
    seen: BaseException | None = e
    while seen is not None:
        if any(k.__name__ in ("IntegrityError", "UniqueViolation") for k in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


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
        # The models that read each event class (by name) and stored topic, found once.
        self._readers: dict[str, tuple[int, ...]] = {}
        self._topic_readers: dict[str, tuple[int, ...]] = {}
        statements = [s for m in self.models for s in m.tables]
        if db.backend != "sqlite":  # a table without rowid is SQLite's; elsewhere, a plain table
            statements = [s.removesuffix(" WITHOUT ROWID") for s in statements]
        self._tables = [s for s in statements if not _is_index(s)]
        self._indexes = [s for s in statements if _is_index(s)]
        #: Whether this object started the read models afresh and has not yet filled them
        #: (and made their indexes).
        self._afresh = False
        #: The transaction (its cursor) that the last successful :meth:`apply_recorded` ran in,
        #: and the position it applied up to: the next slice of the same transaction lets the
        #: models keep what they cached (see :meth:`apply_recorded`).
        self._txn: Any = None
        self._txn_end = 0
        #: The position the last batch of :meth:`_batch` applied up to, once committed: the
        #: next batch may let the models keep what they cached if it starts there (see
        #: :meth:`_batch`); None when it may not.
        self._batch_end: int | None = None

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

    def _start_afresh(self, c: Cursor) -> None:
        """Drop every read model and make its tables again, empty and without their secondary
        indexes: the catch-up that fills them makes those at its end (see :meth:`catch_up`)."""
        with _secure_delete_off(c, self.db.backend):
            for m in self.models:
                for name in m.table_names:
                    c.execute(f"DROP TABLE IF EXISTS {name}")
        c.execute("DELETE FROM ledger_tracking WHERE name LIKE 'read_models%'")
        c.execute("INSERT INTO ledger_tracking VALUES (?, 0)", (TRACKING_NAME,))
        c.execute("INSERT INTO ledger_tracking VALUES (?, 0)", (AFRESH_NAME,))
        for statement in self._tables:
            c.execute(statement)
        self._afresh = True
        self._batch_end = None

    def create_tables(self) -> None:
        """Create the read-model tables, or start them afresh if another layout made them."""
        if self._tracked():
            # The usual case: nothing to change, so no write at all (a reader can open the
            # ledger while another process writes, or rebuilds). What is missing is made, in a
            # transaction that takes the write lock first (so it waits its turn): tables added
            # by a newer version, or the indexes of a catch-up from the first event that
            # stopped before it made them, but not while another process rebuilds (it makes
            # them at its end; making them now would slow every row it inserts).
            missing = self._missing()
            if missing:
                with self.db.transaction() as c:
                    self._write_first(c)
                    c.execute("SELECT 1 FROM ledger_tracking WHERE name=?", (AFRESH_NAME,))
                    building = c.fetchone() is not None
                    for statement in missing:
                        if not (building and _is_index(statement)):
                            c.execute(statement)
            return
        self.db.script([TRACKING_TABLE])
        with self.db.transaction() as c:
            self._schema_lock(c)
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            if c.fetchone() is None:
                # A new ledger, or read models of another layout: every event is applied again.
                self._start_afresh(c)
        if not self._afresh:  # another process started them afresh meanwhile
            self.db.script(self._tables + self._indexes)

    def _missing(self) -> list[str]:
        """The statements of the tables and indexes that are not there (a read; no lock)."""
        import re

        with self.db.transaction(commit=False) as c:
            if self.db.backend == "sqlite":
                c.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
            else:
                c.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "UNION SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                )
            have = {str(r[0]).lower() for r in c.fetchall()}
        named = re.compile(r"\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.I)
        missing = []
        for statement in self._tables + self._indexes:
            m = named.match(statement)
            if m is None or m.group(1).lower() not in have:
                missing.append(statement)
        return missing

    def _tracked(self) -> bool:
        """Whether the tracking row of this layout is there (a read; no lock)."""
        with self.db.transaction(commit=False) as c:
            try:
                c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            except Exception as e:  # no ledger_tracking table yet (a new ledger)
                if not _is_database_error(e):
                    raise
                return False
            return c.fetchone() is not None

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
    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event not yet applied; returns how many were applied.

        Read models started afresh (by :meth:`rebuild`, or on opening a ledger whose read
        models another layout made) are filled as a rebuild: in bigger batches, with a bigger
        SQLite page cache, and their secondary indexes made once at the end (sorting every row
        once is much cheaper than keeping an index in order row by row). If that stops half
        way, the next call (or the next opening of the ledger) carries on from where it stopped.
        """
        if not self._afresh:
            if not self.is_current() and self._ahead_of_tracking():
                # The read models hold events their tracking row says are not applied yet
                # (it was rewound): catching up would apply those again. Recompute instead.
                return self.rebuild(progress)
            try:
                applied = self._catch_up(progress, BATCH)
                if self._building() and self.is_current():
                    # Another process started the read models afresh and stopped before the
                    # end: this catch-up finished its work, so it makes the indexes.
                    self._make_indexes(())
                return applied
            except Exception as e:
                if not _is_constraint_error(e):
                    raise
                # The read models already hold rows of events their tracking row says are
                # not applied (it was rewound or edited): they cannot be caught up, only
                # recomputed, which is what a rebuild does. Never a dead end.
                return self.rebuild(progress)
        setup: tuple[str, ...] = ()
        before = 0
        if self.db.backend == "sqlite" and REBUILD_CACHE_KIB:
            with self.db.transaction(commit=False) as c:
                c.execute("PRAGMA cache_size")
                before = int((c.fetchone() or (-2000,))[0])
            setup = (f"PRAGMA cache_size=-{int(REBUILD_CACHE_KIB)}",)
        try:
            applied = self._catch_up(progress, REBUILD_BATCH, setup, relaxed=self._relaxed_sync())
            self._make_indexes(setup)
            self._afresh = False
        finally:
            if setup:
                with self.db.transaction() as c:
                    c.execute(f"PRAGMA cache_size={before}")
        return applied

    def _building(self) -> bool:
        """Whether the read models are being filled from the first event (their indexes not made)."""
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT 1 FROM ledger_tracking WHERE name=?", (AFRESH_NAME,))
            return c.fetchone() is not None

    def _make_indexes(self, setup: Sequence[str]) -> None:
        """Make the secondary indexes (after a fill from the first event) and say so."""
        self.db.script([*setup, *self._indexes])
        with self.db.transaction() as c:
            c.execute("DELETE FROM ledger_tracking WHERE name=?", (AFRESH_NAME,))

    def _write_first(self, c: Cursor) -> None:
        """On SQLite, take the write lock with the transaction's first statement: a transaction
        that reads first and writes later fails at once, without waiting, if another process
        wrote in between (SQLITE_BUSY_SNAPSHOT); one that writes first waits its turn.
        PostgreSQL waits for locks either way."""
        if self.db.backend == "sqlite":
            self._schema_lock(c)

    def _ahead_of_tracking(self) -> bool:
        """Whether a model holds an event past the tracking row (models that can tell have an
        ``applied_up_to(cursor)``: the last position they hold, or None)."""
        pg = self.db.backend == "postgresql"
        # One snapshot for the tracking row and the models, as others commit meanwhile: on
        # PostgreSQL a transaction (writing nothing) at REPEATABLE READ, on SQLite any one.
        with self.db.transaction(commit=pg) as c:
            if pg:
                c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            row = c.fetchone()
            tracked = int(row[0]) if row else 0
            for m in self.models:
                upto = getattr(m, "applied_up_to", None)
                if upto is not None:
                    last = upto(c)
                    if last is not None and last > tracked:
                        return True
        return False

    def _relaxed_sync(self) -> bool:
        """Whether a rebuild may write with ``synchronous`` lowered (SQLite in WAL mode)."""
        if self.db.backend != "sqlite" or not hasattr(self.db.datastore, "get_connection"):
            return False
        with self.db.transaction(commit=False) as c:
            c.execute("PRAGMA journal_mode")
            wal = str((c.fetchone() or ("",))[0]).lower() == "wal"
            c.execute("PRAGMA synchronous")
            sync = int((c.fetchone() or (2,))[0])
        return wal and sync > REBUILD_SYNCHRONOUS

    @contextmanager
    def _write_transaction(self, relaxed: bool) -> Iterator[Cursor]:
        """A write transaction. ``relaxed`` (a rebuild's batch): on a connection held for it
        alone, which skips the flush to disk at the commit and copies the WAL into the
        database less often (:data:`REBUILD_AUTOCHECKPOINT`), and is then set back as it was.

        Read models are recomputed from the events: a batch lost to a power cut is applied
        again (its tracking row is lost with it), and in WAL mode SQLite stays consistent with
        ``synchronous=NORMAL``. The setting belongs to a connection and cannot change inside a
        transaction: it is changed around the transaction while the pool lends the connection
        to this batch only, so nothing else ever writes through it with the lower setting.
        """
        if not relaxed:
            with self.db.transaction() as c:
                yield c
            return
        from ..storage.db import SQLiteCursorAdapter

        with self.db.datastore.get_connection(commit=True) as conn:
            raw = conn._sqlite_conn  # eventsourcing's SQLiteConnection: the sqlite3 connection
            sync = int(raw.execute("PRAGMA synchronous").fetchone()[0])
            raw.execute(f"PRAGMA synchronous={REBUILD_SYNCHRONOUS}")
            checkpoint = int(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
            if 0 < checkpoint < REBUILD_AUTOCHECKPOINT:
                raw.execute(f"PRAGMA wal_autocheckpoint={REBUILD_AUTOCHECKPOINT}")
            try:
                with conn.transaction(commit=True) as curs:
                    yield SQLiteCursorAdapter(curs)
            finally:
                if raw.in_transaction:  # a failed commit: roll back before setting it back
                    raw.rollback()
                raw.execute(f"PRAGMA synchronous={sync}")
                raw.execute(f"PRAGMA wal_autocheckpoint={checkpoint}")

    def _catch_up(
        self, progress: Callable[[int], None] | None, batch: int, setup: Sequence[str] = (), *, relaxed: bool = False
    ) -> int:
        """Apply the events not yet applied, ``batch`` a transaction; ``setup``: statements to
        run at the start of each transaction (a pragma); ``relaxed``: see :meth:`_write_transaction`."""
        applied = 0
        if self.is_current():
            return 0
        try:
            with collector_paused():  # collected between batches only (below)
                n = batch
                for done in itertools.count(1):
                    if n < batch:
                        break
                    n = self._batch(batch, setup, relaxed=relaxed)
                    if done % COLLECT_EVERY == 0:
                        gc.collect(1)
                    applied += n
                    if progress is not None and n:
                        progress(n)
        finally:
            # The caches kept from batch to batch are of no use to what comes next (another
            # transaction, maybe after another process wrote): let the models drop them.
            self._batch_end = None
            for m in self.models:
                if hasattr(m, "release"):
                    m.release()
        return applied

    def _readers_of(self, name: str) -> tuple[int, ...]:
        """The models (their indexes in :attr:`models`) that read events of the class named
        ``name`` (none for derived ones)."""
        found = self._readers.get(name)
        if found is None:
            found = tuple(i for i, m in enumerate(self.models) if name in getattr(m, "event_names", (name,)))
            self._readers[name] = found
        return found

    def _readers_of_topic(self, topic: str) -> tuple[int, ...]:
        found = self._topic_readers.get(topic)
        if found is None:
            from eventsourcing.utils import resolve_topic

            try:
                found = self._readers_of(resolve_topic(topic).__qualname__)
            except Exception:  # an unknown topic: decoding it says what is wrong
                found = tuple(range(len(self.models)))
            self._topic_readers[topic] = found
        return found

    def _apply(self, c: Cursor, items: Sequence[list[Item]]) -> None:
        """Apply a batch of events: ``items`` holds, for each model (in the order of
        :attr:`models`), the :data:`Item` of each event it reads, in order.

        One model at a time over the whole batch (the models are independent of each other),
        then each model's ``end``: a tight loop per model runs faster than all models per event.
        A model with an ``apply_all(cursor, items)`` gets its events at once and loops over
        them itself.
        """
        for m, mine in zip(self.models, items, strict=True):
            apply_all = getattr(m, "apply_all", None)
            if apply_all is not None:
                apply_all(c, mine)
                continue
            apply = m.apply
            for position, event, info in mine:
                apply(c, position, event.timestamp, event, info)
        for m in self.models:
            if hasattr(m, "end"):
                m.end()

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
        # A batch (an import) is written a slice at a time in one transaction, each slice with
        # its own call here. Models with a ``resume`` keep what they cached from one slice to
        # the next of the same transaction (its cursor: each transaction has its own) when
        # nothing came between (the tracking row is where the last slice left it); any other
        # call starts them afresh, so nothing cached outlives its transaction, where other
        # processes may write, or survives a rollback.
        raw = getattr(c, "_c", c)
        txn, txn_end = self._txn, self._txn_end
        self._txn = None
        self._batch_end = None
        c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
        row = c.fetchone()
        if row is None or int(row[0]) != recorded[0][0] - 1:
            return False
        same = txn is raw and txn_end == recorded[0][0] - 1
        c.execute("SAVEPOINT read_models")
        for m in self.models:
            if same and hasattr(m, "resume"):
                m.resume(c)
            elif hasattr(m, "begin"):
                m.begin(c)
        try:
            items: list[list[Item]] = [[] for _ in self.models]
            for position, event in recorded:
                readers = self._readers_of(type(event).__qualname__)
                if readers:  # else derived bookkeeping no model reads
                    item: Item = (position, event, self.info_of(c, event))
                    for i in readers:
                        items[i].append(item)
            self._apply(c, items)
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
        self._txn, self._txn_end = raw, recorded[-1][0]
        return True

    def _batch(self, size: int = BATCH, setup: Sequence[str] = (), *, relaxed: bool = False) -> int:
        """Apply the next ``size`` events in one transaction; returns how many.

        Models with a ``resume`` keep what they cached from the previous batch when that
        batch committed and nothing was applied since: the tracking row is still where it
        left it. Only the read models' own writers change their tables, and each moves the
        tracking row in the same transaction (a rebuild by another process starts it again
        from 0), so the caches still hold what the tables hold. Any other batch starts afresh.
        """
        self._txn = None
        kept, self._batch_end = self._batch_end, None
        with self._write_transaction(relaxed) as c:
            for statement in setup:
                c.execute(statement)
            # Writing the tracking row first takes the write lock (SQLite) or the row lock
            # (PostgreSQL): two processes catching up at once apply each event once.
            c.execute("UPDATE ledger_tracking SET position = position WHERE name=?", (TRACKING_NAME,))
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            row = c.fetchone()
            start = int(row[0]) if row else 0
            pos, table = self.db.position_col, self.db.events_table
            rows = _fetch_plain(
                c,
                f"SELECT {pos}, originator_id, originator_version, topic, state FROM {table} "
                f"WHERE {pos} > ? ORDER BY {pos} LIMIT ?",
                (start, size),
            )
            if not rows:
                return 0
            same = kept is not None and kept == start
            for m in self.models:
                if same and hasattr(m, "resume"):
                    m.resume(c)
                elif hasattr(m, "begin"):
                    m.begin(c)
            from eventsourcing.persistence import StoredEvent

            decode, info_of, readers_of = self.mapper.to_domain_event, self.info_of, self._readers_of_topic
            try:
                items: list[list[Item]] = [[] for _ in self.models]
                for position, oid, version, topic, state in rows:
                    readers = readers_of(topic)
                    if not readers:
                        continue  # derived bookkeeping no model reads: not even decoded
                    # oid: text (SQLite) or a UUID; state: bytes, or a memoryview (PostgreSQL)
                    event = decode(StoredEvent(oid, version, topic, bytes(state)))
                    item: Item = (position, event, info_of(c, event))
                    for i in readers:
                        items[i].append(item)
                self._apply(c, items)
            except BaseException:
                # The transaction rolls back: a model that keeps batch state (a cursor,
                # caches) must drop it, or later reads would use a closed cursor.
                for m in self.models:
                    if hasattr(m, "abort"):
                        m.abort()
                raise
            c.execute("UPDATE ledger_tracking SET position=? WHERE name=?", (rows[-1][0], TRACKING_NAME))
        # Committed: what the models cached is what the tables now hold.
        self._batch_end = int(rows[-1][0])
        return len(rows)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop and recompute every read model from the first event."""
        with self.db.transaction() as c:
            self._schema_lock(c)
            self._start_afresh(c)
        return self.catch_up(progress)
