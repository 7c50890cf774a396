"""Party: an organisation that takes part in partnerships."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from .base import LedgerAggregate, aggregate_id
from .values import Money, OpMeta, Sector


class Party(LedgerAggregate):
    """A nonprofit, local government or other body, with an optional annual ``capacity``.

    ``capacity`` (annual budget) lets burden be read relative to what a party can bear.
    ``identifiers`` are its organisation identifiers (org-id.guide: ``JP-JCN-…``,
    ``GB-CHC-…``) and ``area`` the area it serves (``JP-LGC-…``, ``GB-ONS-…``): what joins
    the ledger's data with other publishers' (see docs/standards.md). The journal checks
    their forms (:mod:`partnership_ledger.standards.identifiers`).
    """

    kind = "party"

    @staticmethod
    def create_id(key: str) -> UUID:
        return aggregate_id("party", key)

    class Registered(LedgerAggregate.Created):
        """A party was registered.

        Version 2 added ``identifiers`` and ``area``; a version 1 event (stored before them)
        is upcast with none of either.
        """

        class_version = 2
        key: str
        name: str
        sector: Sector
        capacity: Money | None
        identifiers: list[str]
        area: str | None
        meta: OpMeta

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            meta = state.pop("meta")  # keep the fields in the order version 2 stores them
            state["identifiers"] = []
            state["area"] = None
            state["meta"] = meta

    @event(Registered)
    def __init__(
        self,
        key: str,
        name: str,
        sector: Sector,
        capacity: Money | None,
        identifiers: list[str],
        area: str | None,
        meta: OpMeta,
    ) -> None:
        self.key = key
        self.name = name
        self.sector = sector
        self.capacity = capacity
        self.identifiers = list(identifiers)
        self.area = area
        self.meta = meta
