"""Party: an organisation that takes part in partnerships."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import attrs
from eventsourcing.domain import event

from ..errors import CorrectionRefused
from .base import LedgerAggregate
from .values import Money, OpMeta, Sector

#: The fields of a party that ``amend_party`` may change.
AMENDABLE = ("name", "sector", "capacity", "identifiers", "area")


@attrs.frozen
class PartyAmendment:
    """A correction of a party's particulars, in force from ``on`` (only the fields given)."""

    changes: dict[str, Any]
    reason: str
    on: date
    op: str | None = None


@dataclasses.dataclass(eq=False, repr=False)
class Party(LedgerAggregate, created_event_name="Registered"):
    """A nonprofit, local government or other body, with an optional annual ``capacity``.

    ``capacity`` (annual budget) lets burden be read relative to what a party can bear.
    ``identifiers`` are its organisation identifiers (org-id.guide: ``JP-JCN-…``,
    ``GB-CHC-…``) and ``area`` the area it serves (``JP-LGC-…``, ``GB-ONS-…``): what joins
    the ledger's data with other publishers' (see docs/standards.md).
    ``amend_party`` changes its particulars from a date on (:meth:`amend`): :meth:`as_on`
    gives them as they stood on a day, and the attributes give them with every amendment.
    """

    kind = "party"

    class Registered(LedgerAggregate.Created):
        """Version 2 added ``identifiers`` and ``area``; a version 1 event is upcast with none."""

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

    key: str
    name: str
    sector: Sector
    capacity: Money | None
    identifiers: list[str]
    area: str | None
    meta: OpMeta

    # -- amendments ----------------------------------------------------------------------
    @property
    def amendments(self) -> list[PartyAmendment]:
        found: list[PartyAmendment] = self.__dict__.setdefault("_amendments", [])
        return found

    def _registered_fields(self) -> dict[str, Any]:
        base: dict[str, Any] | None = self.__dict__.get("_registered")
        if base is None:
            base = {name: getattr(self, name, None) for name in AMENDABLE}
        return base

    def as_on(self, day: date | None) -> dict[str, Any]:
        """The party's particulars in force on ``day`` (None: with every amendment), amendments
        applied in the order of the days they take effect (recorded order among equal days)."""
        fields = dict(self._registered_fields())
        for a in sorted(self.amendments, key=lambda a: a.on):
            if day is None or a.on <= day:
                fields.update(a.changes)
        return fields

    def amend(
        self,
        name: str | None,
        sector: Sector | None,
        capacity: Money | None,
        identifiers: list[str] | None,
        area: str | None,
        reason: str,
        on: date,
        meta: OpMeta,
    ) -> None:
        """Correct the party's particulars from ``on``: only the fields given change."""
        if not given_changes(name, sector, capacity, identifiers, area):
            raise CorrectionRefused(
                f"the amendment of party {self.key} changes nothing: give a name, sector, capacity, identifiers or area"
            )
        self._amended(name, sector, capacity, identifiers, area, reason, on, meta)

    @event("Amended")
    def _amended(
        self,
        name: str | None,
        sector: Sector | None,
        capacity: Money | None,
        identifiers: list[str] | None,
        area: str | None,
        reason: str,
        on: date,
        meta: OpMeta,
    ) -> None:
        self.__dict__.setdefault("_registered", self._registered_fields())
        changes = given_changes(name, sector, capacity, identifiers, area)
        self.amendments.append(PartyAmendment(changes, reason, on, meta.op_id))
        # The attributes hold the particulars with every amendment: what the ledger says now.
        for field_name, value in self.as_on(None).items():
            setattr(self, field_name, value)


def given_changes(
    name: str | None, sector: Sector | None, capacity: Money | None, identifiers: list[str] | None, area: str | None
) -> dict[str, Any]:
    """The particulars an amendment gives (those not None), by name."""
    given = {"name": name, "sector": sector, "capacity": capacity, "identifiers": identifiers, "area": area}
    return {k: v for k, v in given.items() if v is not None}
