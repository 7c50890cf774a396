"""The batch recorder: operations applied to a unit of work and written a slice at a time in
one transaction (all or nothing), retried on fresh state when another writer wins a race.

A journal operation's way in: ``PartnershipLedger.import_journal`` (:mod:`.commands`) ->
:meth:`Recorder.record_batch` -> :meth:`Recorder._attempt`, which
looks up what the slice names (:mod:`.lookups`), applies each operation with its handler
(:func:`.handlers.apply_operation`) and hands the events to :class:`_SliceWriter`, which
writes them with their chain links, indexes and read-model rows (the storage recorder).
What a written slice loaded is then let go (:meth:`.UnitOfWork.release`): the batch reads it
back in its own transaction if a later operation needs it, so its memory does not grow with
the journal.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from time import sleep
from typing import TYPE_CHECKING, Any

import attrs
from eventsourcing.persistence import IntegrityError as StoreIntegrityError
from eventsourcing.persistence import PersistenceError

from ..errors import ConcurrencyError, DomainError, JournalError, JournalProblem, StorageError
from ..journal import Operation, Validator
from ..snapshots import take_snapshots
from ..storage import reads
from ..storage.db import Cursor
from ..storage.setup import ENV_PATH, leave_no_copy, reason
from .handlers import apply_operation
from .lookups import BatchReads, Lookups
from .unit_of_work import AggregateCache, UnitOfWork

if TYPE_CHECKING:
    from ..application import PartnershipLedger

#: Tries of a batch that keeps losing races with other writers before it gives up.
MAX_ATTEMPTS = 20
#: Committed aggregates kept in memory between writes (see :class:`AggregateCache`).
CACHE_SIZE = 2000


@attrs.frozen
class RecordResult:
    """What recording a batch of operations did."""

    operations: int  # operations in the batch
    applied: int  # operations recorded now
    skipped: int  # operations already in the ledger (idempotent re-import)
    events: int  # events stored
    first_position: int | None = None
    last_position: int | None = None
    dry_run: bool = False


class _LostRace(Exception):
    """Another writer recorded something the batch read: it must start again."""


class Recorder:
    """Records operations into ``ledger``: atomically, idempotently, and safely among writers.

    Keeps the aggregates a batch committed (an :class:`AggregateCache`), so that the next
    command does not load its party, partnership and agreement again (each a snapshot and up
    to 100 events; docs/performance.md "Bounded replay" measures what that saves), and
    eventsourcing's own cache would deep-copy each one on every use.
    """

    #: Operations applied, then written, at a time within a batch's one transaction: a big
    #: journal is never all in memory, only a slice of it. Set it on a ledger's ``recording``
    #: (or here, for every ledger) to trade memory for fewer, bigger writes.
    slice_size = 2000

    def __init__(self, ledger: PartnershipLedger) -> None:
        self.ledger = ledger
        self.cache = AggregateCache(CACHE_SIZE)
        self.lookups = Lookups(ledger.db, ledger.mapper, ledger.repository)

    def record_batch(
        self,
        operations: Callable[[], tuple[Iterator[Operation], Validator | None]],
        *,
        dry_run: bool = False,
        source: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RecordResult:
        """Record the operations that ``operations()`` reads (afresh for each try), with the
        validator that checks them as they are read (None: they are valid already)."""
        for attempt in range(MAX_ATTEMPTS):
            ops, validator = operations()
            try:
                return self._attempt(ops, validator, dry_run=dry_run, source=source, progress=progress)
            except (_LostRace, StoreIntegrityError):
                # Another writer got there first (same aggregate version, key or operation, or
                # it changed what a rule read): start again from what is now stored. Wait a
                # random while, longer after each lost race, so that many writers racing for
                # one aggregate don't keep colliding (none of them starves).
                sleep(random.uniform(0, min(0.25, 0.002 * 2**attempt)))
            except PersistenceError as e:
                raise StorageError(f"the ledger could not record the operations: {reason(e)}") from None
        raise ConcurrencyError(
            f"the operations kept losing races with other writers ({MAX_ATTEMPTS} attempts); "
            "nothing was recorded, try again"
        )

    def _attempt(
        self,
        operations: Iterator[Operation],
        validator: Validator | None,
        *,
        dry_run: bool,
        source: str | None,
        progress: Callable[[int], None] | None,
    ) -> RecordResult:
        """One try at recording ``operations``: all of them in one transaction, or none.

        The operations are applied and written a slice at a time (:attr:`slice_size`), so a
        big journal is never all in memory. ``validator`` (reading a journal) has the problems
        of the operations read so far: after the first, nothing more is applied, but the rest
        is still read so that the error lists every problem; the transaction then rolls back.
        """
        ledger = self.ledger
        batch = BatchReads(self.lookups)
        uow = UnitOfWork(batch, batch.kind_of_key, self.cache.take, batch.origin_of_op, batch.pledges_of)
        uow.vault = ledger.vault(recording=True)
        count = applied = 0
        seen: int | None = None
        refused: tuple[DomainError, Operation] | None = None
        writer = _SliceWriter(ledger, dry_run)
        with writer:
            for chunk in _slices(operations, self.slice_size):
                count += len(chunk)
                if refused is not None or (validator is not None and validator.problems):
                    continue  # read on only to find every problem of the journal
                position, done, kinds = batch.lookup(chunk, uow.knows)
                if seen is None:
                    seen = position
                    self.cache.sync(ledger.db, seen)
                uow.prefetch(kinds)
                if uow.vault is not None:
                    uow.vault.prefetch(chunk)
                for op in chunk:
                    if op.meta.op_id in done:
                        continue
                    try:
                        apply_operation(uow, op)
                    except DomainError as e:
                        if reads.last_position(ledger.db) != seen:
                            # Another writer recorded while we read (say, the same journal): the
                            # rule saw a mix of old and new state. Start again from what is stored.
                            raise _LostRace from None
                        refused = (e, op)
                        break
                    applied += 1
                    if progress is not None:
                        progress(1)
                if refused is None and writer.write(uow):
                    # From now on the batch reads in its transaction what it wrote: let it go.
                    batch.cursor = writer.cursor
                    uow.release(pledges_stored=writer.projected)
            batch.cursor = None  # the transaction ends with the block
            error = validator.error(source) if validator is not None else None
            if error is not None:
                raise error
            if refused is not None:
                cause, op = refused
                raise JournalError(
                    [JournalProblem(cause.message, op.index, op.op, None, cause.kind)], source
                ) from cause
        if validator is not None:
            count = validator.count
        result = RecordResult(
            operations=count,
            applied=applied,
            skipped=count - applied,
            events=writer.events,
            first_position=writer.first_position,
            last_position=writer.last_position,
            dry_run=dry_run,
        )
        if dry_run:
            return result
        if uow.vault is not None and uow.vault.erased_any:
            leave_no_copy(ledger.db, ledger.env.get(ENV_PATH))
        take_snapshots(ledger, uow.aggregates(), uow.snapshots_due)
        # Committed: what the batch loaded and changed is now the stored state. If nothing else
        # was recorded between our first read and our write, every aggregate kept is current.
        current = writer.first_position is None or writer.first_position == (seen or 0) + 1
        self.cache.put(uow.aggregates())
        if writer.last_position is not None and current:
            self.cache.position = writer.last_position
        if writer.events and ledger.read_models_inline and not writer.projected:
            try:
                ledger.catch_up()
            except PersistenceError as e:
                # The events are recorded (and chained); only the read models lag, and
                # they catch up at the next write or open that has room to write.
                ledger.read_model_error = reason(e)
                raise StorageError(
                    f"the operations were recorded, but the read models could not be brought up to date: {reason(e)}"
                ) from None
        return result


def _slices(operations: Iterable[Operation], size: int) -> Iterator[list[Operation]]:
    chunk: list[Operation] = []
    for op in operations:
        chunk.append(op)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _SliceWriter:
    """Writes a batch's events a slice at a time within one write transaction.

    The transaction is opened when the first slice has events, and ends with the ``with``
    block: committed if the block ends normally, rolled back if it raises. The events of a
    slice are encoded and handed to the recorder (which adds chain links, index rows and, if
    the read models are current, applies them) and then dropped. :attr:`cursor` is then a
    cursor of the transaction, for the batch's reads of what it wrote.
    """

    def __init__(self, ledger: PartnershipLedger, dry_run: bool) -> None:
        self._ledger = ledger
        self._dry_run = dry_run
        self._stack = ExitStack()
        self._insert: Callable[..., Sequence[int]] | None = None
        self.events = 0
        self.first_position: int | None = None
        self.last_position: int | None = None
        self.projected = True  # every slice's read models applied in the transaction
        self.cursor: Cursor | None = None

    def __enter__(self) -> _SliceWriter:
        self._stack.__enter__()
        return self

    def __exit__(self, *exc: Any) -> bool:
        return bool(self._stack.__exit__(*exc))

    def _forget_on_failure(self, failure: type[BaseException] | None, *_: Any) -> bool:
        if failure is not None:
            # Slices written before the failure had their read models applied, and the
            # read models remember what they learnt of aggregates that are not there now.
            self._ledger.aggregate_index.clear()
        return False

    def _ended(self) -> None:
        # Committed or rolled back: what the read models kept for a next slice of this
        # transaction is of no more use (no other transaction resumes it).
        if self.cursor is not None:
            self._ledger.projections.ended(self.cursor)

    def write(self, uow: UnitOfWork) -> bool:
        """Write the events ``uow`` collected since the last write; whether any was written."""
        events, marks, created = uow.take_events()
        if not events:
            return False
        self.events += len(events)
        if self._dry_run:
            return False
        ledger = self._ledger
        if self._insert is None:
            # One write transaction for the whole batch: ``insert(stored_events, **kwargs)``
            # writes the events, chain links, index rows and read models of a slice and
            # returns the events' positions; nothing is committed until the block ends.
            self._stack.push(self._forget_on_failure)  # (after the session ends: its commit may fail)
            self._stack.callback(self._ended)
            self._insert = self._stack.enter_context(ledger.recorder.write_session())  # type: ignore[attr-defined]
        to_stored = ledger.mapper.to_stored_event
        stored = [to_stored(e) for e in events]
        applied: list[bool] = []
        project = None
        if ledger.read_models_inline:

            def project(c: Any, positions: Sequence[int]) -> None:
                applied.append(ledger.projections.apply_recorded(c, list(zip(positions, events, strict=True))))

        private = uow.vault.writer() if uow.vault is not None else None

        def in_transaction(c: Cursor) -> None:
            # The storage recorder calls its ``private`` hook (the key table's rows, privacy/
            # vault.py) with a cursor of the events' transaction, on either backend.
            self.cursor = c
            if private is not None:
                private(c)

        positions = self._insert(stored, ledger_ops=marks, ledger_keys=created, project=project, private=in_transaction)
        self.projected = self.projected and applied == [True]
        if self.first_position is None:
            self.first_position = positions[0]
        self.last_position = positions[-1]
        return self.cursor is not None
