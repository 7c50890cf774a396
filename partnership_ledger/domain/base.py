"""What every aggregate of the ledger shares: identity from a human key, and metadata."""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from .keys import KINDS, NAMESPACE, aggregate_id

__all__ = ["KINDS", "NAMESPACE", "LedgerAggregate", "aggregate_id"]


class LedgerAggregate(Aggregate):
    """Base class of the ledger's aggregates.

    Subclasses set ``kind``; their creation event carries ``key``, so the id is derived from
    the key and commands and journals address aggregates by key.
    """

    kind: ClassVar[str] = ""
    key: str

    class Event(Aggregate.Event):
        # Derived events keep cross-aggregate rules consistent (for example the running total
        # an agreement counts against a cap); they are not journal operations of their own.
        derived: ClassVar[bool] = False

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

    def _trigger(self, event_name: str, **fields: Any) -> None:
        """Trigger this aggregate's event class ``event_name``, given every field by name.

        The same event as calling its ``@event`` method (which applies it, here and when the
        aggregate is replayed), through eventsourcing's ``trigger_event``: without the
        decorator's generic handling of the call's arguments, a third of a small event's cost.
        For the events recorded most often.
        """
        self.trigger_event(getattr(type(self), event_name), **fields)
