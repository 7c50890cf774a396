"""The index of aggregates and the history of operations, for ``show`` and ``history``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from ..domain import aggregate_id
from ..domain.values import Money, OpMeta
from ..queries.operations import (
    CORRECTION_OPS,
    EVENT_OPS,
    acting_party,
    effective_date,
    event_meta,
    event_name,
    event_to_operation,
    parties_involved,
    summarize,
)
from ..storage.db import Cursor, Db
from .runner import AggregateInfo, Item
from .sqlstore import iso_day

_Row = tuple[tuple[Any, ...], list[str]]  # a row of rm_history, and the parties involved

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
        "key TEXT, partnership TEXT, party TEXT, parent TEXT) WITHOUT ROWID",
        # No secondary index: a history by partnership or party reads the whole table (one row
        # an aggregate, a few ms for 30,000), which costs less than keeping an index in order
        # at every import (see :func:`history_where`).
    )
    table_names = ("rm_aggregates",)
    #: Creation events: the only ones this model reads (it places the others).
    event_names = frozenset(name for name, (_, key_field) in EVENT_OPS.items() if key_field is None)
    #: How many aggregates' infos are kept in memory between batches (the most recently
    #: placed); the others are read back from ``rm_aggregates`` when an event needs them.
    CACHE_SIZE = 20_000

    def __init__(self) -> None:
        self._cache: dict[int, AggregateInfo] = {}  # by originator id (as an int)
        self._new: list[tuple[Any, ...]] = []
        self._c: Cursor | None = None

    def begin(self, c: Cursor) -> None:
        self._c = c
        self._new.clear()

    def end(self) -> None:
        assert self._c is not None
        if self._new:
            self._new.sort()  # in key order: each page of the index is visited once
            self._c.executemany(
                "INSERT INTO rm_aggregates VALUES (?,?,?,?,?,?) ON CONFLICT (originator_id) DO NOTHING",
                self._new,
            )
            self._new.clear()
        self._c = None
        self._trim()

    def abort(self) -> None:
        self._new.clear()
        self._c = None

    def _trim(self) -> None:
        # Keep memory bounded over a rebuild of millions of events: forget the oldest half.
        # Only between batches: an aggregate created in the batch is not in the table yet.
        cache = self._cache
        if len(cache) > self.CACHE_SIZE:
            for oid in list(cache)[: len(cache) - self.CACHE_SIZE // 2]:
                del cache[oid]

    def clear(self) -> None:
        self._cache.clear()

    def info_of(self, c: Cursor, event: Any) -> AggregateInfo:
        found = self._cache.get(event.originator_id.int)  # an int hashes in C, a UUID in Python
        if found is not None:
            return found
        oid = event.originator_id.hex
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
        self._cache[event.originator_id.int] = info
        return info

    def apply_all(self, c: Cursor, items: Iterable[Item]) -> None:
        names = self.event_names
        self._new.extend(
            (event.originator_id.hex, info.kind, info.key, info.partnership, info.party, info.parent)
            for _, event, info, _ in items
            if type(event).__qualname__ in names
        )

    def apply(self, c: Cursor, position: int, recorded_at: datetime, event: Any, info: AggregateInfo) -> None:
        if type(event).__qualname__ in self.event_names:
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
    """Every operation with its position, recorded time, effective date, summary and actor.

    ``rm_history`` has no index by key or partnership: the operations on an aggregate (a key,
    or every aggregate of a partnership through ``rm_aggregates``) are found by the events
    table's own index of originator ids (see :func:`history_where`); only an agreement's, a few
    among many derived events, have a (small, partial) index. ``rm_history_parties`` holds the
    parties each operation involves, except a contribution's owner (every operation on a
    contribution involves it): that one is found through ``rm_aggregates`` too.
    """

    tables = (
        "CREATE TABLE IF NOT EXISTS rm_history (position INTEGER PRIMARY KEY, recorded_at TEXT, "
        "effective TEXT, op TEXT, kind TEXT, key TEXT, partnership TEXT, actor TEXT, "
        "recorded_by TEXT, note TEXT, summary TEXT, op_id TEXT)",
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

    @staticmethod
    def applied_up_to(c: Cursor) -> int | None:
        """The last position the history holds (see runner.ReadModel)."""
        c.execute("SELECT MAX(position) FROM rm_history")
        row = c.fetchone()
        return int(row[0]) if row and row[0] is not None else None

    #: Every event that records an operation (derived bookkeeping is not in the history).
    event_names = frozenset(EVENT_OPS)

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []
        self._parties: list[tuple[str, int]] = []
        self._corrections: list[tuple[Any, ...]] = []
        self._c: Cursor | None = None

    def begin(self, c: Cursor) -> None:
        self._c = c
        self._rows.clear()
        self._parties.clear()
        self._corrections.clear()

    def _note_correction(self, row: tuple[Any, ...], event: Any) -> None:
        if row[3] in CORRECTION_OPS:
            # position, op_id, corrects, op, kind, key, partnership, reason, recorded_at, effective, summary
            corrects = getattr(event, "operation", None)
            reason = getattr(event, "reason", None)
            self._corrections.append((row[0], row[11], corrects, *row[3:7], reason, row[1], row[2], row[10]))

    def end(self) -> None:
        assert self._c is not None
        if self._corrections:
            self._c.executemany("INSERT INTO rm_corrections VALUES (?,?,?,?,?,?,?,?,?,?,?)", self._corrections)
            self._corrections.clear()
        if self._rows:
            self._c.executemany("INSERT INTO rm_history VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", self._rows)
        if self._parties:
            self._parties.sort()  # in key order: each page of the table is visited once
            self._c.executemany("INSERT INTO rm_history_parties VALUES (?,?)", self._parties)
        self._c = None

    def apply_all(self, c: Cursor, items: Iterable[Item]) -> None:
        rows, parties, fast = self._rows, self._parties, _FAST_ROWS
        add_row = rows.append
        for position, event, info, stamp in items:
            name = type(event).__qualname__
            # The recorded time as the stored event holds it, when the runner has that text
            # (what isoformat would make of the decoded time: a fifth of making a row).
            recorded_at = stamp if stamp is not None else event.timestamp.isoformat()
            if name == _DELIVERED:
                # The most frequent event: its row alone (the one party it involves is the
                # contribution's owner, which rm_history_parties leaves out).
                add_row(_delivery_line(position, recorded_at, event, info))
                continue
            made = fast.get(name, history_row)(position, recorded_at, event, info)
            if made is not None:  # else derived bookkeeping
                rows.append(made[0])
                if name in _CORRECTIONS:
                    self._note_correction(made[0], event)
                owner = info.party if info.kind == "contribution" else None
                for party in made[1]:
                    if party != owner:  # a contribution's owner: found through rm_aggregates
                        parties.append((party, position))

    def apply(self, c: Cursor, position: int, recorded_at: datetime, event: Any, info: AggregateInfo) -> None:
        made = _FAST_ROWS.get(type(event).__qualname__, history_row)(position, recorded_at.isoformat(), event, info)
        if made is None:
            return  # derived bookkeeping: shown as part of the operation that caused it
        self._rows.append(made[0])
        if type(event).__qualname__ in _CORRECTIONS:
            self._note_correction(made[0], event)
        owner = info.party if info.kind == "contribution" else None
        self._parties.extend((party, position) for party in made[1] if party != owner)


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


def history_row(position: int, recorded_at: str, event: Any, info: AggregateInfo) -> _Row | None:
    """The ``rm_history`` row of an event and the parties it involves (None if derived);
    ``recorded_at``: the event's timestamp in ISO format (``event.timestamp.isoformat()``)."""
    op = event_to_operation(event, info.key)
    if op is None:
        return None
    owner = info.party if info.kind == "contribution" else None
    effective = effective_date(op)
    meta = event_meta(event)
    row = (
        position,
        recorded_at,
        effective.isoformat() if effective else None,
        op["op"],
        info.kind,
        info.key,
        info.partnership,
        acting_party(op, owner) or (meta.by if meta else None),
        meta.by if meta else None,
        meta.note if meta else None,
        summarize(op, owner),
        meta.op_id if meta else None,
    )
    return row, parties_involved(op, owner)


# The history rows of the three most frequent operations (most of a large ledger's events),
# made straight from the event: the same rows as :func:`history_row`, which first turns the
# event back into its journal operation (tests/test_history_rows.py holds them equal).


def _pledge_row(position: int, recorded_at: str, e: Any, info: AggregateInfo) -> _Row:
    meta = getattr(e, "meta", None)
    by, note, op_id = (meta.by, meta.note, meta.op_id) if isinstance(meta, OpMeta) else (None, None, None)
    under = f" under {e.agreement}" if e.agreement else ""
    how = f" as {e.instrument.value}" if e.instrument else ""
    v = e.value
    # !s: what an f-string makes of a Decimal (str), a few times faster than its __format__.
    money = f"{v.amount!s} {v.currency}" if isinstance(v, Money) else str(v)
    summary = (
        f"{e.party} pledged {money} of {e.kind_of_resource.value}{how} to "
        f"{e.partnership} for fiscal year {e.fiscal_year}{under} ({e.key})"
    )
    party = e.party if isinstance(e.party, str) else None
    owner = info.party if info.kind == "contribution" else None
    row = (
        position,
        recorded_at,
        # Its day; a pledge recorded before pledges had one: the first day of its fiscal year.
        iso_day(e.on) if getattr(e, "on", None) is not None else f"{e.fiscal_year:04d}-04-01",
        "pledge",
        info.kind,
        info.key,
        info.partnership,
        (party if party is not None else owner) or by,
        by,
        note,
        summary,
        op_id,
    )
    parties = [] if party is None else [party]
    if owner and owner != party:
        parties.append(owner)
    return row, parties


def _deliver_row(position: int, recorded_at: str, e: Any, info: AggregateInfo) -> _Row:
    owner = info.party if info.kind == "contribution" else None
    return _delivery_line(position, recorded_at, e, info), [owner] if owner else []


def _delivery_line(position: int, recorded_at: str, e: Any, info: AggregateInfo) -> tuple[Any, ...]:
    """The ``rm_history`` row of a delivery (see :func:`_deliver_row`)."""
    meta = getattr(e, "meta", None)
    by, note, op_id = (meta.by, meta.note, meta.op_id) if isinstance(meta, OpMeta) else (None, None, None)
    owner = info.party if info.kind == "contribution" else None
    v = e.value
    money = f"{v.amount!s} {v.currency}" if isinstance(v, Money) else str(v)
    on = e.on
    key = info.key
    return (
        position,
        recorded_at,
        iso_day(on) if isinstance(on, date) else None,
        "deliver",
        info.kind,
        key,
        info.partnership,
        owner or by,
        by,
        note,
        f"{owner} delivered {money} on contribution {key}" if owner else f"delivered {money} on contribution {key}",
        op_id,
    )


def _decision_row(position: int, recorded_at: str, e: Any, info: AggregateInfo) -> _Row:
    meta = getattr(e, "meta", None)
    by, note, op_id = (meta.by, meta.note, meta.op_id) if isinstance(meta, OpMeta) else (None, None, None)
    votes = e.votes
    cast = [v.value for v in votes.values()]
    summary = (
        f"decision {e.key} on {e.subject!r} ({e.rule.value}; proposed by {e.proposed_by}; "
        f"{cast.count('for')} for, {cast.count('against')} against, {cast.count('abstain')} abstaining)"
    )
    on = e.on
    proposer = e.proposed_by if isinstance(e.proposed_by, str) else None
    row = (
        position,
        recorded_at,
        on.isoformat() if isinstance(on, date) else None,
        "record_decision",
        info.kind,
        info.key,
        info.partnership,
        proposer or by,
        by,
        note,
        summary,
        op_id,
    )
    parties = dict.fromkeys([proposer] if proposer is not None else [])
    parties.update(dict.fromkeys(votes))
    return row, list(parties)


def _measured_row(position: int, recorded_at: str, e: Any, info: AggregateInfo) -> _Row | None:
    if getattr(e, "derived", False) or not isinstance(e.on, date):  # pragma: no cover - not made so
        return history_row(position, recorded_at, e, info)
    meta = getattr(e, "meta", None)
    by, note, op_id = (meta.by, meta.note, meta.op_id) if isinstance(meta, OpMeta) else (None, None, None)
    row = (
        position,
        recorded_at,
        e.on.isoformat(),
        "record_measurement",
        info.kind,
        info.key,
        info.partnership,
        by,
        by,
        note,
        f"target {info.key} measured {e.value} for {e.period} ({e.source})",
        op_id,
    )
    return row, []


def _submitted_row(position: int, recorded_at: str, e: Any, info: AggregateInfo) -> _Row | None:
    if getattr(e, "derived", False) or not isinstance(e.on, date):  # pragma: no cover - not made so
        return history_row(position, recorded_at, e, info)
    meta = getattr(e, "meta", None)
    by, note, op_id = (meta.by, meta.note, meta.op_id) if isinstance(meta, OpMeta) else (None, None, None)
    party = e.party if isinstance(e.party, str) else None
    role = e.role.value
    who = e.party if role == "party" else f"a {role} evaluator"
    row = (
        position,
        recorded_at,
        e.on.isoformat(),
        "submit_evaluation",
        info.kind,
        info.key,
        info.partnership,
        party or by,
        by,
        note,
        f"{who} submitted to evaluation {info.key}",
        op_id,
    )
    return row, [] if party is None else [party]


_DELIVERED = "ResourceContribution.Delivered"
#: The events that record a correction (their rows also go to ``rm_corrections``).
_CORRECTIONS = frozenset(name for name, (op, _) in EVENT_OPS.items() if op in CORRECTION_OPS)

_FAST_ROWS: dict[str, Callable[[int, str, Any, AggregateInfo], _Row | None]] = {
    "ResourceContribution.Pledged": _pledge_row,
    "ResourceContribution.Delivered": _deliver_row,
    "Partnership.DecisionRecorded": _decision_row,
    "NumericTarget.Measured": _measured_row,
    "Evaluation.Submitted": _submitted_row,
}
