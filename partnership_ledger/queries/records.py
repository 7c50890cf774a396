"""What was recorded, and what changed: the history of operations, the stored events and
their exports (a journal, 360Giving, OCDS), facts replayed at a recorded time, ``diff`` and
``info`` (a mixin of :class:`~partnership_ledger.application.PartnershipLedger`)."""

from __future__ import annotations

import decimal
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import StoredEvent

from ..errors import InvalidArgument as LedgerValueError
from ..errors import UnknownKey
from ..journal import to_json_value
from ..projections import queries
from ..projections.facts import FactStore, PartnershipFact
from ..projections.fold import fold
from ..projections.history import HISTORY_COLUMNS, history_where, with_info
from ..storage import reads
from ..storage.setup import storage_info
from .indicators import IndicatorQueries, parse_as_of, parse_on
from .operations import event_to_operation

if TYPE_CHECKING:
    from ..projections import Projections

#: The columns of a history entry, in order (then ``corrected_by``).
HISTORY_FIELDS = (*HISTORY_COLUMNS, "corrects")


class RecordQueries(IndicatorQueries):
    """History, stored events, exports, replays, diff and info of a ledger."""

    mapper: Any
    location: str
    backend: str
    projections: Projections
    read_model_error: str | None
    vault: Callable[..., Any]

    def history(
        self,
        key: str | None = None,
        party: str | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        *,
        ops: Iterable[str] | None = None,
        include_children: bool = False,
        recorded_since: datetime | str | None = None,
        recorded_until: datetime | str | None = None,
        on: date | str | None = None,
        as_of: datetime | date | str | None = None,
    ) -> list[dict[str, Any]]:
        """Every recorded operation, oldest first, optionally filtered.

        ``key``: the thing itself, and for a partnership everything recorded on it (its
        agreements, contributions, targets, evaluations; with ``include_children`` its
        sub-partnerships' too); for a party everything that names it. ``party``: operations
        naming that party. ``since``/``until``: effective dates, inclusive (pledges count on
        their day: the first day of their fiscal year unless they gave one). ``on``: as things
        stood on that date (effective on or before it); ``as_of``: what was recorded by then.
        Each entry: position, recorded_at, effective, op, kind, key, partnership, actor,
        recorded_by, note, summary, op_id, corrects (what a void or re-dating corrects) and
        corrected_by (the operations that corrected it).
        """
        if on is not None:
            day = parse_on(on)
            until = day if until is None else min(parse_on(until), day)
        if as_of is not None:
            stamp = parse_as_of(as_of)
            recorded_until = stamp if recorded_until is None else min(parse_as_of(recorded_until), stamp)
        kind: str | None = None
        keys: list[str] = []
        if key is not None:
            kind = self.kind_of(key)
            if kind is None:
                raise UnknownKey(f"there is nothing named {key} in the ledger")
            keys = [key, *(self.children(key) if kind == "partnership" and include_children else [])]
        where, params = history_where(self.db, kind, keys, party)
        bounds = {
            "effective >=": since,
            "effective <=": until,
            "recorded_at >=": recorded_since,
            "recorded_at <=": recorded_until,
        }
        for bound, value in bounds.items():
            if value is not None:
                where.append(f"h.{bound} ?")
                params.append(value.isoformat() if isinstance(value, date) else value)
        if ops is not None:
            op_list = list(ops)
            where.append(f"h.op IN ({','.join('?' * len(op_list))})")
            params += op_list
        columns = ", ".join("k.corrects" if f == "corrects" else f"h.{f}" for f in HISTORY_FIELDS)
        sql = f"SELECT {columns} FROM rm_history h LEFT JOIN rm_corrections k ON k.position = h.position"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY h.position"
        until_text = recorded_until.isoformat() if isinstance(recorded_until, datetime) else recorded_until
        with self.db.transaction(commit=False) as c:
            c.execute(sql, params)
            rows = [dict(zip(HISTORY_FIELDS, row, strict=True)) for row in c.fetchall()]
            # What corrected each (a void, a re-dating), from the small table of corrections.
            corrected_by: dict[str, list[str]] = {}
            c.execute(
                "SELECT corrects, op_id, recorded_at FROM rm_corrections WHERE corrects IS NOT NULL ORDER BY position"
            )
            for corrects, by_op, recorded in c.fetchall():
                if until_text is not None and str(recorded) > until_text:
                    continue  # recorded after the time asked for (--as-of)
                corrected_by.setdefault(corrects, []).append(by_op)
        for row in rows:
            amount, currency = row.pop("amount"), row.pop("currency")
            row["corrected_by"] = corrected_by.get(row["op_id"], [])
            # A pledge's or delivery's value, a correction's delta (None for other operations).
            row["amount"] = None if amount is None else decimal.Decimal(amount)
            row["currency"] = currency
        return rows

    def stored_events(self) -> Iterator[tuple[int, Any]]:
        """Every stored event in notification order, as (position, domain event)."""
        position = 0
        while rows := reads.event_rows(self.db, position, 2000):
            for position, oid, version, topic, state in rows:
                yield (
                    position,
                    self.mapper.to_domain_event(StoredEvent(uuid.UUID(str(oid)), version, topic, bytes(state))),
                )

    def export_operations(self, progress: Callable[[int], None] | None = None) -> Iterator[dict[str, Any]]:
        """The ledger as journal operations (JSON-ready), in the order they were recorded.

        ``progress``, if given, is called with 1 for each stored event read.
        """
        from ..privacy.reveal import reveal_operation

        keys: dict[uuid.UUID, str] = {}
        vault = self.vault()
        for _, event in self.stored_events():
            if progress is not None:
                progress(1)
            key = getattr(event, "key", None)
            if event.originator_version == 1 and isinstance(key, str):
                keys[event.originator_id] = key
            op = event_to_operation(event, keys.get(event.originator_id, ""))
            if op is not None:
                yield to_json_value(reveal_operation(op, vault))

    # -- standard exports (docs/standards.md) ---------------------------------------------------

    def export_360giving(
        self,
        *,
        partnership: str | None = None,
        fiscal_year: int | None = None,
        id_prefix: str | None = None,
        data_source: str | None = None,
        publisher: str | None = None,
    ) -> dict[str, Any]:
        """The ledger's money pledges as a 360Giving 1.4.3 package.

        Returns ``{"package": {...}, "left_out": [{"kind", "key", "reason", ...}]}``: the
        package (amounts as Decimal: write them with
        :func:`partnership_ledger.standards.jsonout.dumps`) and what it could not carry.
        """
        from ..standards.giving360 import DEFAULT_ID_PREFIX, grants_package

        return grants_package(
            self.stored_events(),
            partnership=partnership,
            fiscal_year=fiscal_year,
            id_prefix=id_prefix or DEFAULT_ID_PREFIX,
            data_source=data_source,
            publisher=publisher,
        )

    def export_ocds(
        self,
        *,
        ocid_prefix: str | None = None,
        publisher: str | None = None,
        uri: str | None = None,
    ) -> dict[str, Any]:
        """The ledger's agreements as OCDS 1.1.5 contracting processes.

        Returns ``{"release_package": {...}, "record_package": {...}, "left_out": [...]}``:
        one release per change of each agreement, and a record per agreement with its
        releases and compiled release.
        """
        from ..standards.ocds import DEFAULT_OCID_PREFIX, ocds_export

        return ocds_export(
            self.stored_events(),
            ocid_prefix=ocid_prefix or DEFAULT_OCID_PREFIX,
            publisher=publisher or "partnership-ledger",
            uri=uri,
        )

    # -- indicators ----------------------------------------------------------------------------

    def replay_facts(self, as_of: datetime | date | str | None = None) -> FactStore:
        """Facts computed by replaying every event recorded up to ``as_of`` (all if None)."""
        until = parse_as_of(as_of) if as_of is not None else None
        events = (e for _, e in self.stored_events() if until is None or e.timestamp <= until)
        return fold(with_info(events))

    def diff(
        self,
        partnership: str,
        from_time: datetime | date | str,
        to_time: datetime | date | str,
        *,
        include_children: bool = False,
        by: str = "recorded",
        on: date | str | None = None,
    ) -> dict[str, Any]:
        """What changed in a partnership between two times.

        ``by="recorded"`` (the default): the operations recorded in ``(from_time, to_time]``,
        and each indicator (balance, voice, targets, evaluations) as the ledger stated it at
        each of the two recorded times (``on``, if given, views both on that date).
        ``by="effective"``: the two are dates: the operations that took effect in
        ``(from_time, to_time]``, and each indicator as things stood on each date, by
        everything recorded so far.
        """
        if by not in ("recorded", "effective"):
            raise LedgerValueError(f"by must be recorded or effective, not {by!r}")
        effective = by == "effective"
        parse = parse_on if effective else parse_as_of
        first, last = parse(from_time), parse(to_time)
        if last < first:
            raise LedgerValueError(f"--to ({last.isoformat()}) is before --from ({first.isoformat()})")
        start_text, end_text = first.isoformat(), last.isoformat()
        if effective:  # both dates by everything recorded so far
            before, after = self._facts_for(None, first), self._facts_for(None, last)
        else:  # as the ledger stated it at both times
            before, after = self._facts_for(first, on), self._facts_for(last, on)
        column = "effective" if effective else "recorded_at"

        def in_window(h: dict[str, Any]) -> bool:
            return h[column] is not None and start_text < str(h[column]) <= end_text

        children = self._children_for(partnership, include_children)

        def indicators(store: FactStore) -> dict[str, Any]:
            if store.get(PartnershipFact, partnership) is None:
                return {"exists": False}
            return {
                "exists": True,
                "balance": queries.burden_balance(store, partnership, children=children),
                "voice": queries.voice(store, partnership, children=children),
                "targets": queries.target_progress(store, partnership, children=children),
                "evaluations": queries.evaluation_summary(store, partnership, children=children),
            }

        events = [h for h in self.history(partnership, include_children=include_children) if in_window(h)]
        return {
            "partnership": partnership,
            "by": by,
            "from": start_text,
            "to": end_text,
            "on": None if on is None or by == "effective" else parse_on(on).isoformat(),
            "operations": events,
            "before": indicators(before),
            "after": indicators(after),
        }

    def event_count(self) -> int:
        return reads.event_count(self.db)

    def last_position(self) -> int:
        return reads.last_position(self.db)

    def info(self) -> dict[str, Any]:
        """Where the ledger is, what it holds, and how it is stored."""
        last = self.last_position()
        tracked = self.projections.position()
        return {
            "location": (self.location if self.backend == "postgresql" else os.path.abspath(self.location)),
            "backend": self.backend,
            "events": self.event_count(),
            "last_position": last,
            "read_model_position": tracked,
            "read_model_lag": last - tracked,
            "read_model_error": self.read_model_error,
            **storage_info(self.db),
            "parties": len(self.keys("party")),
            "partnerships": len(self.keys("partnership")),
        }
