"""What every aggregate of the ledger shares: identity from a human key, voids, and metadata."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from ..errors import CorrectionRefused
from .keys import aggregate_id


class LedgerAggregate(Aggregate):
    """Base class of the ledger's aggregates.

    Subclasses set ``kind``; their creation event carries ``key``, so the id is derived from
    the key and commands and journals address aggregates by key. A subclass either defines
    ``__init__`` under ``@event(...)`` or declares its creation fields as a dataclass does
    (eventsourcing then makes ``__init__`` and the ``created_event_name`` event from them, and
    ``__post_init__`` sets the rest of its state).
    """

    kind: ClassVar[str] = ""
    key: str

    class Event(Aggregate.Event):
        # Derived events keep cross-aggregate rules consistent (for example the running total
        # an agreement counts against a cap); they are not journal operations of their own.
        derived: ClassVar[bool] = False

    @classmethod
    def create_id(cls, key: str) -> UUID:
        return aggregate_id(cls.kind, key)

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

    # -- corrections (void_operation) ---------------------------------------------------
    @property
    def voided(self) -> dict[str, str]:
        """The operations of this aggregate voided so far: voided op id -> the voiding op id."""
        found: dict[str, str] = self.__dict__.setdefault("_voided", {})
        return found

    def check_voidable(self, operation: str) -> None:
        """The rules every void obeys, whatever it voids: not the creation, not twice, not a void."""
        meta = getattr(self, "meta", None)
        if meta is not None and getattr(meta, "op_id", None) == operation:
            raise CorrectionRefused(
                f"operation {operation} created {self}: it cannot be voided (only what was recorded on it can)"
            )
        if operation in self.voided:
            raise CorrectionRefused(f"operation {operation} was already voided (by {self.voided[operation]})")
        if operation in self.voided.values():
            raise CorrectionRefused(f"operation {operation} is itself a void: it cannot be voided")

    def void(self, operation: str, reason: str, on: date, meta: Any) -> None:
        """Void one operation recorded on this aggregate in error (see DESIGN.md "Corrections")."""
        self.check_voidable(operation)
        raise CorrectionRefused(f"operation {operation} on {self} is not one that can be voided")

    def _note_voided(self, operation: str, meta: Any) -> None:
        self.voided[operation] = getattr(meta, "op_id", "?")

    def cannot_void(self, operation: str, only: str) -> CorrectionRefused:
        """The refusal of a void of ``operation``, which is not among what ``only`` names."""
        return CorrectionRefused(f"operation {operation} on {self} cannot be voided: only {only}")
