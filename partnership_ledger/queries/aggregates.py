"""What the ledger holds about each thing, as plain data: ``show``, ``parties``,
``partnerships`` and the aggregates themselves, now or as the ledger said at a recorded time
(a mixin of :class:`~partnership_ledger.application.PartnershipLedger`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..domain import AGGREGATE_CLASSES, LedgerAggregate, aggregate_id
from ..errors import UnknownKey
from ..service.lookups import project
from .indicators import parse_as_of, parse_on
from .views import aggregate_view

if TYPE_CHECKING:
    from ..service.recorder import Recorder


class AggregateQueries:
    """``show`` and the lists of parties and partnerships (needs the ledger's event store)."""

    recording: Recorder
    events: Any  # eventsourcing's event store
    kind_of: Callable[[str], str | None]
    keys: Callable[[str], list[str]]
    vault: Callable[..., Any]

    def aggregate(self, key: str, *, as_of: datetime | date | str | None = None) -> LedgerAggregate:
        """The aggregate named ``key`` (any kind); :class:`UnknownKey` if there is none.

        ``as_of``: as the ledger said at that recorded time (its events recorded by then).
        """
        kind = self.kind_of(key)
        if kind is None:
            raise UnknownKey(f"there is nothing named {key} in the ledger")
        agg_id = aggregate_id(kind, key)
        if as_of is not None:
            until = parse_as_of(as_of)
            events = [e for e in self.events.get(agg_id) if getattr(e, "timestamp", until) <= until]
            if not events:
                raise UnknownKey(f"there was nothing named {key} in the ledger at {until.isoformat()}")
            found: LedgerAggregate = project(None, events)
            return found
        agg = self.recording.lookups.find(agg_id)
        if agg is None:
            raise UnknownKey(f"there is nothing named {key} in the ledger")
        assert isinstance(agg, AGGREGATE_CLASSES[kind])
        return agg

    def show(
        self, key: str, *, on: date | str | None = None, as_of: datetime | date | str | None = None
    ) -> dict[str, Any]:
        """Everything the ledger holds about ``key`` (any kind), as plain data.

        ``as_of``: what the ledger said at that recorded time (its events recorded by then);
        ``on``: as things stood on that date, by the dates things happened. Both compose.
        """
        return self._shown(self.aggregate(key, as_of=as_of), on)

    def _shown(self, aggregate: LedgerAggregate, on: date | str | None) -> dict[str, Any]:
        return self.reveal_view(aggregate_view(aggregate, None if on is None else parse_on(on)))

    def reveal_view(self, view: dict[str, Any]) -> dict[str, Any]:
        """``view`` (of show) with private values read from the key table, or marked erased."""
        from ..privacy.reveal import reveal_view

        return reveal_view(view, self.vault()) if view.get("kind") in ("evaluation", "contribution") else view

    def _recorded(self, kind: str, as_of: datetime | date | str | None = None) -> Iterator[LedgerAggregate]:
        """Each aggregate of ``kind``, by key; with ``as_of``, those recorded by then, as the
        ledger then said."""
        for key in self.keys(kind):
            try:
                yield self.aggregate(key, as_of=as_of)
            except UnknownKey:
                if as_of is None:
                    raise
                continue  # not recorded yet at that time

    def parties(
        self, *, on: date | str | None = None, as_of: datetime | date | str | None = None
    ) -> list[dict[str, Any]]:
        """Every registered party: key, name, sector, capacity, identifiers, area.

        ``on``: the particulars as amended by that date (amendments take effect from their
        date); ``as_of``: only the parties recorded by that time, as the ledger then said.
        Both compose.
        """
        fields = ("name", "sector", "capacity", "identifiers", "area")
        views = (self._shown(p, on) for p in self._recorded("party", as_of))
        return [{"key": v["key"], **{f: v[f] for f in fields}} for v in views]

    def partnerships(
        self, *, on: date | str | None = None, as_of: datetime | date | str | None = None
    ) -> list[dict[str, Any]]:
        """Every partnership: key, title, phase, parent, current members.

        ``on``: the phase and members as they stood on that date (a partnership proposed
        after it is left out); ``as_of``: only those recorded by that time, as the ledger
        then said. Both compose.
        """
        day = parse_on(on) if on is not None else None
        views = (self._shown(p, day) for p in self._recorded("partnership", as_of))
        return [
            {
                "key": v["key"],
                "title": v["title"],
                "phase": v["phase"],
                "parent": v["parent"],
                "members": v["current_members"],
                "currency": v["currency"],
            }
            for v in views
            if day is None or v["proposed_on"] <= day
        ]
