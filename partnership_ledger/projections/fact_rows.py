"""The facts' read model: its tables, the facts kept as JSON documents (Decimal as strings:
exact), the rows of contributions, decisions, measurements and submissions made from facts
and back, and :class:`FactsModel`, which folds events into a store of them for the runner."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from ..domain.values import Money
from ..storage.db import Cursor
from . import fact_records as F
from .facts import FOLDED_EVENTS, FOLDS, apply_event
from .runner import AggregateInfo, Item

if TYPE_CHECKING:
    from .sqlstore import SqlFactStore

#: The records kept as documents, by class name (every attrs class of :mod:`.fact_records`).
_CLASSES: dict[str, type[Any]] = {
    name: c for name, c in vars(F).items() if isinstance(c, type) and attrs.has(c) and c.__module__ == F.__name__
}


def _enc(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):  # pragma: no cover - facts hold dates only
        raise TypeError("datetime in a fact")
    if isinstance(value, date):
        return {"$t": value.isoformat()}
    if isinstance(value, Money):
        return {"$m": [str(value.amount), value.currency]}
    if attrs.has(type(value)):
        return {
            "$c": type(value).__name__,
            **{f.name: _enc(getattr(value, f.name)) for f in attrs.fields(type(value))},
        }
    if isinstance(value, dict):
        return {"$o": [[k, _enc(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"$l": [_enc(v) for v in value], "t": isinstance(value, tuple)}
    return value


def _dec(value: Any) -> Any:
    if isinstance(value, dict):
        if "$d" in value:
            return Decimal(value["$d"])
        if "$t" in value:
            return date.fromisoformat(value["$t"])
        if "$m" in value:
            return Money(Decimal(value["$m"][0]), value["$m"][1])
        if "$c" in value:
            cls = _CLASSES[value["$c"]]
            return cls(**{k: _dec(v) for k, v in value.items() if k != "$c"})
        if "$o" in value:
            return {k: _dec(v) for k, v in value["$o"]}
        if "$l" in value:
            items = [_dec(v) for v in value["$l"]]
            return tuple(items) if value.get("t") else items
    return value


def dumps(fact: Any) -> str:
    return json.dumps(_enc(fact), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return _dec(json.loads(text))


KIND_OF_FACT = {
    F.PartyFact: "party",
    F.PartnershipFact: "partnership",
    F.AgreementFact: "agreement",
    F.TargetFact: "target",
    F.EvaluationFact: "evaluation",
}

TABLES = (
    "CREATE TABLE IF NOT EXISTS rm_facts (kind TEXT NOT NULL, key TEXT NOT NULL, partnership TEXT, "
    "seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, key))",
    "CREATE INDEX IF NOT EXISTS rm_facts_partnership ON rm_facts (kind, partnership)",
    "CREATE TABLE IF NOT EXISTS rm_spells (partnership TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, "
    "PRIMARY KEY (partnership, seq))",
    "CREATE TABLE IF NOT EXISTS rm_decisions (partnership TEXT NOT NULL, seq BIGINT NOT NULL, key TEXT NOT NULL, "
    "subject TEXT, day TEXT NOT NULL, proposed_by TEXT, rule TEXT, votes TEXT NOT NULL, adopted INTEGER NOT NULL, "
    "PRIMARY KEY (partnership, seq))",
    "CREATE TABLE IF NOT EXISTS rm_measurements (target TEXT NOT NULL, seq BIGINT NOT NULL, period TEXT NOT NULL, "
    "value TEXT NOT NULL, source TEXT, day TEXT NOT NULL, PRIMARY KEY (target, seq))",
    "CREATE TABLE IF NOT EXISTS rm_submissions (evaluation TEXT NOT NULL, seq BIGINT NOT NULL, evaluator TEXT, "
    "role TEXT, party TEXT, scores TEXT NOT NULL, comment TEXT, comment_public INTEGER NOT NULL, day TEXT NOT NULL, "
    "PRIMARY KEY (evaluation, seq))",
    "CREATE TABLE IF NOT EXISTS rm_contributions (key TEXT PRIMARY KEY, partnership TEXT, party TEXT, "
    "agreement TEXT, kind TEXT, instrument TEXT, fiscal_year INTEGER, fiscal_year_start INTEGER, "
    "currency TEXT, pledged TEXT, delivered TEXT, withdrawn TEXT, quantity TEXT, unit TEXT, "
    "valuation_basis TEXT, description TEXT) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS rm_contributions_partnership ON rm_contributions (partnership)",
    "CREATE TABLE IF NOT EXISTS rm_buckets (partnership TEXT NOT NULL, party TEXT NOT NULL, "
    "fiscal_year INTEGER NOT NULL, kind TEXT NOT NULL, instrument TEXT NOT NULL, currency TEXT NOT NULL, "
    "pledged TEXT NOT NULL, withdrawn TEXT NOT NULL, delivered TEXT NOT NULL, "
    "PRIMARY KEY (partnership, party, fiscal_year, kind, instrument, currency)) WITHOUT ROWID",
    # The same amounts by effective day, for "how things stood on a date" (--on): a balance
    # on a day sums the rows of its partnership up to that day.
    "CREATE TABLE IF NOT EXISTS rm_amounts (partnership TEXT NOT NULL, day TEXT NOT NULL, party TEXT NOT NULL, "
    "fiscal_year INTEGER NOT NULL, kind TEXT NOT NULL, instrument TEXT NOT NULL, currency TEXT NOT NULL, "
    "pledged TEXT NOT NULL, withdrawn TEXT NOT NULL, delivered TEXT NOT NULL, "
    "PRIMARY KEY (partnership, day, party, fiscal_year, kind, instrument, currency)) WITHOUT ROWID",
)
TABLE_NAMES = (
    "rm_facts",
    "rm_spells",
    "rm_decisions",
    "rm_measurements",
    "rm_submissions",
    "rm_contributions",
    "rm_buckets",
    "rm_amounts",
)


def contribution_row(c: F.ContributionFact) -> tuple[Any, ...]:
    """The ``rm_contributions`` row of a contribution: its amounts as decimal strings."""
    quantity = None if c.quantity is None else str(c.quantity)
    return (*c[:9], str(c.pledged), str(c.delivered), str(c.withdrawn), quantity, *c[13:])


def contribution_from_row(row: tuple[Any, ...]) -> F.ContributionFact:
    """The contribution of an ``rm_contributions`` row (:func:`contribution_row`'s inverse)."""
    quantity = None if row[12] is None else Decimal(row[12])
    return F.ContributionFact._make(
        (*row[:9], Decimal(row[9]), Decimal(row[10]), Decimal(row[11]), quantity, *row[13:])
    )


def decision_row(d: F.DecisionFact, seq: int) -> tuple[Any, ...]:
    votes = json.dumps(d.votes, ensure_ascii=False, separators=(",", ":"))
    return (d.partnership, seq, d.key, d.subject, d.on.isoformat(), d.proposed_by, d.rule, votes, int(d.adopted))


def decision_from_row(partnership: str, row: tuple[Any, ...]) -> F.DecisionFact:
    key, subject, day, proposed_by, rule, votes, adopted = row
    return F.DecisionFact(
        partnership, key, subject, date.fromisoformat(day), proposed_by, rule, json.loads(votes), bool(adopted)
    )


def measurement_row(target: str, seq: int, m: F.MeasurementFact) -> tuple[Any, ...]:
    return (target, seq, m.period, str(m.value), m.source, m.on.isoformat())


def measurement_from_row(row: tuple[Any, ...]) -> F.MeasurementFact:
    period, value, source, day = row
    return F.MeasurementFact(period, Decimal(value), source, date.fromisoformat(day))


def submission_row(evaluation: str, seq: int, s: F.SubmissionFact) -> tuple[Any, ...]:
    scores = json.dumps(s.scores, ensure_ascii=False, separators=(",", ":"))
    return (evaluation, seq, s.evaluator, s.role, s.party, scores, s.comment, int(s.comment_public), s.on.isoformat())


def submission_from_row(row: tuple[Any, ...]) -> F.SubmissionFact:
    evaluator, role, party, scores, comment, public, day = row
    return F.SubmissionFact(evaluator, role, party, json.loads(scores), comment, bool(public), date.fromisoformat(day))


#: The names of the events whose fold reads their contribution (by the aggregate's key).
_READ_CONTRIBUTION = frozenset(
    ("ResourceContribution.Delivered", "ResourceContribution.Corrected", "ResourceContribution.Withdrawn")
)


class FactsModel:
    """Adapts the fold and the SQL store to the projection runner."""

    tables = TABLES
    table_names = TABLE_NAMES
    event_names = FOLDED_EVENTS

    def __init__(self, store: SqlFactStore) -> None:
        self.store = store

    def begin(self, c: Cursor) -> None:
        self.store.begin(c)

    def resume(self, c: Cursor) -> None:
        self.store.resume(c)

    def release(self) -> None:
        self.store.release()

    def end(self) -> None:
        self.store.flush()

    def abort(self) -> None:
        self.store.abort()

    def apply(self, c: Cursor, position: int, recorded_at: datetime, event: Any, info: AggregateInfo) -> None:
        self.store.position = position
        apply_event(self.store, event, info)

    def apply_all(self, c: Cursor, items: Iterable[Item]) -> None:
        store, folds = self.store, FOLDS
        items = list(items)
        # The contributions the batch's deliveries, corrections and withdrawals change, read
        # a few hundred at a time rather than one by one as the fold meets them.
        reading = _READ_CONTRIBUTION
        store.prefetch_contributions([info.key for _, e, info in items if type(e).__qualname__ in reading])
        for position, event, info in items:
            store.position = position
            folds[type(event).__qualname__](store, event, info)  # (the runner gives only folded events)
