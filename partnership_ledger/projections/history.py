"""The index of aggregates and the history of operations, for ``show`` and ``history``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from ..domain import AGGREGATE_CLASSES, aggregate_id
from ..domain.values import Money, OpMeta
from ..queries.operations import (
    CORRECTION_OPS,
    EVENT_OPS,
    corrects_by_pointer,
    effective_date,
    event_name,
    parties_named,
    summarize,
)
from ..storage.db import Cursor, Db
from .runner import AggregateInfo, Item, ReadModel, trim

_KIND_OF_CLASS = {cls.__name__: kind for kind, cls in AGGREGATE_CLASSES.items()}
#: The kind of aggregate each creation event makes, by the event class's name.
CREATED_KIND = {
    name: _KIND_OF_CLASS[name.split(".")[0]] for name, (_, key_field) in EVENT_OPS.items() if key_field is None
}


#: The columns of ``rm_history`` (:func:`history_row`): the position, then text.
HISTORY_COLUMNS = (
    *("position", "recorded_at", "effective", "op", "kind", "key", "partnership", "actor", "recorded_by", "note"),
    *("summary", "op_id", "amount", "currency"),
)


def creation_info(event: Any) -> AggregateInfo | None:
    """The info of a new aggregate, from its creation event (None for other events)."""
    kind = CREATED_KIND.get(type(event).__qualname__)
    if kind is None:
        return None
    fields = vars(event)
    key = fields["key"]
    partnership = key if kind == "partnership" else fields.get("partnership")
    return AggregateInfo(kind, key, partnership, fields.get("party"), fields.get("parent"))


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


class AggregateIndex(ReadModel):
    """Which aggregate an originator id is: kind, key, partnership, party, parent."""

    tables = (
        "CREATE TABLE IF NOT EXISTS rm_aggregates (originator_id TEXT PRIMARY KEY, kind TEXT, "
        "key TEXT, partnership TEXT, party TEXT, parent TEXT) WITHOUT ROWID",
        # No secondary index: a history by partnership or party reads the whole table (one row
        # an aggregate, a few ms for 30,000), which costs less than keeping an index in order
        # at every import (see :func:`history_where`).
    )
    table_names = ("rm_aggregates",)
    #: Creation events: the only ones this model reads (it places the others).
    event_names = frozenset(CREATED_KIND)
    #: How many aggregates' infos are kept in memory between batches (the most recently
    #: placed); the others are read back from ``rm_aggregates`` when an event needs them.
    CACHE_SIZE = 20_000

    def __init__(self) -> None:
        self._cache: dict[Any, AggregateInfo] = {}  # by originator id

    def apply_all(self, c: Cursor, items: Sequence[Item]) -> None:
        # (Creation events only: see event_names.) In key order: each page is visited once.
        new = sorted((event.originator_id.hex, *info) for _, event, info in items)
        c.executemany("INSERT INTO rm_aggregates VALUES (?,?,?,?,?,?) ON CONFLICT (originator_id) DO NOTHING", new)
        trim(self._cache, self.CACHE_SIZE)  # (the batch's new aggregates are in the table now)

    def clear(self) -> None:
        self._cache.clear()

    def info_of(self, c: Cursor, event: Any) -> AggregateInfo:
        found = self._cache.get(event.originator_id)
        if found is not None:
            return found
        info = creation_info(event)
        if info is None:
            oid = event.originator_id.hex
            c.execute("SELECT kind, key, partnership, party, parent FROM rm_aggregates WHERE originator_id=?", (oid,))
            row = c.fetchone()
            if row is None:  # pragma: no cover - an event before its aggregate's creation
                raise LookupError(f"no aggregate {oid} for event {event_name(event)}")
            info = AggregateInfo(*row)
        self._cache[event.originator_id] = info
        return info


class HistoryModel(ReadModel):
    """Every operation with its position, recorded time, effective date, summary, actor and,
    for a pledge, delivery or correction of a contribution, its amount and currency.

    ``rm_history`` has no index by key or partnership: the operations on an aggregate (a key,
    or every aggregate of a partnership through ``rm_aggregates``) are found by the events
    table's own index of originator ids (see :func:`history_where`); only an agreement's, a few
    among many derived events, have a (small, partial) index. ``rm_history_parties`` holds the
    parties each operation involves, except a contribution's owner (every operation on a
    contribution involves it): that one is found through ``rm_aggregates`` too.
    """

    tables = (
        "CREATE TABLE IF NOT EXISTS rm_history (position INTEGER PRIMARY KEY, "
        f"{' TEXT, '.join(HISTORY_COLUMNS[1:])} TEXT)",
        # An agreement's own operations are few among its events (it counts every contribution
        # under it, derived bookkeeping that is not history): they are looked up here instead.
        "CREATE INDEX IF NOT EXISTS rm_history_agreement ON rm_history (key) WHERE kind = 'agreement'",
        # Looked up by party only: the table is its own index (no rowid, no second B-tree).
        "CREATE TABLE IF NOT EXISTS rm_history_parties (party TEXT NOT NULL, position BIGINT NOT NULL, "
        "PRIMARY KEY (party, position)) WITHOUT ROWID",
        # The corrections (few): what each corrects, for history's links and the reports.
        "CREATE TABLE IF NOT EXISTS rm_corrections (position BIGINT PRIMARY KEY, op_id TEXT, corrects TEXT, "
        "op TEXT, kind TEXT, key TEXT, partnership TEXT, reason TEXT, recorded_at TEXT, effective TEXT, "
        "summary TEXT)",
        "CREATE INDEX IF NOT EXISTS rm_corrections_corrects ON rm_corrections (corrects)",
    )
    table_names = ("rm_history", "rm_history_parties", "rm_corrections")

    #: Every event that records an operation (derived bookkeeping is not in the history).
    event_names = frozenset(EVENT_OPS)

    def apply_all(self, c: Cursor, items: Sequence[Item]) -> None:
        rows, parties, corrections = [], [], []
        for position, event, info in items:
            made = history_row(position, event.timestamp, event, info)
            if made is None:
                continue  # derived bookkeeping: shown as part of the operation that caused it
            row, named = made
            rows.append(row)
            if row[3] in CORRECTION_OPS:
                # position, op_id, corrects, op, kind, key, partnership, reason, recorded_at, effective, summary
                corrects, reason = getattr(event, "operation", None), getattr(event, "reason", None)
                corrections.append((row[0], row[11], corrects, *row[3:7], reason, row[1], row[2], row[10]))
            # A contribution's owner is found through rm_aggregates (see the class's docstring).
            owner = info.party if info.kind == "contribution" else None
            parties += [(party, position) for party in named if party != owner]
        c.executemany("INSERT INTO rm_corrections VALUES (?,?,?,?,?,?,?,?,?,?,?)", corrections)
        c.executemany(f"INSERT INTO rm_history VALUES ({','.join('?' * len(HISTORY_COLUMNS))})", rows)
        parties.sort()  # in key order: each page of the table is visited once
        c.executemany("INSERT INTO rm_history_parties VALUES (?,?)", parties)


def _events_of(db: Db, aggregates: str) -> str:
    """SQL: the positions of the events of the aggregates that the SQL ``aggregates`` selects
    (as ``a``, from ``rm_aggregates``), found by the events table's index of originator ids."""
    oid = "a.originator_id" if db.backend == "sqlite" else "CAST(a.originator_id AS uuid)"
    return f"SELECT e.{db.position_col} FROM {aggregates} JOIN {db.events_table} e ON e.originator_id = {oid}"


def _originator_param(db: Db, kind: str, key: str) -> Any:
    """The events table's originator id of the aggregate of ``kind`` named ``key``."""
    oid = aggregate_id(kind, key)
    return oid.hex if db.backend == "sqlite" else oid


def history_where(db: Db, kind: str | None, keys: Sequence[str], party: str | None) -> tuple[list[str], list[Any]]:
    """The conditions (on ``rm_history h``) and parameters that select the history of
    ``keys`` (each of ``kind``; for a partnership, with every aggregate of it; for a party,
    with every operation that names it) and of the operations that name ``party``."""
    where: list[str] = []
    params: list[Any] = []
    if keys:
        assert kind is not None
        if kind == "partnership":
            # Every aggregate of these partnerships (a partnership is its own partnership).
            marks = ",".join("?" * len(keys))
            where.append(f"h.position IN ({_events_of(db, 'rm_aggregates a')} WHERE a.partnership IN ({marks}))")
            params += keys
        else:
            (key,) = keys
            own = f"SELECT {db.position_col} FROM {db.events_table} WHERE originator_id = ?"
            if kind == "party":
                where.append(f"h.position IN ({own} UNION ALL {_naming(db)})")
                params += [_originator_param(db, kind, key), key, key]
            elif kind == "agreement":
                where.append("h.kind = 'agreement' AND h.key = ?")  # (the partial index's condition)
                params.append(key)
            else:
                where.append(f"h.position IN ({own})")
                params.append(_originator_param(db, kind, key))
    if party is not None:
        where.append(f"h.position IN ({_naming(db)})")
        params += [party, party]
    return where, params


def _naming(db: Db) -> str:
    """SQL: the positions of the operations that name a party (the parameter, twice)."""
    owned = _events_of(db, "rm_aggregates a")
    return (
        "SELECT position FROM rm_history_parties WHERE party = ? "
        f"UNION ALL {owned} WHERE a.party = ? AND a.kind = 'contribution'"
    )


def history_row(
    position: int, recorded_at: datetime, event: Any, info: AggregateInfo
) -> tuple[tuple[Any, ...], list[str]] | None:
    """The ``rm_history`` row of an event and the parties its operation names (None for
    derived bookkeeping, which records no operation of its own), made from the event's fields."""
    found = EVENT_OPS.get(type(event).__qualname__)
    if found is None:
        return None
    op_name, key_field = found
    fields = vars(event)
    kind, key, partnership, party, _ = info
    owner = party if kind == "contribution" else None
    effective = effective_date(op_name, fields)
    meta = fields.get("meta")
    by, note, op_id = (meta.by, meta.note, meta.op_id) if isinstance(meta, OpMeta) else (None, None, None)
    parties: list[str] = []
    if corrects_by_pointer(op_name, fields):
        actor, money = None, None  # it names only what it corrects
    else:
        actor, parties = parties_named(key_field, key, fields)
        money = fields.get("value") or fields.get("delta")  # a pledge's or delivery's value, a correction's delta
    amount, currency = (str(money.amount), money.currency) if isinstance(money, Money) else (None, None)
    if owner and owner not in parties:
        parties.append(owner)
    row = (
        position,
        recorded_at.isoformat(),
        effective.isoformat() if effective else None,
        op_name,
        kind,
        key,
        partnership,
        actor or owner or by,
        by,
        note,
        summarize(op_name, fields, key, owner),
        op_id,
        amount,
        currency,
    )
    return row, parties
