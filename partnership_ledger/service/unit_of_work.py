"""A unit of work: the aggregates that a batch of operations reads and changes.

Operations are applied to aggregates held in memory; the events they raise are kept in the
order they happened, and saved together in one transaction (or not at all), a slice at a time
for a big batch; once a slice is written, most of what it loaded is let go (:meth:`release`)
and read back from the batch's transaction when needed. Committed aggregates are kept between
batches in an :class:`AggregateCache`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from threading import Lock
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ..domain import LedgerAggregate, aggregate_id
from ..errors import DuplicateKey, UnknownKey
from ..snapshots import crossed
from ..storage import reads
from ..storage.db import Db

A = TypeVar("A", bound=LedgerAggregate)

_UNKNOWN = "?"  # not a kind: a key not looked up yet


_KEEP_ORDER = ("contribution", "evaluation", "target", "party", "agreement", "partnership")
#: The kinds of keys a unit of work keeps knowing from one written slice to the next.
_ALWAYS_KNOWN = frozenset(("party", "partnership", "agreement"))


class _Repository(Protocol):
    def get(self, aggregate_id: UUID) -> Any: ...  # raises AggregateNotFoundError


ARTICLES = {
    "party": "a party",
    "partnership": "a partnership",
    "agreement": "an agreement",
    "contribution": "a contribution",
    "target": "a target",
    "evaluation": "an evaluation",
}


class UnitOfWork:
    """Aggregates loaded or created by a batch of operations, and their new events.

    ``repository.get`` reconstructs an aggregate from the store; ``take_cached`` hands over
    a committed one kept in memory (the unit of work may change it: it is not handed back
    unless the batch is recorded). The events are taken with :meth:`take_events` as the batch
    goes, so a big batch is written in slices; after each is written, :meth:`release` lets go
    of all but :attr:`keep` aggregates and of what it knew of keys and operations, which
    ``repository``, ``kind_of_key`` and ``find_op`` then read in the batch's transaction.
    """

    #: Aggregates kept in memory from one written slice to the next (the long-lived kinds
    #: first); the others are read back when an operation names them again.
    keep = 10_000

    def __init__(
        self,
        repository: _Repository,
        kind_of_key: Callable[[str], str | None],
        take_cached: Callable[[UUID], LedgerAggregate | None] | None = None,
        find_op: Callable[[str], UUID | None] | None = None,
        pledges_of: Callable[[str, str], list[str]] | None = None,
    ) -> None:
        self._repository = repository
        self._find_op = find_op
        self._pledges_of = pledges_of
        self._op_origins: dict[str, UUID] = {}  # operations of earlier slices, until released
        self._kind_of_key = kind_of_key
        self._take_cached = take_cached
        self._known: dict[str, str | None] = {}
        self._none_stored = False  # the ledger holds no key at all (see prefetch)
        # kind -> key -> aggregate (None: looked for, not there), the most recently used last;
        # and the same aggregates by id (a void finds its operation's by id). Both are added to
        # by :meth:`_hold` and taken from by :meth:`release` only.
        self._loaded: dict[str, dict[str, LedgerAggregate | None]] = {kind: {} for kind in ARTICLES}
        self._by_id: dict[UUID, LedgerAggregate] = {}
        self._new_keys: dict[str, str] = {}
        self.events: list[Any] = []
        #: Aggregates whose events reached a version at which a snapshot is due (snapshots.py).
        self.snapshots_due: set[UUID] = set()
        self.op_marks: list[tuple[str, int]] = []  # (op id, index of its first event)
        self.created: list[tuple[str, str, str]] = []  # (key, kind, originator id hex)
        #: The ledger's key table (privacy.vault.Vault) when it commits private fields.
        self.vault: Any = None

    def find(self, cls: type[A], key: str) -> A | None:
        """The aggregate of ``cls`` named ``key``, or None."""
        loaded = self._loaded[cls.kind]
        try:
            return cast("A | None", loaded[key])
        except KeyError:
            pass
        agg_id = aggregate_id(cls.kind, key)
        # An aggregate kept in memory exists (its id says its kind): no need to look its key up.
        found = self._take_cached(agg_id) if self._take_cached is not None else None
        if found is None:
            if self.kind_of(key) != cls.kind:
                # The key index is written with the events, so it is authoritative: no need
                # to ask the event store for an aggregate that was never created.
                return None
            try:
                found = cast(LedgerAggregate, self._repository.get(agg_id))
            except AggregateNotFoundError:
                found = None
        self._hold(cls.kind, key, found)
        return cast("A | None", found)

    def _hold(self, kind: str, key: str, aggregate: LedgerAggregate | None) -> None:
        """Hold ``aggregate`` (None: ``key`` names no ``kind``) by kind and key, and by id."""
        self._loaded[kind][key] = aggregate
        if aggregate is not None:
            self._by_id[aggregate.id] = aggregate

    def get(self, cls: type[A], key: str) -> A:
        """The aggregate of ``cls`` named ``key``; :class:`UnknownKey` if there is none."""
        loaded = self._loaded[cls.kind]
        found = loaded.get(key)
        if found is not None:
            loaded[key] = loaded.pop(key)  # the most recently used last (see release)
            return found  # type: ignore[return-value]
        found = self.find(cls, key)
        if found is None:
            other = self.kind_of(key)
            if other is not None:
                raise UnknownKey(f"{key} is {ARTICLES[other]}, not {ARTICLES[cls.kind]}")
            raise UnknownKey(f"there is no {cls.kind} {key}")
        return found

    def kind_of(self, key: str) -> str | None:
        """Which kind of thing ``key`` names in the ledger (including this batch), if any."""
        new = self._new_keys.get(key)
        if new is not None:
            return new
        kind = self._known.get(key, _UNKNOWN)
        if kind is not _UNKNOWN:
            return kind
        if self._none_stored:
            return None
        kind = self._known[key] = self._kind_of_key(key)
        return kind

    def knows(self, key: str) -> bool:
        """Whether the kind of ``key`` is known already (looked up, or new in this batch)."""
        return key in self._known or key in self._new_keys

    def prefetch(self, known: dict[str, str | None] | None) -> None:
        """Kinds of keys looked up in bulk beforehand (None: the key is not in the ledger).

        ``known`` None: the ledger holds no key at all (when last read), so every key not
        new in this batch names nothing, until the next prefetch says otherwise.
        """
        self._none_stored = known is None
        if known is not None:
            self._known.update(known)

    def check_new_key(self, kind: str, key: str) -> None:
        """Keys are unique across every kind, so one key names one thing."""
        existing = self.kind_of(key)
        if existing is not None:
            if existing == kind:
                raise DuplicateKey(f"{kind} {key} already exists")
            raise DuplicateKey(f"key {key} is already used by {ARTICLES[existing]}")

    def add(self, aggregate: LedgerAggregate) -> None:
        """A newly created aggregate (its key was checked with :meth:`check_new_key`)."""
        self._hold(aggregate.kind, aggregate.key, aggregate)
        self._new_keys[aggregate.key] = aggregate.kind
        self.created.append((aggregate.key, aggregate.kind, aggregate.id.hex))

    def begin_operation(self, op_id: str) -> None:
        self.op_marks.append((op_id, len(self.events)))

    def collect(self, *aggregates: LedgerAggregate) -> None:
        """Take the pending events of ``aggregates``, in the order given."""
        events = self.events
        for aggregate in aggregates:
            pending = aggregate._pending_events
            if pending:
                events.extend(pending)
                pending.clear()

    def take_events(self) -> tuple[list[Any], list[tuple[str, int]], list[tuple[str, str, str]]]:
        """The events collected since the last call, with their operation marks and new keys."""
        for op_id, index in self.op_marks:
            if index < len(self.events):
                self._op_origins[op_id] = self.events[index].originator_id
        self.snapshots_due |= crossed(self.events)
        taken = (self.events, self.op_marks, self.created)
        self.events, self.op_marks, self.created = [], [], []
        return taken

    def release(self, *, pledges_stored: bool) -> None:
        """Forget what the batch wrote so far (it can now be read in the batch's transaction):
        all but :attr:`keep` of the aggregates loaded, the kinds of most keys and the
        operations' aggregates. The long-lived kinds are kept first, and of a kind the most
        recently used; aggregates due a snapshot stay (it is taken after the commit);
        contributions stay unless ``pledges_stored``, the read models written in the
        transaction (:meth:`pledges_of` finds the others only in memory)."""
        self._op_origins.clear()
        # A key names one kind for good: the few parties, partnerships and agreements stay
        # known; the many others, and keys that named nothing (they may be made later), go.
        known = {**self._known, **self._new_keys}
        self._known = {key: kind for key, kind in known.items() if kind in _ALWAYS_KNOWN}
        self._new_keys.clear()
        self._none_stored = False
        # Contributions that must stay do not count: the others are kept as they would be.
        kinds = [kind for kind in _KEEP_ORDER if pledges_stored or kind != "contribution"]
        excess = sum(len(self._loaded[kind]) for kind in kinds) - self.keep
        for kind in kinds:
            if excess <= 0:
                return
            loaded = self._loaded[kind]
            # The least recently used first (see get), as many as must go.
            dropped: list[str] = []
            for key, aggregate in loaded.items():
                if len(dropped) == excess:
                    break
                if aggregate is None or aggregate.id not in self.snapshots_due:
                    dropped.append(key)
            for key in dropped:
                aggregate = loaded.pop(key)
                if aggregate is not None:
                    del self._by_id[aggregate.id]
            excess -= len(dropped)

    def held(self) -> int:
        """How many aggregates, key kinds and operations the unit of work holds in memory."""
        loaded = sum(len(found) for found in self._loaded.values())
        return loaded + len(self._known) + len(self._new_keys) + len(self._op_origins)

    def aggregate_of_op(self, op_id: str) -> LedgerAggregate | None:
        """The aggregate an operation was recorded on (its first event's), or None if there is
        no such operation in the ledger or this batch."""
        origin = self._op_origins.get(op_id)
        if origin is None:
            for marked, index in self.op_marks:
                if marked == op_id and index < len(self.events):
                    origin = self.events[index].originator_id
        if origin is None and self._find_op is not None:
            origin = self._find_op(op_id)
        if origin is None:
            return None
        found = self._by_id.get(origin)
        if found is not None:
            return found
        found = self._take_cached(origin) if self._take_cached is not None else None
        if found is None:
            try:
                found = cast(LedgerAggregate, self._repository.get(origin))
            except AggregateNotFoundError:
                return None
        self._hold(found.kind, found.key, found)
        return found

    def pledges_of(self, partnership: str, party: str) -> list[str]:
        """The keys of the contributions ``party`` pledged to ``partnership`` (stored, and new
        in this batch)."""
        found = set(self._pledges_of(partnership, party)) if self._pledges_of is not None else set()
        for c in self._loaded["contribution"].values():
            if c is not None and getattr(c, "partnership", None) == partnership and getattr(c, "party", None) == party:
                found.add(c.key)
        return sorted(found)

    def aggregates(self) -> list[LedgerAggregate]:
        """Every aggregate the batch loaded or created, the long-lived kinds last (a cache
        that keeps the last ones keeps partnerships and agreements, the costliest to load)."""
        return [a for kind in _KEEP_ORDER for a in self._loaded[kind].values() if a is not None]


class AggregateCache:
    """Committed aggregates kept in memory between batches, the most recently used last.

    Every aggregate in it holds all of its events up to ``position`` (a position of the
    notification log); one that was changed after that must be dropped (:meth:`discard`)
    before ``position`` moves on. A unit of work *takes* aggregates out (it may change them),
    and they are put back only once what it changed is committed: a batch that fails leaves
    nothing half-applied here. No copies are made.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.position: int | None = None
        self._items: OrderedDict[UUID, LedgerAggregate] = OrderedDict()
        self._lock = Lock()  # a ledger may be used from several threads

    def take(self, agg_id: UUID) -> LedgerAggregate | None:
        with self._lock:
            return self._items.pop(agg_id, None)

    def put(self, aggregates: Iterable[LedgerAggregate]) -> None:
        kept = list(aggregates)[-self.maxsize :]
        with self._lock:
            items = self._items
            for aggregate in kept:
                items[aggregate.id] = aggregate
                items.move_to_end(aggregate.id)
            while len(items) > self.maxsize:
                items.popitem(last=False)

    def discard(self, agg_ids: Iterable[UUID]) -> None:
        with self._lock:
            for agg_id in agg_ids:
                self._items.pop(agg_id, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def sync(self, db: Db, position: int) -> None:
        """Move on to ``position``, dropping the aggregates that events recorded since
        :attr:`position` changed (another process's, or a write that did not leave the
        cache current)."""
        if self.position == position:
            return
        if self.position is None or position < self.position or position - self.position > 4 * self.maxsize:
            self.clear()
        elif self._items:
            self.discard(reads.originators_between(db, self.position, position))
        self.position = position
