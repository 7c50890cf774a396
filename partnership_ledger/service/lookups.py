"""What the recorder reads before it applies a slice of operations: the last position, which
operations are recorded already (checked against the chained events), the kinds of the keys
they name, and the aggregates themselves (their latest snapshot and the events after it).

Once a batch has written a slice, its reads are made in its own write transaction
(:class:`BatchReads`), where what it wrote is there to read: so the batch does not keep its
aggregates, operations and keys in memory after writing them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any, NoReturn

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import StoredEvent

from ..domain import LedgerAggregate
from ..errors import IntegrityError
from ..journal import Operation, keys_named
from ..projections.runner import TRACKING_NAME
from ..storage import reads
from ..storage.db import Cursor, Db


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's ``project_aggregate`` without its ``assert`` that every event is an
    instance of a runtime-checkable Protocol (what ``python -O`` runs): the events come
    from our own store and classes, and that check was some 40 % of a replay."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class Lookups:
    """The recorder's reads of one ledger's store (``db``, decoded with ``mapper``; the
    snapshots of ``repository``)."""

    def __init__(self, db: Db, mapper: Any, repository: Any) -> None:
        self.db = db
        self.mapper = mapper
        self._repository = repository
        #: (tracking, last position) at which the operation index last matched the history.
        self._op_index_checked_at: tuple[int, int] | None = None

    def get(self, agg_id: uuid.UUID, c: Cursor | None = None) -> LedgerAggregate:
        """The aggregate as stored: its last snapshot, then the events after it (as
        eventsourcing's ``Repository.get``); with ``c``, the cursor of a write transaction,
        as stored in it (its events not committed yet too). Snapshots are only ever taken
        of committed events."""
        store = self._repository.snapshot_store
        snapshots = list(store.get(agg_id, desc=True, limit=1)) if store is not None else []
        after = snapshots[0].originator_version if snapshots else 0
        with self.db.reading(c) as cur:
            rows = reads.events_of(cur, self.db, agg_id, after)
        decode = self.mapper.to_domain_event
        events = (decode(StoredEvent(agg_id, version, topic, state)) for version, topic, state in rows)
        try:
            found: LedgerAggregate | None = project(None, chain(snapshots, events))
        except OriginatorVersionError:
            # Stored events of one aggregate that do not follow one another: one was hidden
            # or removed behind the application's back.
            raise IntegrityError(
                f"tampering found: the stored events of aggregate {agg_id.hex} do not follow one another "
                "(see 'partnership-ledger verify')"
            ) from None
        if found is None:
            raise AggregateNotFoundError(f"aggregate {agg_id.hex} not found")
        return found

    def find(self, agg_id: uuid.UUID) -> LedgerAggregate | None:
        """An aggregate reconstructed from its stored events, or None if it has none."""
        try:
            return self.get(agg_id)
        except AggregateNotFoundError:
            return None

    def lookup(
        self,
        operations: Sequence[Operation],
        known: Callable[[str], bool],
        c: Cursor | None,
        new_ledger: bool,
    ) -> tuple[int, set[str], dict[str, str | None] | None]:
        """In one read (with ``c`` if given): the last position, which of ``operations`` are
        already recorded, and the kinds of the keys the others name but are not ``known``
        (None: not in the ledger). Kinds None: the ledger has no keys at all (nor operations),
        so none was looked up. ``new_ledger``: the ledger held no operation before this
        batch, whose operations are all different: none is looked up."""
        with self.db.reading(c) as cur:
            position = reads.last_position(self.db, cur)
            done: set[str] = set()
            if not new_ledger:
                if position == 0 and reads.holds_no_index_rows(cur):
                    return position, done, None  # a new ledger (say, the first import)
                found = reads.recorded_ops(cur, [o.meta.op_id for o in operations])
                done = {op_id for op_id, _ in found}
                self._check_op_index(cur, found, remember=c is None)
            keys: set[str] = set()
            for op in operations:
                if op.meta.op_id not in done:
                    keys.update(keys_named(op))
            wanted = sorted(k for k in keys if not known(k))
            kinds: dict[str, str | None] = dict.fromkeys(wanted)
            kinds.update(reads.kinds_of_keys(cur, wanted))
        return position, done, kinds

    def _check_op_index(self, c: Cursor, found: Sequence[tuple[str, int]], remember: bool) -> None:
        """Refuse to trust an operation index that disagrees with the chained events.

        The index (``ledger_ops``) is written beside the events, outside the chain; what it
        says decides what an import skips as already recorded. So an index row is only
        believed when the event at its position carries its operation id (a forged row would
        make a real operation be skipped), and, when some operations of the batch are found
        and the read models are current, the index must have as many rows as the history has
        operations (a deleted row would make a re-import record an operation twice; a batch
        whose operations are all new, found nowhere, is not checked). Either mismatch refuses
        the import; ``verify`` names the difference and ``rebuild`` repairs the index. A count
        read in a transaction that may yet roll back is not ``remember``-ed.
        """

        def refuse(why: str) -> NoReturn:
            raise IntegrityError(
                f"tampering found: the operation index {why}; nothing was recorded "
                "(run 'partnership-ledger verify', then 'partnership-ledger rebuild')"
            )

        for i in range(0, len(found), reads.CHUNK):
            by_position = {p: op for op, p in dict(found[i : i + reads.CHUNK]).items()}
            rows = reads.event_rows_at(c, self.db, list(by_position))
            for position, op_id in by_position.items():
                row = rows.get(position)
                if row is None or position <= 0:
                    refuse(f"names operation {op_id} at position {position}, where there is no event")
                event = self.mapper.to_domain_event(StoredEvent(uuid.UUID(str(row[1])), row[2], row[3], bytes(row[4])))
                if getattr(getattr(event, "meta", None), "op_id", None) != op_id:
                    refuse(f"names operation {op_id} at position {position}, whose event is another operation's")
        if not found:
            return  # nothing of this batch is in the index: nothing it says is believed
        # Counting is a scan of two tables: done once for a ledger that has not changed since
        # (a big re-import looks up slice after slice of operations with nothing recorded).
        head = reads.heads(c, self.db, TRACKING_NAME)
        if head is None or head[0] is None or head[0] != head[1] or tuple(head) == self._op_index_checked_at:
            return
        row = reads.index_sizes(c, self.db, TRACKING_NAME)
        if row is not None and row[0] is not None and row[0] == row[1]:
            if row[2] != row[3]:
                refuse(f"has {row[2]} operations but the history {row[3]}")
            if remember:
                self._op_index_checked_at = (row[0], row[1])


class BatchReads:
    """The reads of one try at a batch: on a connection of their own until the batch has
    written a slice, then with :attr:`cursor`, in the batch's write transaction, where what
    it wrote is visible (other connections see it only once it is committed).

    The unit of work reads aggregates (:meth:`get`), key kinds, operations and pledges here,
    so it may forget what it wrote (:meth:`.UnitOfWork.release`) and find it again.
    """

    def __init__(self, lookups: Lookups) -> None:
        self._lookups = lookups
        #: A cursor of the batch's write transaction once it is open (set by the recorder).
        self.cursor: Cursor | None = None
        #: The ledger held no operation when the batch began: none of its operations can be
        #: recorded already (they are all different), so none is looked up.
        self._new_ledger = False

    def get(self, agg_id: uuid.UUID) -> LedgerAggregate:
        return self._lookups.get(agg_id, self.cursor)

    def kind_of_key(self, key: str) -> str | None:
        return reads.kind_of_key(self._lookups.db, key, self.cursor)

    def origin_of_op(self, op_id: str) -> uuid.UUID | None:
        return reads.origin_of_op(self._lookups.db, op_id, self.cursor)

    def pledges_of(self, partnership: str, party: str) -> list[str]:
        return reads.pledges_of(self._lookups.db, partnership, party, self.cursor)

    def lookup(
        self, operations: Sequence[Operation], known: Callable[[str], bool]
    ) -> tuple[int, set[str], dict[str, str | None] | None]:
        found = self._lookups.lookup(operations, known, self.cursor, new_ledger=self._new_ledger)
        if self.cursor is None and found[2] is None:
            self._new_ledger = True
        return found
