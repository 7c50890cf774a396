"""Keeps the read models up to date with the notification log: catching up, events just recorded, rebuilds."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ..collector import collector_paused
from ..storage.db import Cursor, Db
from .tables import TRACKING_NAME as TRACKING_NAME  # where others import it from
from .tables import ReadModelTables, current_in, is_database_error

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

#: Events applied per transaction when catching up; events read and applied at a time by a
#: rebuild (all in one transaction).
BATCH = 2000
REBUILD_BATCH = 20000
#: SQLite's page cache while rebuilding, in KiB (its default is 2 MiB): the read models of a
#: million events are far bigger, and a rebuild inserts into their indexes all along.
REBUILD_CACHE_KIB = 65536
#: Batches between two runs of the garbage collector's young generations while catching up
#: (it finds nothing there: events are freed by reference counting; it only walks what the
#: models cache, which takes a few percent of a rebuild when run after every batch).
COLLECT_EVERY = 4


class AggregateInfo(NamedTuple):
    """What the read models need to know about an aggregate to place its events."""

    kind: str
    key: str
    partnership: str | None
    party: str | None
    parent: str | None


def trim(cache: dict[Any, Any], size: int) -> None:
    """Forget the oldest half of a model's cache grown over ``size`` entries (between batches,
    when everything in it is written back): memory stays bounded over millions of events."""
    if len(cache) > size:
        for key in list(cache)[: len(cache) - size // 2]:
            del cache[key]


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


def _is_constraint_error(e: BaseException) -> bool:
    """A primary key or other constraint refused a read model's row (SQLite or PostgreSQL)."""
    seen: BaseException | None = e
    while seen is not None:
        if any(k.__name__ in ("IntegrityError", "UniqueViolation") for k in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Projections(ReadModelTables):
    """Runs every read model over new events, in batches, with exactly-once tracking."""

    def __init__(
        self,
        db: Db,
        mapper: Mapper[UUID],
        models: Sequence[ReadModel],
        info_of: Callable[[Cursor, Any], AggregateInfo],
    ) -> None:
        self.models = list(models)
        statements = [s for m in self.models for s in m.tables]
        super().__init__(db, statements, [n for m in self.models for n in m.table_names])
        self.mapper = mapper
        self.info_of = info_of
        # The models that read each event class (by name) and stored topic, found once.
        self._readers: dict[str, tuple[int, ...]] = {}
        self._topic_readers: dict[str, tuple[int, ...]] = {}
        #: The transaction (its cursor) that the last successful :meth:`apply_recorded` ran in,
        #: and the position it applied up to: the next slice of the same transaction lets the
        #: models keep what they cached (see :meth:`apply_recorded`).
        self._txn: Any = None
        self._txn_end = 0
        #: The position the last batch of :meth:`_batch` applied up to, once committed: the
        #: next batch may let the models keep what they cached if it starts there (see
        #: :meth:`_batch`); None when it may not.
        self._batch_end: int | None = None

    def create_tables(self) -> None:
        """Create the read-model tables, or fill them afresh if another layout made them."""
        if self.tracked():
            # The usual case: nothing to change, so no write at all (a reader can open the
            # ledger while another process writes). What is missing (tables added by a newer
            # version) is made in a transaction that takes the write lock first.
            missing = self.missing()
            if missing:
                with self.db.transaction() as c:
                    self.lock(c)
                    for statement in missing:
                        c.execute(statement)
            return
        from .tables import TRACKING_TABLE

        # A new ledger, or read models of another layout: they start empty (checked again
        # under the lock: two processes opening a new ledger at once make them once), and
        # :meth:`catch_up` fills them as a rebuild does, making their indexes at its end.
        self.db.script([TRACKING_TABLE])
        with self.db.transaction() as c:
            self.lock(c)
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            if c.fetchone() is None:
                self.empty(c, same_layout=False)
                if self._no_events(c):  # nothing to fill: the indexes now
                    for statement in self.index_statements:
                        c.execute(statement)

    def _no_events(self, c: Cursor) -> bool:
        """Whether no event is stored (nor the table of events made yet: verification's scratch)."""
        try:
            return current_in(c, self.db)
        except Exception as e:
            if not is_database_error(e):
                raise
            return True

    # -- applying events --------------------------------------------------------------------
    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event not yet applied, :data:`BATCH` a transaction; returns how many.

        Each transaction leaves the read models whole up to its tracking row, so readers
        (and a catch-up stopped half way) always find a consistent state. Read models that
        hold nothing yet are filled as :meth:`rebuild` fills them (one transaction)."""
        if not self.is_current() and (self.position() == 0 or self._ahead_of_tracking()):
            # Nothing applied yet, or the read models hold events their tracking row says are
            # not applied (it was rewound): catching up would apply those again. Recompute.
            return self.rebuild(progress)
        try:
            return self._catch_up(progress)
        except Exception as e:
            if not _is_constraint_error(e):
                raise
            # The read models already hold rows of events their tracking row says are
            # not applied (it was rewound or edited): they cannot be caught up, only
            # recomputed, which is what a rebuild does. Never a dead end.
            return self.rebuild(progress)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop and recompute every read model from the first event, in one transaction.

        Readers keep reading the read models as they were until it commits; writers of
        events wait (as for any other write); stopped half way, it leaves them as they were.
        """
        return self.refill(lambda c: self._fill(c, progress))

    def _fill(self, c: Cursor, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event after the tracking row in the transaction of ``c`` (read
        :data:`REBUILD_BATCH` at a time, the models keeping what they cache from one to the
        next), with a bigger SQLite page cache; returns how many were applied."""
        before = None
        if self.db.backend == "sqlite" and REBUILD_CACHE_KIB:
            c.execute("PRAGMA cache_size")
            before = int((c.fetchone() or (-2000,))[0])
            c.execute(f"PRAGMA cache_size=-{int(REBUILD_CACHE_KIB)}")
        applied = 0
        try:
            with collector_paused():  # collected between batches only (below)
                c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
                start = int((c.fetchone() or (0,))[0])
                for done in itertools.count(1):
                    rows = self._rows_after(c, start, REBUILD_BATCH)
                    if not rows:
                        break
                    self._apply_rows(c, rows, resume=applied > 0)
                    start, applied = int(rows[-1][0]), applied + len(rows)
                    if progress is not None:
                        progress(len(rows))
                    if done % COLLECT_EVERY == 0:
                        gc.collect(1)
            c.execute("UPDATE ledger_tracking SET position=? WHERE name=?", (start, TRACKING_NAME))
        finally:
            self._release()
            if before is not None:
                c.execute(f"PRAGMA cache_size={before}")
        return applied

    def _catch_up(self, progress: Callable[[int], None] | None) -> int:
        """Apply the events not yet applied, :data:`BATCH` a transaction."""
        applied = 0
        if self.is_current():
            return 0
        try:
            with collector_paused():  # collected between batches only (below)
                done, n = 0, BATCH
                while n == BATCH:
                    n = self._batch(BATCH)
                    done += 1
                    if done % COLLECT_EVERY == 0:
                        gc.collect(1)
                    applied += n
                    if progress is not None and n:
                        progress(n)
        finally:
            self._release()
        return applied

    def _release(self) -> None:
        """Let the models drop the caches kept from batch to batch: they are of no use to what
        comes next (another transaction, maybe after another process wrote)."""
        self._batch_end = None
        for m in self.models:
            if hasattr(m, "release"):
                m.release()

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

    def _apply(self, c: Cursor, recorded: Iterable[tuple[int, Any]], *, resume: bool) -> None:
        """Apply a batch of events, each with its position, in the transaction of ``c``;
        ``resume``: let the models keep what they cached from the batch before.

        Each event goes to the models that read it (see ``event_names``), with its aggregate's
        info; then one model at a time takes its events (the models are independent of each
        other, and a tight loop per model runs faster than all models per event), through its
        ``apply_all`` if it has one; then each model's ``end``. If anything fails, every model
        drops what it kept of the batch (``abort``): the transaction rolls back.
        """
        for m in self.models:
            if resume and hasattr(m, "resume"):
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
            for m, mine in zip(self.models, items, strict=True):
                apply_all = getattr(m, "apply_all", None)
                if apply_all is not None:
                    apply_all(c, mine)
                else:
                    for position, event, info in mine:
                        m.apply(c, position, event.timestamp, event, info)
            for m in self.models:
                if hasattr(m, "end"):
                    m.end()
        except BaseException:
            for m in self.models:
                if hasattr(m, "abort"):
                    m.abort()
            raise

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
        try:
            self._apply(c, recorded, resume=same)
            c.execute("UPDATE ledger_tracking SET position=? WHERE name=?", (recorded[-1][0], TRACKING_NAME))
        except Exception as e:
            if is_database_error(e):
                raise  # the disk is full, the database is locked...: the whole write fails
            c.execute("ROLLBACK TO SAVEPOINT read_models")
            c.execute("RELEASE SAVEPOINT read_models")
            return False
        c.execute("RELEASE SAVEPOINT read_models")
        self._txn, self._txn_end = raw, recorded[-1][0]
        return True

    def _batch(self, size: int = BATCH) -> int:
        """Apply the next ``size`` events in one transaction; returns how many.

        Models with a ``resume`` keep what they cached from the previous batch when that
        batch committed and nothing was applied since: the tracking row is still where it
        left it. Only the read models' own writers change their tables, and each moves the
        tracking row in the same transaction, so the caches still hold what the tables
        hold. Any other batch starts afresh.
        """
        self._txn = None
        kept, self._batch_end = self._batch_end, None
        with self.db.transaction() as c:
            # Writing the tracking row first takes the write lock (SQLite) or the row lock
            # (PostgreSQL): two processes catching up at once apply each event once.
            c.execute("UPDATE ledger_tracking SET position = position WHERE name=?", (TRACKING_NAME,))
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            row = c.fetchone()
            start = int(row[0]) if row else 0
            rows = self._rows_after(c, start, size)
            if not rows:
                return 0
            self._apply_rows(c, rows, resume=kept is not None and kept == start)
            c.execute("UPDATE ledger_tracking SET position=? WHERE name=?", (rows[-1][0], TRACKING_NAME))
        # Committed: what the models cached is what the tables now hold.
        self._batch_end = int(rows[-1][0])
        return len(rows)

    def _rows_after(self, c: Cursor, start: int, size: int) -> list[tuple[Any, ...]]:
        """The next ``size`` stored events after position ``start``, as raw rows."""
        pos, table = self.db.position_col, self.db.events_table
        return _fetch_plain(
            c,
            f"SELECT {pos}, originator_id, originator_version, topic, state FROM {table} "
            f"WHERE {pos} > ? ORDER BY {pos} LIMIT ?",
            (start, size),
        )

    def _apply_rows(self, c: Cursor, rows: Sequence[tuple[Any, ...]], *, resume: bool) -> None:
        """Decode stored rows and apply them; ``resume``: let the models keep their caches."""
        decode, readers_of = self.mapper.to_domain_event, self._readers_of_topic
        # oid: text (SQLite) or a UUID; state: bytes, or a memoryview (PostgreSQL). An event
        # no model reads (derived bookkeeping) is not even decoded.
        self._apply(
            c,
            (
                (position, decode(StoredEvent(oid, version, topic, bytes(state))))
                for position, oid, version, topic, state in rows
                if readers_of(topic)
            ),
            resume=resume,
        )
