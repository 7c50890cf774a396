"""The facts the read models keep: one record a thing (party, partnership, agreement,
contribution, target, evaluation...), the amounts by bucket, and the store protocol.

The fold (:mod:`.fold`) writes them to a :class:`FactStore`; the query functions
(:mod:`.queries`) read them back, from the database (:mod:`.sqlstore`) or from memory
(:mod:`.memory_facts`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, TypeVar

import attrs

from ..domain.agreement import unsigned_parties
from ..domain.values import EXACT, Money

ZERO = Decimal(0)
#: What an amendment that took effect changes in an agreement's fact.
AGREEMENT_TERMS = ("title", "shares", "start", "end", "fiscal_year_start")


@attrs.frozen
class PartyFact:
    """A party's particulars with every amendment (``name``, ``sector``, ``capacity``), and
    what they were at registration (``registered``, once amended) with each amendment, to
    read them as they stood on a day (:meth:`as_on`)."""

    key: str
    name: str
    sector: str
    capacity: Money | None
    amendments: list[dict[str, Any]] = attrs.field(factory=list)  # {"on", "reason", "changes"}
    registered: dict[str, Any] | None = None

    def as_on(self, day: date | None) -> PartyFact:
        """The party as it stood on ``day`` (amendments taking effect later left out)."""
        if not self.amendments or day is None:
            return self
        fields = dict(self.registered or {})
        for a in sorted(self.amendments, key=lambda a: a["on"]):
            if a["on"] <= day:
                fields.update(a["changes"])
        return attrs.evolve(
            self,
            name=fields.get("name", self.name),
            sector=fields.get("sector", self.sector),
            capacity=fields.get("capacity"),
        )


@attrs.frozen
class SpellFact:
    partnership: str
    party: str
    role: str | None
    joined: date
    left: date | None = None


@attrs.frozen
class DecisionFact:
    partnership: str
    key: str
    subject: str
    on: date
    proposed_by: str
    rule: str
    votes: dict[str, str]
    adopted: bool


@attrs.frozen
class AgreementFact:
    key: str
    partnership: str
    title: str
    seq: int  # order of drafting: the latest applicable agreement gives the agreed shares
    parties: list[str]
    shares: dict[str, Decimal] | None
    start: date
    end: date
    fiscal_year_start: int
    signatures: dict[str, date]
    terminated_on: date | None = None
    amendments: list[dict[str, Any]] = attrs.field(factory=list)
    #: The terms as drafted (:data:`AGREEMENT_TERMS`), kept once an amendment changes them.
    drafted: dict[str, Any] | None = None

    def with_terms(self) -> AgreementFact:
        """This agreement with its terms as drafted, changed by each amendment in effect in
        the order they took effect."""
        if self.drafted is None:
            return self
        terms = dict(self.drafted)
        effective = [m for m in self.amendments if m["effective_on"] is not None]
        for m in sorted(effective, key=lambda m: m.get("effective_seq") or 0):
            terms.update({k: v for k, v in m["changes"].items() if k in AGREEMENT_TERMS})
        return attrs.evolve(self, **terms)

    @property
    def fully_signed(self) -> bool:
        return not unsigned_parties(self.parties, self.signatures)


class ContributionFact(NamedTuple):
    """A pledged resource and what became of it (a named tuple, as the read models store it:
    the fold makes a new one for every pledge and delivery)."""

    key: str
    partnership: str
    party: str
    agreement: str | None
    kind: str
    instrument: str | None
    fiscal_year: int
    fiscal_year_start: int  # of its agreement when pledged (April without one)
    currency: str
    pledged: Decimal
    delivered: Decimal = ZERO
    withdrawn: Decimal = ZERO
    quantity: Decimal | None = None
    unit: str | None = None
    valuation_basis: str | None = None
    description: str | None = None

    def with_amounts(self, delivered: Decimal, withdrawn: Decimal) -> ContributionFact:
        """This contribution with other delivered and withdrawn amounts (what a delivery, a
        correction or a withdrawal changes: the fold's most frequent change of a fact)."""
        return ContributionFact(*self[:10], delivered, withdrawn, *self[12:])


#: In-kind contributions of one party, kind, unit and valuation basis, as the report groups
#: them: (party, kind, unit, valuation basis, how many, their quantities, pledged, withdrawn
#: and delivered amounts), the amounts as Decimals or decimal strings for exact sums. A
#: store may return one such row a contribution or several contributions a row.
InKindRow = tuple[str, str, str | None, str | None, int, list[Any], list[Any], list[Any], list[Any]]


def in_kind_row(c: ContributionFact) -> InKindRow:
    quantities = [] if c.quantity is None else [c.quantity]
    return (c.party, c.kind, c.unit, c.valuation_basis, 1, quantities, [c.pledged], [c.withdrawn], [c.delivered])


class BucketKey(NamedTuple):
    """Where an amount is counted: partnership, party, fiscal year, kind, instrument, currency."""

    partnership: str
    party: str
    fiscal_year: int
    kind: str
    instrument: str  # "" when not money or not stated
    currency: str


class Bucket(NamedTuple):
    pledged: Decimal = ZERO
    withdrawn: Decimal = ZERO
    delivered: Decimal = ZERO

    def plus(self, pledged: Decimal, withdrawn: Decimal, delivered: Decimal) -> Bucket:
        add = EXACT.add
        return Bucket(add(self.pledged, pledged), add(self.withdrawn, withdrawn), add(self.delivered, delivered))


@attrs.frozen
class MeasurementFact:
    period: str
    value: Decimal
    source: str
    on: date


@attrs.frozen
class TargetFact:
    key: str
    partnership: str
    indicator: str
    unit: str
    direction: str
    baseline_period: str
    baseline_value: Decimal
    targets: list[tuple[str, Decimal]]
    measurements: list[MeasurementFact] = attrs.field(factory=list)
    revisions: list[dict[str, Any]] = attrs.field(factory=list)


@attrs.frozen
class SubmissionFact:
    evaluator: str
    role: str
    party: str | None
    scores: dict[str, int]
    comment: str | None
    comment_public: bool
    on: date


@attrs.frozen
class EvaluationFact:
    key: str
    partnership: str
    period: str
    criteria: list[str]
    scale_max: int
    resident_weight: Decimal
    closed_on: date | None = None
    submissions: list[SubmissionFact] = attrs.field(factory=list)


@attrs.frozen
class PartnershipFact:
    key: str
    title: str
    purpose: str
    parent: str | None
    proposed_by: str
    proposed_on: date
    phase: str = "preparing"
    activated_on: date | None = None
    concluded_on: date | None = None


T = TypeVar("T")

#: The facts kept one document a thing, by the name ``rm_facts`` stores them under.
DOCUMENTS: dict[type[Any], str] = {
    PartyFact: "party",
    PartnershipFact: "partnership",
    AgreementFact: "agreement",
    TargetFact: "target",
    EvaluationFact: "evaluation",
}
#: The documents that carry items appended to them: the field, and the items' kind.
CARRIED: dict[type[Any], tuple[str, type[Any]]] = {
    TargetFact: ("measurements", MeasurementFact),
    EvaluationFact: ("submissions", SubmissionFact),
}


class FactStore(Protocol):
    """Where the fold keeps its facts; read back by the query functions.

    Documents (:data:`DOCUMENTS`) and contributions are put whole and read by key, or all
    of one partnership (in drafting order, then by key). Items are appended to an owner: a
    partnership's spells and decisions, a target's measurements and an evaluation's
    submissions (which its document carries when read: :data:`CARRIED`); a void replaces or
    removes one by its index among its owner's. Amounts are summed by bucket and by day.
    """

    def put(self, fact: Any) -> None: ...
    def get(self, kind: type[T], key: str) -> T | None: ...
    def of(self, kind: type[T], partnership: str) -> list[T]: ...
    def add(self, owner: str, item: Any) -> None: ...
    def items(self, kind: type[T], owner: str) -> list[T]: ...
    def replace(self, kind: type[Any], owner: str, index: int, item: Any | None) -> None: ...
    def count_contributions(self, partnership: str) -> int: ...
    def in_kind_rows(self, partnership: str) -> list[InKindRow]: ...
    def add_amounts(
        self, key: BucketKey, day: date, pledged: Decimal, withdrawn: Decimal, delivered: Decimal
    ) -> None: ...
    def buckets(self, partnership: str) -> list[tuple[BucketKey, Bucket]]: ...
    def buckets_on(self, partnership: str, day: date) -> list[tuple[BucketKey, Bucket]]: ...


def with_items(store: FactStore, fact: T) -> T:
    """A document with the items its store keeps apart (a target's measurements, an
    evaluation's submissions); any other fact as it is."""
    carried = CARRIED.get(type(fact))
    if carried is None:
        return fact
    field, kind = carried
    return attrs.evolve(fact, **{field: store.items(kind, fact.key)})  # type: ignore[misc, attr-defined]


def in_order(facts: Iterable[T]) -> list[T]:
    """Facts of one partnership in the order :meth:`FactStore.of` gives them."""
    return sorted(facts, key=lambda f: (getattr(f, "seq", 0), f.key))  # type: ignore[attr-defined]


def must(found: Any, what: str) -> Any:
    """``found``, which is there (a fact an event's aggregate made before it)."""
    if found is None:  # pragma: no cover - events always follow their aggregate's creation
        raise LookupError(what)
    return found
