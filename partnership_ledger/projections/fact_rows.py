"""The facts' tables: the documents as JSON (Decimal as strings: exact), and the rows of
contributions and of the items appended to an owner (:data:`ITEM_TABLES`), made from facts
and back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from ..domain.values import Money
from . import facts as F

#: The records kept as documents, by class name (every attrs class of :mod:`.facts`).
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


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dumps(fact: Any) -> str:
    return _json(_enc(fact))


def loads(text: str) -> Any:
    return _dec(json.loads(text))


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
#: The tables those statements make.
TABLE_NAMES = tuple(s.split()[5] for s in TABLES if s.startswith("CREATE TABLE"))


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


#: How a field is kept in its column, by the field's type: to the column's value, and back
#: (text and whole numbers as they are).
_CONVERSIONS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "Decimal": (str, Decimal),
    "date": (date.isoformat, date.fromisoformat),
    "bool": (int, bool),
    "dict[str, str]": (_json, json.loads),
    "dict[str, int]": (_json, json.loads),
}


def _same(value: Any) -> Any:
    return value


class ItemTable:
    """Where the items of one kind are kept: the table, its owner's column, and the rows.

    A row is the owner, the item's number among the owner's (``seq``), then the item: its
    fields a column each (the owner's own field, a decision's partnership, is the first
    column: not again), or one JSON document (``document``)."""

    def __init__(self, kind: type[Any], name: str, owner: str, *, document: bool = False) -> None:
        self.kind, self.name, self.owner = kind, name, owner
        fields = [] if document else [f for f in attrs.fields(kind) if f.name != owner]
        self.columns = [(f.name, *_CONVERSIONS.get(str(f.type), (_same, _same))) for f in fields]
        self.owned = owner in attrs.fields_dict(kind)  # the item has its owner's field

    def row(self, owner: str, seq: int, item: Any) -> tuple[Any, ...]:
        if not self.columns:
            return (owner, seq, dumps(item))
        return (owner, seq, *(to(getattr(item, name)) for name, to, _ in self.columns))

    def item(self, row: tuple[Any, ...]) -> Any:
        """The item of a row (:meth:`row`'s inverse)."""
        if not self.columns:
            return loads(row[2])
        fields = {name: back(value) for (name, _, back), value in zip(self.columns, row[2:], strict=True)}
        if self.owned:
            fields[self.owner] = row[0]
        return self.kind(**fields)


ITEM_TABLES: dict[type[Any], ItemTable] = {
    F.SpellFact: ItemTable(F.SpellFact, "rm_spells", "partnership", document=True),
    F.DecisionFact: ItemTable(F.DecisionFact, "rm_decisions", "partnership"),
    F.MeasurementFact: ItemTable(F.MeasurementFact, "rm_measurements", "target"),
    F.SubmissionFact: ItemTable(F.SubmissionFact, "rm_submissions", "evaluation"),
}
