"""Party: an organisation that takes part in partnerships."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from .base import LedgerAggregate, aggregate_id
from .values import Money, OpMeta, Sector


class Party(LedgerAggregate):
    """A nonprofit, local government or other body, with an optional annual ``capacity``.

    ``capacity`` (annual budget) lets burden be read relative to what a party can bear.
    """

    kind = "party"

    @staticmethod
    def create_id(key: str) -> UUID:
        return aggregate_id("party", key)

    @event("Registered")
    def __init__(self, key: str, name: str, sector: Sector, capacity: Money | None, meta: OpMeta) -> None:
        self.key = key
        self.name = name
        self.sector = sector
        self.capacity = capacity
        self.meta = meta
