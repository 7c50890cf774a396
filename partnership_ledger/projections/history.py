"""The index of aggregates and the history of operations, for ``show`` and ``history``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from ..operations import (
    EVENT_OPS,
    acting_party,
    effective_date,
    event_meta,
    event_name,
    event_to_operation,
    parties_involved,
    summarize,
)
from ..storage.db import Cursor
from .runner import AggregateInfo

KIND_OF_CLASS = {
    "Party": "party",
    "Partnership": "partnership",
    "Agreement": "agreement",
    "ResourceContribution": "contribution",
    "NumericTarget": "target",
    "Evaluation": "evaluation",
}


def creation_info(event: Any) -> AggregateInfo | None:
    """The info of a new aggregate, from its creation event (None for other events)."""
    name = event_name(event)
    if name in EVENT_OPS and EVENT_OPS[name][1] is None:
        kind = KIND_OF_CLASS[name.split(".")[0]]
        partnership = event.key if kind == "partnership" else getattr(event, "partnership", None)
        return AggregateInfo(
            kind,
            event.key,
            partnership,
            getattr(event, "party", None),
            getattr(event, "parent", None),
        )
    return None


def with_info(events: Iterable[Any]) -> Iterator[tuple[Any, AggregateInfo]]:
    """Pair each event with its aggregate's info, from the events alone (for replays)."""
    infos: dict[Any, AggregateInfo] = {}
    for event in events:
        info = creation_info(event)
        if info is not None:
            infos[event.originator_id] = info
        known = infos.get(event.originator_id)
        # An event whose aggregate's creation was left out (an as_of cut between processes
        # whose clocks disagree) cannot be placed: leave it out too.
        if known is not None:
            yield event, known


class AggregateIndex:
    """Which aggregate an originator id is: kind, key, partnership, party, parent."""

    tables = (
        "CREATE TABLE IF NOT EXISTS rm_aggregates (originator_id TEXT PRIMARY KEY, kind TEXT, "
        "key TEXT, partnership TEXT, party TEXT, parent TEXT)",
        "CREATE INDEX IF NOT EXISTS rm_aggregates_partnership ON rm_aggregates (partnership)",
    )
    table_names = ("rm_aggregates",)

    def __init__(self) -> None:
        self._cache: dict[str, AggregateInfo] = {}
        self._new: list[tuple[Any, ...]] = []
        self._c: Cursor | None = None

    def begin(self, c: Cursor) -> None:
        self._c = c
        self._new.clear()

    def end(self) -> None:
        assert self._c is not None
        if self._new:
            self._c.executemany(
                "INSERT INTO rm_aggregates VALUES (?,?,?,?,?,?) ON CONFLICT (originator_id) DO NOTHING",
                self._new,
            )
        self._c = None

    def clear(self) -> None:
        self._cache.clear()

    def info_of(self, c: Cursor, event: Any) -> AggregateInfo:
        oid = event.originator_id.hex
        found = self._cache.get(oid)
        if found is not None:
            return found
        name = event_name(event)
        if name in EVENT_OPS and EVENT_OPS[name][1] is None:
            kind = KIND_OF_CLASS[name.split(".")[0]]
            partnership = event.key if kind == "partnership" else getattr(event, "partnership", None)
            info = AggregateInfo(
                kind,
                event.key,
                partnership,
                getattr(event, "party", None),
                getattr(event, "parent", None),
            )
        else:
            c.execute(
                "SELECT kind, key, partnership, party, parent FROM rm_aggregates WHERE originator_id=?",
                (oid,),
            )
            row = c.fetchone()
            if row is None:  # pragma: no cover - an event before its aggregate's creation
                raise LookupError(f"no aggregate {oid} for event {name}")
            info = AggregateInfo(*row)
        self._cache[oid] = info
        return info

    def apply(self, c: Cursor, position: int, recorded_at: datetime, event: Any, info: AggregateInfo) -> None:
        name = event_name(event)
        if name in EVENT_OPS and EVENT_OPS[name][1] is None:
            self._new.append(
                (
                    event.originator_id.hex,
                    info.kind,
                    info.key,
                    info.partnership,
                    info.party,
                    info.parent,
                )
            )


class HistoryModel:
    """Every operation with its position, recorded time, effective date, summary and actor."""

    tables = (
        "CREATE TABLE IF NOT EXISTS rm_history (position INTEGER PRIMARY KEY, recorded_at TEXT, "
        "effective TEXT, op TEXT, kind TEXT, key TEXT, partnership TEXT, actor TEXT, "
        "recorded_by TEXT, note TEXT, op_id TEXT, summary TEXT)",
        "CREATE INDEX IF NOT EXISTS rm_history_key ON rm_history (key)",
        "CREATE INDEX IF NOT EXISTS rm_history_partnership ON rm_history (partnership)",
        "CREATE TABLE IF NOT EXISTS rm_history_parties (position INTEGER, party TEXT)",
        "CREATE INDEX IF NOT EXISTS rm_history_parties_party ON rm_history_parties (party)",
    )
    table_names = ("rm_history", "rm_history_parties")

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []
        self._parties: list[tuple[int, str]] = []
        self._c: Cursor | None = None

    def begin(self, c: Cursor) -> None:
        self._c = c
        self._rows.clear()
        self._parties.clear()

    def end(self) -> None:
        assert self._c is not None
        if self._rows:
            self._c.executemany("INSERT INTO rm_history VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", self._rows)
        if self._parties:
            self._c.executemany("INSERT INTO rm_history_parties VALUES (?,?)", self._parties)
        self._c = None

    def apply(self, c: Cursor, position: int, recorded_at: datetime, event: Any, info: AggregateInfo) -> None:
        op = event_to_operation(event, info.key)
        if op is None:
            return  # derived bookkeeping: shown as part of the operation that caused it
        owner = info.party if info.kind == "contribution" else None
        effective = effective_date(op)
        meta = event_meta(event)
        self._rows.append(
            (
                position,
                recorded_at.isoformat(),
                effective.isoformat() if effective else None,
                op["op"],
                info.kind,
                info.key,
                info.partnership,
                acting_party(op, owner) or (meta.by if meta else None),
                meta.by if meta else None,
                meta.note if meta else None,
                meta.op_id if meta else None,
                summarize(op, owner),
            )
        )
        self._parties.extend((position, p) for p in parties_involved(op, owner))
