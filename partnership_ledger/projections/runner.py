"""Keeps the read models up to date with the notification log: catching up, events just recorded, rebuilds."""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

from ..collector import collector_paused
from ..storage.db import Cursor, CursorAdapter, Db
from .tables import TRACKING_NAME as TRACKING_NAME  # where others import it from
from .tables import TRACKING_TABLE, ReadModelTables, is_database_error, set_tracked, sqlite_pragma, tracked

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

#: Events applied per transaction when catching up; events read and applied at a time by a
#: rebuild (all in one transaction).
BATCH = 2000
REBUILD_BATCH = 20000
#: SQLite's page cache while rebuilding, in KiB (its default is 2 MiB): the read models of a
#: million events are far bigger, and a rebuild inserts into their indexes all along.
REBUILD_CACHE_KIB = 65536
#: Batches between two runs of the garbage collector's young generations (events are freed
#: by reference counting: it only walks what the models cache).
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


class ReadModel:
    """A read model: its tables, and how a batch of events changes them.

    For each batch, in the batch's transaction, the runner calls :meth:`begin` (or
    :meth:`resume`), then :meth:`apply_all` with the batch's events that the model reads
    (:attr:`event_names`), then :meth:`end`; if anything fails, :meth:`abort` instead (the
    transaction rolls back). :meth:`release` when no batch will follow. The hooks do nothing
    here: a model overrides those it needs.
    """

    #: Its CREATE TABLE / INDEX statements, and the names of the tables they make.
    tables: Sequence[str] = ()
    table_names: Sequence[str] = ()
    #: The names of the event classes it reads (an event no model reads is not even
    #: decoded); None: every event.
    event_names: Collection[str] | None = None

    def apply_all(self, c: Cursor, items: Sequence[Item]) -> None:
        """Apply the batch's events that the model reads, in their order (every model has its own)."""
        raise NotImplementedError

    def begin(self, c: Cursor) -> None:
        """A batch starts in the transaction of ``c``."""

    def resume(self, c: Cursor) -> None:
        """A batch starts right after the last one, which ended with :meth:`end`, with
        nothing written between (in the same transaction, or the next): what the model cached
        is still what its tables hold, and may be kept. By default, :meth:`begin`."""
        self.begin(c)

    def end(self) -> None:
        """The batch's events are all applied (still in its transaction)."""

    def abort(self) -> None:
        """The batch failed: its transaction rolls back."""

    def release(self) -> None:
        """No batch follows: what was kept for :meth:`resume` may go."""


def _is_constraint_error(e: BaseException) -> bool:
    """A primary key or other constraint refused a read model's row (SQLite or PostgreSQL)."""
    seen: BaseException | None = e
    while seen is not None:
        if any(k.__name__ in ("IntegrityError", "UniqueViolation") for k in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Projections(ReadModelTables):
    """Runs every read model over new events, in batches, with exactly-once tracking.

    Every way in (:meth:`catch_up`, :meth:`rebuild`, :meth:`apply_recorded`) applies a batch
    through :meth:`_apply`, which moves the tracking row in the batch's transaction.
    """

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
        self._readers: dict[type, tuple[int, ...]] = {}
        #: Where the models' caches hold what the tables hold: the transaction of the last
        #: batch applied (its driver's cursor; None once committed) and the position it ended at.
        self._kept: tuple[Any, int] | None = None

    def create_tables(self) -> None:
        """Create the read-model tables, or fill them afresh if another layout made them."""
        if self.tracked() is not None:
            # The usual case: no write at all (a reader can open the ledger while another
            # process writes), but for tables a newer version added.
            missing = self.missing()
            if missing:
                with self.db.transaction() as c:
                    self.lock(c)
                    for statement in missing:
                        c.execute(statement)
            return
        # A new ledger, or read models of another layout: they start empty (checked again
        # under the lock), and :meth:`catch_up` fills them as a rebuild does (which makes
        # the tables again, and their indexes after the rows).
        self.db.script([TRACKING_TABLE])
        with self.db.transaction() as c:
            self.lock(c)
            if tracked(c) is None:
                self.empty(c, same_layout=False)
                for statement in self.index_statements:
                    c.execute(statement)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event not yet applied, :data:`BATCH` a transaction; returns how many.

        Each transaction leaves the read models whole up to its tracking row. Read models
        that hold nothing yet are filled as :meth:`rebuild` fills them (one transaction)."""
        if self.is_current():
            return 0
        if self.position() == 0:
            return self.rebuild(progress)
        try:
            return self._batches(BATCH, progress, self._next_batch)
        except Exception as e:
            if not _is_constraint_error(e):
                raise
            # The read models hold rows of events their tracking row says are not applied
            # (it was rewound or edited): they can only be recomputed. Never a dead end.
            return self.rebuild(progress)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop and recompute every read model from the first event, in one transaction.

        Readers keep reading the read models as they were until it commits; writers of
        events wait; stopped half way, it leaves them as they were."""
        return self.refill(lambda c: self._fill(c, progress))

    def _fill(self, c: Cursor, progress: Callable[[int], None] | None) -> int:
        """Apply every event after the tracking row in the transaction of ``c``,
        :data:`REBUILD_BATCH` at a time, with a bigger SQLite page cache."""
        self._release()  # the tables were just emptied
        with sqlite_pragma(c, self.db.backend, "cache_size", -REBUILD_CACHE_KIB):
            return self._batches(REBUILD_BATCH, progress, lambda: self._next(c, REBUILD_BATCH))

    def _batches(self, size: int, progress: Callable[[int], None] | None, step: Callable[[], int]) -> int:
        """Run ``step`` (which applies up to ``size`` events) until it applies fewer; returns
        how many it applied. The collector runs between batches only."""
        applied, n, done = 0, size, 0
        with collector_paused():
            try:
                while n == size:
                    n = step()
                    applied, done = applied + n, done + 1
                    if progress is not None and n:
                        progress(n)
                    if done % COLLECT_EVERY == 0:
                        gc.collect(1)
            finally:
                # Before the collector resumes: its first pass walks every object made
                # while it was paused that is still alive, and the models' caches are most.
                self._release()
        return applied

    def _next_batch(self) -> int:
        """Apply the next :data:`BATCH` events in a transaction of their own."""
        with self.db.transaction() as c:
            # Writing the tracking row first takes the write lock (SQLite) or the row lock
            # (PostgreSQL): two processes catching up at once apply each event once.
            c.execute("UPDATE ledger_tracking SET position = position WHERE name=?", (TRACKING_NAME,))
            n = self._next(c, BATCH)
        if self._kept is not None:  # committed: the next transaction may resume the caches
            self._kept = (None, self._kept[1])
        return n

    def _next(self, c: Cursor, size: int) -> int:
        """Read, decode and apply the next ``size`` events after the tracking row; returns how many."""
        start = tracked(c) or 0
        pos, table = self.db.position_col, self.db.events_table
        c.execute(
            f"SELECT {pos}, originator_id, originator_version, topic, state FROM {table} "
            f"WHERE {pos} > ? ORDER BY {pos} LIMIT ?",
            (start, size),
        )
        rows = c.fetchall()
        if rows:
            decode = self.mapper.to_domain_event
            # oid: text (SQLite) or a UUID; state: bytes or a memoryview (PostgreSQL). An event
            # no model reads (derived bookkeeping) is not even decoded.
            events = (
                (position, decode(StoredEvent(oid, version, topic, bytes(state))))
                for position, oid, version, topic, state in rows
                if self._readers_of(resolve_topic(topic))
            )
            self._apply(c, start, int(rows[-1][0]), events)
        return len(rows)

    def apply_recorded(self, c: Cursor, recorded: Sequence[tuple[int, Any]]) -> bool:
        """Apply events just stored (each with its position), inside the transaction that
        stores them: no re-reading, and read-your-writes with one commit.

        Only when the read models were current up to the first new position; otherwise (or
        if a read model fails, rolled back to a savepoint so the events still commit) it
        does nothing and :meth:`catch_up` applies the events later."""
        if not recorded:
            return True
        start = recorded[0][0] - 1
        if tracked(c) != start:
            self._kept = None
            return False
        c.execute("SAVEPOINT read_models")
        try:
            self._apply(c, start, recorded[-1][0], recorded)
        except Exception as e:
            if is_database_error(e):
                raise  # the disk is full, the database is locked...: the whole write fails
            c.execute("ROLLBACK TO SAVEPOINT read_models")
            c.execute("RELEASE SAVEPOINT read_models")
            return False
        c.execute("RELEASE SAVEPOINT read_models")
        return True

    def _apply(self, c: Cursor, start: int, end: int, recorded: Iterable[tuple[int, Any]]) -> None:
        """Apply the events after position ``start`` up to ``end`` (each with its position) and
        move the tracking row to ``end``, in the transaction of ``c``.

        The models resume what they cached when the last batch ended at ``start`` in this
        transaction or in one since committed: only the read models' writers change their
        tables, each moving the tracking row, so the caches still hold what the tables hold.
        Each event goes to the models that read it, with its aggregate's info; then each
        model takes its events (``apply_all``). If anything fails, every model drops
        what it kept of the batch (``abort``): the transaction rolls back.
        """
        txn = c.driver if isinstance(c, CursorAdapter) else c
        kept, self._kept = self._kept, None
        resume = kept is not None and kept[1] == start and kept[0] in (None, txn)
        for m in self.models:
            if resume:
                m.resume(c)
            else:
                m.begin(c)
        try:
            items: list[list[Item]] = [[] for _ in self.models]
            for position, event in recorded:
                readers = self._readers_of(type(event))
                if readers:  # else derived bookkeeping no model reads
                    item: Item = (position, event, self.info_of(c, event))
                    for i in readers:
                        items[i].append(item)
            for m, mine in zip(self.models, items, strict=True):
                if mine:
                    m.apply_all(c, mine)
            for m in self.models:
                m.end()
            set_tracked(c, end)
        except BaseException:
            for m in self.models:
                m.abort()
            raise
        self._kept = (txn, end)

    def ended(self, c: Cursor) -> None:
        """The transaction of ``c`` has ended (an import's, a command's): what the models kept
        for a next batch in it is of no more use, and is let go now rather than at the next
        batch (a transaction that writes after it starts afresh: :meth:`_apply`)."""
        txn = c.driver if isinstance(c, CursorAdapter) else c
        if self._kept is not None and self._kept[0] is txn:
            self._release()

    def _release(self) -> None:
        """Let the models drop the caches kept from batch to batch: no batch follows."""
        self._kept = None
        for m in self.models:
            m.release()

    def _readers_of(self, cls: type) -> tuple[int, ...]:
        """The models (their indexes in :attr:`models`) that read events of class ``cls``."""
        found = self._readers.get(cls)
        if found is None:
            name = cls.__qualname__
            found = self._readers[cls] = tuple(
                i for i, m in enumerate(self.models) if m.event_names is None or name in m.event_names
            )
        return found
