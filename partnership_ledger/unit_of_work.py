"""A unit of work: the aggregates that a batch of operations reads and changes.

Operations are applied to aggregates held in memory; the events they raise are kept in the
order they happened, and saved together in one transaction (or not at all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from .domain import AGGREGATE_CLASSES, LedgerAggregate, aggregate_id
from .errors import DuplicateKey, UnknownKey

A = TypeVar("A", bound=LedgerAggregate)

ARTICLES = {
    "party": "a party",
    "partnership": "a partnership",
    "agreement": "an agreement",
    "contribution": "a contribution",
    "target": "a target",
    "evaluation": "an evaluation",
}


class UnitOfWork:
    """Aggregates loaded or created by a batch of operations, and their new events."""

    def __init__(self, repository: Repository[UUID], kind_of_key: Callable[[str], str | None]) -> None:
        self._repository = repository
        self._kind_of_key = kind_of_key
        self._known: dict[str, str | None] = {}
        self._loaded: dict[UUID, LedgerAggregate | None] = {}
        self._new_keys: dict[str, str] = {}
        self.events: list[Any] = []
        self.op_marks: list[tuple[str, int]] = []  # (op id, index of its first event)
        self.created: list[tuple[str, str, str]] = []  # (key, kind, originator id hex)

    def find(self, cls: type[A], key: str) -> A | None:
        """The aggregate of ``cls`` named ``key``, or None."""
        agg_id = aggregate_id(cls.kind, key)
        if agg_id not in self._loaded and self.kind_of(key) != cls.kind:
            # The key index is written with the events, so it is authoritative: no need
            # to ask the event store for an aggregate that was never created.
            return None
        if agg_id not in self._loaded:
            try:
                self._loaded[agg_id] = cast(LedgerAggregate, self._repository.get(agg_id))
            except AggregateNotFoundError:
                self._loaded[agg_id] = None
        return cast("A | None", self._loaded[agg_id])

    def get(self, cls: type[A], key: str) -> A:
        """The aggregate of ``cls`` named ``key``; :class:`UnknownKey` if there is none."""
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
        if key not in self._known:
            self._known[key] = self._kind_of_key(key)
        return self._known[key]

    def prefetch(self, known: dict[str, str | None]) -> None:
        """Kinds of keys looked up in bulk beforehand (None: the key is not in the ledger)."""
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
        self._loaded[aggregate.id] = aggregate
        self._new_keys[aggregate.key] = aggregate.kind
        self.created.append((aggregate.key, aggregate.kind, aggregate.id.hex))

    def begin_operation(self, op_id: str) -> None:
        self.op_marks.append((op_id, len(self.events)))

    def collect(self, *aggregates: LedgerAggregate) -> None:
        """Take the pending events of ``aggregates``, in the order given."""
        for aggregate in aggregates:
            self.events.extend(aggregate.collect_events())


def aggregate_classes() -> dict[str, type[LedgerAggregate]]:
    return AGGREGATE_CLASSES
